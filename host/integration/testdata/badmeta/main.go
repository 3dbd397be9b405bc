// Command badmeta is a plugin whose metadata is invalid: the host must
// refuse it with the reason.
package main

import (
	"context"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

type io struct {
	X float64 `json:"x"`
}

func main() {
	plugin.Serve(sdk.NewModel(sdk.Info{
		QualifiedName: "Bad Name!",
		DisplayName:   "Bad metadata",
		Version:       "one",
	}, func(context.Context, io) (io, error) { return io{}, nil }))
}
