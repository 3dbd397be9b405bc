package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/sdk/plugin"
)

// checkOutput checks that a model's output is one JSON document and, if
// the model has a compiled output schema, that it satisfies it. A bad
// output is the plugin's fault: the error matches plugin.ErrProtocol (502)
// and says, for the log, what is wrong. The output is parsed once: parsing
// for the schema also proves it is JSON. A valid output is usually checked
// as it is read (fastCheck), without building a document.
func checkOutput(schema *jsonschema.Schema, model string, out []byte) error {
	if schema == nil {
		if !json.Valid(out) {
			return notJSON(model, out)
		}
		return nil
	}
	if fastCheck(schema, out) {
		return nil
	}
	doc, err := parseOutput(out)
	if err != nil {
		return notJSON(model, out)
	}
	if fastValid(schema, doc) {
		return nil
	}
	if err := schema.Validate(doc); err != nil {
		return &OutputError{Model: model, Err: err}
	}
	return nil
}

func notJSON(model string, out []byte) error {
	return fmt.Errorf("%w: model %s returned an output that is not valid JSON (%d bytes)", plugin.ErrProtocol, model, len(out))
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

// parseOutput parses a model's output as jsonschema.UnmarshalJSON does. An
// output that parseJSON's one-pass parser accepts (valid UTF-8, I-JSON) is
// read by it, to the same document, for less; any other output by
// jsonschema.UnmarshalJSON, which is more lenient.
func parseOutput(out []byte) (any, error) {
	if utf8.Valid(out) {
		if doc, ok := fastParse(out, nil); ok {
			return doc, nil
		}
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(out))
}
