// Command testmodel is a plugin whose behaviour each request chooses, so
// that integration tests can provoke every kind of model failure.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

type input struct {
	Action  string `json:"action" jsonschema:"enum=echo,enum=sleep,enum=fail,enum=panic,enum=reject,enum=exit,enum=log,enum=version"`
	Millis  int    `json:"millis,omitempty" jsonschema:"minimum=0,maximum=600000"`
	Message string `json:"message,omitempty" jsonschema:"maxLength=10000000"`
}

type output struct {
	Message string `json:"message"`
}

// version is the model's version; tests that serve several versions set
// it at build time: go build -ldflags "-X main.version=2.0.0".
var version = "0.1.0"

func main() {
	plugin.Serve(sdk.NewModel(sdk.Info{
		QualifiedName: "testmodel",
		DisplayName:   "Test model",
		Description:   "Misbehaves on request, for integration tests.",
		Version:       version,
	}, predict, sdk.WithExamples(input{Action: "echo", Message: "hi"})))
}

func predict(ctx context.Context, in input) (output, error) {
	switch in.Action {
	case "sleep":
		// The log lines let a test see that the prediction reached the
		// model, and that the model saw its context end (message is the
		// test's marker).
		sdk.Logger(ctx).Info("sleep started", "marker", in.Message)
		select {
		case <-time.After(time.Duration(in.Millis) * time.Millisecond):
		case <-ctx.Done():
			sdk.Logger(ctx).Info("sleep interrupted", "marker", in.Message, "reason", ctx.Err().Error())
			return output{}, ctx.Err()
		}
	case "fail":
		return output{}, errors.New("secret internal detail: database password is hunter2")
	case "panic":
		panic("secret panic detail")
	case "reject":
		return output{}, sdk.InvalidInput("the model refuses this message", sdk.FieldError{Pointer: "/message", Detail: "must not be rude"})
	case "exit":
		os.Exit(7)
	case "log":
		sdk.Logger(ctx).Info("log line from the model", "marker", in.Message)
	case "version":
		return output{Message: version}, nil
	}
	return output{Message: in.Message}, nil
}
