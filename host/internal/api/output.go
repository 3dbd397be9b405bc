package api

import (
	"bytes"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/sdk/plugin"
)

// checkOutput validates a model's output against the model's compiled
// output schema. An output that does not match is the plugin's fault: the
// error matches plugin.ErrProtocol (502) and says, for the log, how it
// fails the schema. A nil schema accepts anything.
func checkOutput(schema *jsonschema.Schema, model string, out []byte) error {
	if schema == nil {
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		return &OutputError{Model: model, Err: fmt.Errorf("parse: %w", err)}
	}
	if err := schema.Validate(doc); err != nil {
		return &OutputError{Model: model, Err: err}
	}
	return nil
}

// OutputError is an output that does not satisfy the model's own output
// schema.
type OutputError struct {
	Model string
	Err   error
}

func (e *OutputError) Error() string {
	return fmt.Sprintf("model %s answered an output that does not match its output schema: %v", e.Model, e.Err)
}

// Unwrap returns plugin.ErrProtocol.
func (e *OutputError) Unwrap() error { return plugin.ErrProtocol }

// PublicDetail is what the client is told.
func (e *OutputError) PublicDetail() string {
	return "the model answered an output that does not match its own output schema; the error has been logged"
}
