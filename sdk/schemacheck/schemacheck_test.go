package schemacheck_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

type echoIn struct {
	Text string `json:"text" jsonschema:"description=Any text"`
}

type echoOut struct {
	Length int `json:"length" jsonschema:"minimum=0"`
}

var echoInfo = sdk.Info{QualifiedName: "echo", DisplayName: "Echo", Version: "1.0.0"}

func newEcho() sdk.MLModel {
	return sdk.NewModel(echoInfo, func(_ context.Context, in echoIn) (echoOut, error) {
		return echoOut{Length: len(in.Text)}, nil
	}, sdk.WithExamples(echoIn{Text: "hello"}))
}

// handModel implements sdk.MLModel by hand, for schemas NewModel would
// never produce.
type handModel struct {
	info    sdk.Info
	in, out json.RawMessage
}

func (m handModel) Info() sdk.Info                { return m.info }
func (m handModel) InputSchema() json.RawMessage  { return m.in }
func (m handModel) OutputSchema() json.RawMessage { return m.out }
func (m handModel) Predict(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
	return input, nil
}

func TestModel(t *testing.T) {
	valid := newEcho()
	tests := []struct {
		name    string
		model   sdk.MLModel
		wantErr string // substring; "" means no error
	}{
		{name: "valid", model: valid},
		{name: "boolean schemas", model: handModel{info: echoInfo, in: json.RawMessage(`true`), out: json.RawMessage(` false `)}},
		{name: "invalid metadata", model: handModel{info: sdk.Info{QualifiedName: "Bad Name", DisplayName: "x", Version: "1.0.0"}, in: valid.InputSchema(), out: valid.OutputSchema()}, wantErr: "qualified name"},
		{name: "input schema not JSON", model: handModel{info: echoInfo, in: json.RawMessage(`{`), out: valid.OutputSchema()}, wantErr: "input schema: parse schema"},
		{name: "output schema does not compile", model: handModel{info: echoInfo, in: valid.InputSchema(), out: json.RawMessage(`{"type":"nonsense"}`)}, wantErr: "output schema: compile schema"},
		{name: "input schema does not compile", model: handModel{info: echoInfo, in: json.RawMessage(`{"type":7}`), out: valid.OutputSchema()}, wantErr: "input schema: compile schema"},
		{name: "external reference refused", model: handModel{info: echoInfo, in: json.RawMessage(`{"$ref":"https://example.com/schema.json"}`), out: valid.OutputSchema()}, wantErr: "only references inside the schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schemacheck.Model(tt.model)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Model() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Model() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		doc    string
		valid  bool
	}{
		// Draft 2020-12 by default: prefixItems constrains the first item.
		{"default draft is 2020-12", `{"prefixItems":[{"type":"string"}]}`, `[1]`, false},
		// A document that names an older draft is compiled as that draft,
		// in which an array "items" constrains the first item.
		{"$schema is respected", `{"$schema":"http://json-schema.org/draft-07/schema#","items":[{"type":"string"}]}`, `[1]`, false},
		{"$schema is respected, valid", `{"$schema":"http://json-schema.org/draft-07/schema#","items":[{"type":"string"}]}`, `["a"]`, true},
		{"reference into $defs", `{"$defs":{"n":{"type":"number"}},"$ref":"#/$defs/n"}`, `"x"`, false},
		{"reference into $defs, valid", `{"$defs":{"n":{"type":"number"}},"$ref":"#/$defs/n"}`, `1.5`, true},
		{"boolean schema", `true`, `{"any":"thing"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := schemacheck.Compile(json.RawMessage(tt.schema))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tt.schema, err)
			}
			var v any
			if err := json.Unmarshal([]byte(tt.doc), &v); err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(v); (err == nil) != tt.valid {
				t.Errorf("Compile(%s).Validate(%s) = %v, want valid %t", tt.schema, tt.doc, err, tt.valid)
			}
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, tt := range []struct{ schema, wantErr string }{
		{``, "parse schema"},
		{`{"type":`, "parse schema"},
		{`{"type":"nonsense"}`, "compile schema"},
		{`{"$ref":"https://example.com/schema.json"}`, "schema references https://example.com/schema.json: only references inside the schema are allowed"},
		{`{"$ref":"other.json"}`, "only references inside the schema are allowed"},
	} {
		_, err := schemacheck.Compile(json.RawMessage(tt.schema))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Compile(%q) = %v, want an error containing %q", tt.schema, err, tt.wantErr)
		}
	}
}
