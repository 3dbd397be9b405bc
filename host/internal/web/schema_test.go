package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// row is the part of a Field that the tests compare.
type row struct {
	Depth       int
	Name        string
	Path        string
	Type        string
	Required    bool
	Enum        string
	Constraints string
	Default     string
	Example     string
	Note        string
}

func rows(fields []Field) []row {
	var out []row
	for _, f := range fields {
		out = append(out, row{
			Depth: f.Depth, Name: f.Name, Path: f.Path, Type: f.Type, Required: f.Required,
			Enum: strings.Join(f.Enum, "|"), Constraints: strings.Join(f.Constraints, "; "),
			Default: f.Default, Example: f.Example, Note: f.Note,
		})
	}
	return out
}

const sentimentInput = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": {
    "Document": {
      "properties": {
        "id": {"type": "string", "maxLength": 200, "examples": ["review-1"]},
        "text": {"type": "string", "maxLength": 10000, "minLength": 1, "description": "English text."}
      },
      "additionalProperties": false, "type": "object", "required": ["text"]
    },
    "Options": {
      "properties": {
        "negation": {"type": "boolean", "default": true},
        "neutral_threshold": {"type": "number", "maximum": 5, "minimum": 0, "default": 0.05}
      },
      "additionalProperties": false, "type": "object"
    }
  },
  "properties": {
    "documents": {"items": {"$ref": "#/$defs/Document"}, "type": "array", "maxItems": 100, "minItems": 1},
    "granularity": {"type": "string", "enum": ["document", "sentence"], "default": "document"},
    "options": {"$ref": "#/$defs/Options", "description": "Optional settings."}
  },
  "additionalProperties": false, "type": "object", "required": ["documents"],
  "examples": [{"documents": [{"text": "Good."}]}]
}`

func TestSchemaViewNested(t *testing.T) {
	v := NewSchemaView(json.RawMessage(sentimentInput))
	want := []row{
		{Depth: 0, Name: "documents", Path: "documents", Type: "array of Document objects", Required: true, Constraints: "1 to 100 items", Note: "Each item has these fields:"},
		{Depth: 1, Name: "id", Path: "documents[].id", Type: "string", Constraints: "at most 200 characters", Example: "review-1"},
		{Depth: 1, Name: "text", Path: "documents[].text", Type: "string", Required: true, Constraints: "1 to 10000 characters"},
		{Depth: 0, Name: "granularity", Path: "granularity", Type: "string", Enum: "document|sentence", Default: "document"},
		{Depth: 0, Name: "options", Path: "options", Type: "Options (object)"},
		{Depth: 1, Name: "negation", Path: "options.negation", Type: "boolean", Default: "true"},
		{Depth: 1, Name: "neutral_threshold", Path: "options.neutral_threshold", Type: "number", Constraints: "at least 0; at most 5", Default: "0.05"},
	}
	if diff := cmp.Diff(want, rows(v.Fields)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if v.Fields[4].Description != "Optional settings." {
		t.Errorf("a description beside a $ref: got %q", v.Fields[4].Description)
	}
	if v.Open {
		t.Error("Open set for additionalProperties: false")
	}
	if len(v.Examples) != 1 || !strings.Contains(v.Examples[0], `"text": "Good."`) {
		t.Errorf("examples = %q", v.Examples)
	}
	if !strings.Contains(v.Raw, "\n  \"$defs\": {") {
		t.Errorf("raw schema not indented in order:\n%s", v.Raw)
	}
}

func TestSchemaViewRecursive(t *testing.T) {
	// A tree: each node has children that are nodes. The table lists the
	// structure once and says that it repeats.
	v := NewSchemaView(json.RawMessage(`{
		"$defs": {"Node": {"type": "object", "properties": {
			"name": {"type": "string"},
			"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
			"parent": {"$ref": "#/$defs/Node"}
		}}},
		"type": "object",
		"properties": {"root": {"$ref": "#/$defs/Node"}, "self": {"$ref": "#"}}
	}`))
	want := []row{
		{Depth: 0, Name: "root", Path: "root", Type: "Node (object)"},
		{Depth: 1, Name: "name", Path: "root.name", Type: "string"},
		{Depth: 1, Name: "children", Path: "root.children", Type: "array of Node objects", Note: "Each item has the same structure as the enclosing Node field above."},
		{Depth: 1, Name: "parent", Path: "root.parent", Type: "Node (object)", Note: "The same structure as the enclosing Node field above: it nests recursively."},
		{Depth: 0, Name: "self", Path: "self", Type: "object"},
		{Depth: 1, Name: "root", Path: "self.root", Type: "Node (object)"},
		{Depth: 2, Name: "name", Path: "self.root.name", Type: "string"},
		{Depth: 2, Name: "children", Path: "self.root.children", Type: "array of Node objects", Note: "Each item has the same structure as the enclosing Node field above."},
		{Depth: 2, Name: "parent", Path: "self.root.parent", Type: "Node (object)", Note: "The same structure as the enclosing Node field above: it nests recursively."},
		{Depth: 1, Name: "self", Path: "self.self", Type: "object", Note: "The same structure as the whole document: it nests recursively."},
	}
	if diff := cmp.Diff(want, rows(v.Fields)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestSchemaViewDepthLimit(t *testing.T) {
	// 12 nested objects, no $ref: rows stop at maxFieldDepth.
	schema := `{"type": "string"}`
	for range 12 {
		schema = `{"type": "object", "properties": {"a": ` + schema + `}}`
	}
	v := NewSchemaView(json.RawMessage(schema))
	if len(v.Fields) != maxFieldDepth+1 {
		t.Fatalf("%d rows, want %d", len(v.Fields), maxFieldDepth+1)
	}
	if last := v.Fields[len(v.Fields)-1]; last.Depth != maxFieldDepth || !strings.Contains(last.Note, "deeper") {
		t.Errorf("last row = %+v", last)
	}
}

func TestSchemaViewKinds(t *testing.T) {
	v := NewSchemaView(json.RawMessage(`{
		"type": "object",
		"properties": {
			"tags": {"type": "array", "items": {"type": "string", "minLength": 1, "enum": ["a", "b"]}, "uniqueItems": true},
			"maybe": {"type": ["string", "null"], "format": "date-time"},
			"either": {"anyOf": [{"type": "integer", "multipleOf": 2}, {"type": "string", "pattern": "^x"}]},
			"nullable": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"z": {"type": "integer", "exclusiveMaximum": 3}}}]},
			"fixed": {"const": "v1"},
			"map": {"type": "object", "additionalProperties": {"type": "number"}, "minProperties": 1},
			"matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}, "minItems": 2, "maxItems": 2},
			"anything": {},
			"never": false
		}
	}`))
	want := []row{
		{Name: "tags", Path: "tags", Type: "array of strings", Enum: "a|b", Constraints: "no duplicate items; each item at least 1 character; each item one of the values listed"},
		{Name: "maybe", Path: "maybe", Type: "string or null", Constraints: "format date-time"},
		{Name: "either", Path: "either", Type: "integer or string", Note: "At least one of 2 alternatives:"},
		{Depth: 1, Name: "option 1", Path: "either", Type: "integer", Constraints: "a multiple of 2"},
		{Depth: 1, Name: "option 2", Path: "either", Type: "string", Constraints: "matches the pattern ^x"},
		{Name: "nullable", Path: "nullable", Type: "object or null"},
		{Depth: 1, Name: "z", Path: "nullable.z", Type: "integer", Constraints: "less than 3"},
		{Name: "fixed", Path: "fixed", Type: "string", Constraints: "always v1"},
		{Name: "map", Path: "map", Type: "object", Constraints: "at least 1 property"},
		{Depth: 1, Name: "[any other name]", Path: "map.*", Type: "number"},
		{Name: "matrix", Path: "matrix", Type: "array", Constraints: "exactly 2 items"},
		{Depth: 1, Name: "[each item]", Path: "matrix[]", Type: "array of numbers"},
		{Name: "anything", Path: "anything", Type: "any value"},
		{Name: "never", Path: "never", Type: "not allowed"},
	}
	if diff := cmp.Diff(want, rows(v.Fields)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if !v.Open {
		t.Error("Open not set for an object without additionalProperties: false")
	}
}

func TestSchemaViewWholeDocument(t *testing.T) {
	for _, tt := range []struct {
		schema string
		want   []row
	}{
		{`{"type": "object"}`, []row{{Path: "(the whole input)", Type: "object"}}},
		{`{"type": "array", "items": {"type": "number", "minimum": 0}, "maxItems": 3}`,
			[]row{{Path: "(the whole input)", Type: "array of numbers", Constraints: "at most 3 items; each item at least 0"}}},
		{`true`, []row{{Path: "(the whole input)", Type: "any value"}}},
	} {
		v := NewSchemaView(json.RawMessage(tt.schema))
		if diff := cmp.Diff(tt.want, rows(v.Fields)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.schema, diff)
		}
	}
	if v := NewSchemaView(json.RawMessage(`{"type": `)); v.Err == "" || v.Fields != nil || v.Raw != `{"type": ` {
		t.Errorf("invalid schema: %+v", v)
	}
}

func TestResolvePointer(t *testing.T) {
	root, err := decodeOrdered([]byte(`{"$defs": {"a/b": {"x": 1}, "m~n": [10, {"y": 2}], "sp ace": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"#/$defs/a~1b/x":   "1",
		"#/$defs/m~0n/1/y": "2",
		"#/$defs/sp%20ace": "true",
		"#/$defs/m~0n/5":   "null",
		"#/nope":           "null",
		"other.json#/a":    "null",
		"#anchor":          "null",
	} {
		b, _ := json.Marshal(toPlain(resolvePointer(root, ref)))
		if string(b) != want {
			t.Errorf("resolvePointer(%q) = %s, want %s", ref, b, want)
		}
	}
}
