package openapitest

import (
	"strings"
	"testing"
)

const validDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "t", "version": "1"},
  "paths": {
    "/x": {"post": {
      "requestBody": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/m.Input"},
        "examples": {"one": {"value": {"$ref": "not a reference: data"}}}
      }}},
      "responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/m.Output"}}}},
        "404": {"$ref": "#/components/responses/NotFound"}
      }
    }}
  },
  "components": {
    "schemas": {
      "m.Input": {"type": "object", "properties": {"p": {"$ref": "#/components/schemas/m.Point"}}},
      "m.Point": {"type": "object", "properties": {"x": {"type": "number"}}},
      "m.Output": true
    },
    "responses": {"NotFound": {"description": "not found"}}
  }
}`

func TestValidateAcceptsAValidDocument(t *testing.T) {
	if err := Validate([]byte(validDoc)); err != nil {
		t.Fatal(err)
	}
}

func TestValidateFindsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"broken reference in a component", `"#/components/schemas/m.Point"`, `"#/components/schemas/m.Nowhere"`, "components/schemas/m.Input"},
		{"broken reference in a body", `"#/components/schemas/m.Output"`, `"#/components/schemas/m.Nowhere"`, "/paths/~1x/post/responses/200"},
		{"broken response reference", `"#/components/responses/NotFound"`, `"#/components/responses/Gone"`, "does not resolve"},
		{"invalid schema", `"type": "number"`, `"type": 5`, "metaschema"},
		{"bad component name", `"m.Point": {`, `"m Point": {`, "oas-3.1-schema"},
		{"unknown member", `"description": "ok",`, `"description": "ok", "bogus": 1,`, "oas-3.1-schema"},
		{"wrong version", `"3.1.0"`, `"3.0.3"`, "oas-3.1-schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(validDoc, tc.old, tc.new, 1)
			if doc == validDoc {
				t.Fatalf("%s not in the document", tc.old)
			}
			err := Validate([]byte(doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
