// Command badschema is a plugin whose input schema is a JSON object that
// is not a valid JSON Schema ("type" misspelt). sdk/plugin links no schema
// compiler, so the plugin starts and serves; the host, which compiles every
// model's schemas when it loads the plugin, must refuse the model with the
// reason and stop the process.
package main

import (
	"context"
	"encoding/json"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

type model struct{}

func (model) Info() sdk.Info {
	return sdk.Info{QualifiedName: "bad_schema", DisplayName: "Bad schema", Version: "1.0.0"}
}

func (model) InputSchema() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"x":{"type":"numbr"}},"required":["x"]}`)
}

func (model) OutputSchema() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }

func (model) Predict(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
	return input, nil
}

func main() { plugin.Serve(model{}) }
