// Package schemacheck compiles models' JSON Schemas exactly as the host
// does when it loads a plugin: draft 2020-12 unless a document's "$schema"
// says otherwise, and no references outside the document.
//
// The host uses it to compile every model's schemas at load, and refuses a
// model whose schemas do not compile; sdk/modeltest and a model's own tests
// use it to find such a model before it is deployed:
//
//	func TestSchemas(t *testing.T) {
//		if err := schemacheck.Model(newModel()); err != nil {
//			t.Fatal(err)
//		}
//	}
//
// It is kept out of sdk/plugin so that plugin binaries do not link a JSON
// Schema compiler: the library's package initialisation alone allocates
// about 1.7 MB, in every plugin process, for a compile the host does anyway.
// plugin.Serve checks only what needs no compiler (valid metadata, schemas
// that are JSON objects or booleans).
package schemacheck

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/sdk"
)

// Model reports whether model's metadata is valid and its input and output
// schemas are JSON Schemas that compile: the check the host makes before it
// serves a model.
func Model(model sdk.MLModel) error {
	if err := model.Info().Validate(); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		doc  json.RawMessage
	}{{"input", model.InputSchema()}, {"output", model.OutputSchema()}} {
		if _, err := Compile(s.doc); err != nil {
			return fmt.Errorf("%s schema: %w", s.name, err)
		}
	}
	return nil
}

// Compile compiles a JSON Schema document (draft 2020-12 unless its
// "$schema" says otherwise). References outside the document are refused.
func Compile(doc json.RawMessage) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoader{})
	const url = "mem:///schema.json"
	if err := c.AddResource(url, v); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return s, nil
}

type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references %s: only references inside the schema are allowed", url)
}
