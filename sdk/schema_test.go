package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

type dimensions struct {
	Width  float64 `json:"width" jsonschema:"description=Width in cm,minimum=0"`
	Height float64 `json:"height,omitempty"`
}

type penguin struct {
	Species  string       `json:"species" jsonschema:"description=The species,enum=Adelie,enum=Chinstrap,enum=Gentoo"`
	Flipper  float64      `json:"flipper_length_mm" jsonschema:"title=Flipper length,minimum=150,maximum=250,example=190"`
	Island   string       `json:"island,omitempty" jsonschema:"example=Biscoe,example=Dream"`
	Count    int          `json:"count,omitempty" jsonschema:"exclusiveMinimum=0,default=1"`
	Tags     []string     `json:"tags,omitempty" jsonschema:"minItems=1,maxItems=3"`
	Size     dimensions   `json:"size"`
	History  []dimensions `json:"history,omitempty"`
	Note     string       `json:"note,omitempty" jsonschema:"description=Free text\\, if any,maxLength=100"`
	Comment  string       `json:"comment,omitempty" jsonschema_description:"Commas, here, need no escape"`
	Forced   string       `json:"forced,omitempty" jsonschema:"required"`
	Ignored  string       `json:"-"`
	internal string
}

// pointerGet returns the value at a JSON Pointer in a decoded document.
func pointerGet(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch v := doc.(type) {
		case map[string]any:
			var ok bool
			if doc, ok = v[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			doc = v[i]
		default:
			return nil, false
		}
	}
	return doc, true
}

func decodeJSON(t *testing.T, doc []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return v
}

// compile compiles a reflected schema as the host does.
func compile(t *testing.T, doc json.RawMessage) *jsonschema.Schema {
	t.Helper()
	s, err := schemacheck.Compile(doc)
	if err != nil {
		t.Fatalf("schemacheck.Compile(%s): %v", doc, err)
	}
	return s
}

func penguinModel() *sdk.Model[penguin, dimensions] {
	return sdk.NewModel(validInfo(), func(context.Context, penguin) (dimensions, error) {
		return dimensions{}, nil
	}, sdk.WithExamples(
		penguin{Species: "Adelie", Flipper: 181, Size: dimensions{Width: 3}, Forced: "x"},
		penguin{Species: "Gentoo", Flipper: 217, Size: dimensions{Width: 4, Height: 5}, Tags: []string{"tall"}, Forced: "y"},
	))
}

func TestSchemaForKeywords(t *testing.T) {
	raw, err := sdk.SchemaFor[penguin]()
	if err != nil {
		t.Fatalf("SchemaFor[penguin]() error = %v", err)
	}
	compile(t, raw)
	doc := decodeJSON(t, raw)
	tests := []struct {
		ptr  string
		want any // a value decoded from JSON
	}{
		{"/$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"/type", "object"},
		{"/additionalProperties", false},
		{"/required", []any{"species", "flipper_length_mm", "size", "forced"}},

		{"/properties/species/type", "string"},
		{"/properties/species/description", "The species"},
		{"/properties/species/enum", []any{"Adelie", "Chinstrap", "Gentoo"}},

		{"/properties/flipper_length_mm/type", "number"},
		{"/properties/flipper_length_mm/title", "Flipper length"},
		{"/properties/flipper_length_mm/minimum", 150.0},
		{"/properties/flipper_length_mm/maximum", 250.0},
		{"/properties/flipper_length_mm/examples", []any{190.0}},

		{"/properties/island/examples", []any{"Biscoe", "Dream"}},

		{"/properties/count/type", "integer"},
		{"/properties/count/exclusiveMinimum", 0.0},
		{"/properties/count/default", 1.0},

		{"/properties/tags/type", "array"},
		{"/properties/tags/items", map[string]any{"type": "string"}},
		{"/properties/tags/minItems", 1.0},
		{"/properties/tags/maxItems", 3.0},

		{"/properties/size/$ref", "#/$defs/dimensions"},
		{"/properties/history/type", "array"},
		{"/properties/history/items/$ref", "#/$defs/dimensions"},
		{"/$defs/dimensions/type", "object"},
		{"/$defs/dimensions/additionalProperties", false},
		{"/$defs/dimensions/required", []any{"width"}},
		{"/$defs/dimensions/properties/width/description", "Width in cm"},
		{"/$defs/dimensions/properties/width/minimum", 0.0},
		{"/$defs/dimensions/properties/height/type", "number"},

		{"/properties/note/description", "Free text, if any"},
		{"/properties/note/maxLength", 100.0},
		{"/properties/comment/description", "Commas, here, need no escape"},
	}
	for _, tt := range tests {
		got, ok := pointerGet(doc, tt.ptr)
		if !ok {
			t.Errorf("schema has nothing at %s, want %v", tt.ptr, tt.want)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("schema at %s differs (-want +got):\n%s", tt.ptr, diff)
		}
	}
	for _, ptr := range []string{"/$id", "/$ref", "/examples", "/properties/Ignored", "/properties/ignored", "/properties/internal", "/properties/-"} {
		if got, ok := pointerGet(doc, ptr); ok {
			t.Errorf("schema has %v at %s, want nothing", got, ptr)
		}
	}
	props, _ := pointerGet(doc, "/properties")
	if got, want := len(props.(map[string]any)), 10; got != want {
		t.Errorf("schema has %d properties, want %d", got, want)
	}
}

func TestSchemaForPointerIsStruct(t *testing.T) {
	byValue, err := sdk.SchemaFor[penguin]()
	if err != nil {
		t.Fatal(err)
	}
	byPointer, err := sdk.SchemaFor[*penguin]()
	if err != nil {
		t.Fatalf("SchemaFor[*penguin]() error = %v, want nil", err)
	}
	if diff := cmp.Diff(decodeJSON(t, byValue), decodeJSON(t, byPointer)); diff != "" {
		t.Errorf("SchemaFor[*penguin] differs from SchemaFor[penguin] (-value +pointer):\n%s", diff)
	}
}

func TestSchemaValidatesDocuments(t *testing.T) {
	raw, err := sdk.SchemaFor[penguin]()
	if err != nil {
		t.Fatal(err)
	}
	s := compile(t, raw)
	tests := []struct {
		name  string
		doc   string
		valid bool
	}{
		{"minimal", `{"species":"Adelie","flipper_length_mm":181,"size":{"width":3},"forced":""}`, true},
		{"full", `{"species":"Gentoo","flipper_length_mm":217,"island":"Biscoe","count":2,"tags":["a"],"size":{"width":3,"height":1},"history":[{"width":1}],"note":"n","comment":"c","forced":"f"}`, true},
		{"missing required", `{"species":"Adelie","flipper_length_mm":181,"size":{"width":3}}`, false},
		{"unknown property", `{"species":"Adelie","flipper_length_mm":181,"size":{"width":3},"forced":"","colour":"black"}`, false},
		{"unknown nested property", `{"species":"Adelie","flipper_length_mm":181,"size":{"width":3,"depth":1},"forced":""}`, false},
		{"missing nested required", `{"species":"Adelie","flipper_length_mm":181,"size":{},"forced":""}`, false},
		{"not in enum", `{"species":"Emperor","flipper_length_mm":181,"size":{"width":3},"forced":""}`, false},
		{"below minimum", `{"species":"Adelie","flipper_length_mm":149,"size":{"width":3},"forced":""}`, false},
		{"above maximum", `{"species":"Adelie","flipper_length_mm":251,"size":{"width":3},"forced":""}`, false},
		{"exclusive minimum", `{"species":"Adelie","flipper_length_mm":181,"count":0,"size":{"width":3},"forced":""}`, false},
		{"wrong item type", `{"species":"Adelie","flipper_length_mm":181,"tags":[1],"size":{"width":3},"forced":""}`, false},
		{"too many items", `{"species":"Adelie","flipper_length_mm":181,"tags":["a","b","c","d"],"size":{"width":3},"forced":""}`, false},
		{"fraction for integer", `{"species":"Adelie","flipper_length_mm":181,"count":1.5,"size":{"width":3},"forced":""}`, false},
		{"not an object", `[]`, false},
	}
	for _, tt := range tests {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(tt.doc)))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		err = s.Validate(v)
		if got := err == nil; got != tt.valid {
			t.Errorf("%s: validating %s: got valid %t (%v), want %t", tt.name, tt.doc, got, err, tt.valid)
		}
	}
}

func TestNewModelSchemas(t *testing.T) {
	m := penguinModel()
	in := decodeJSON(t, m.InputSchema())
	out := decodeJSON(t, m.OutputSchema())
	compile(t, m.InputSchema())
	compile(t, m.OutputSchema())

	wantExamples := []any{
		map[string]any{"species": "Adelie", "flipper_length_mm": 181.0, "size": map[string]any{"width": 3.0}, "forced": "x"},
		map[string]any{"species": "Gentoo", "flipper_length_mm": 217.0, "size": map[string]any{"width": 4.0, "height": 5.0}, "tags": []any{"tall"}, "forced": "y"},
	}
	gotExamples, _ := pointerGet(in, "/examples")
	if diff := cmp.Diff(wantExamples, gotExamples); diff != "" {
		t.Errorf("input schema examples differ (-want +got):\n%s", diff)
	}
	// Field-level examples stay where they are.
	if got, _ := pointerGet(in, "/properties/flipper_length_mm/examples"); !cmp.Equal(got, []any{190.0}) {
		t.Errorf("flipper_length_mm examples = %v, want [190]", got)
	}
	// The input schema is SchemaFor's plus the examples.
	plain, err := sdk.SchemaFor[penguin]()
	if err != nil {
		t.Fatal(err)
	}
	delete(in.(map[string]any), "examples")
	if diff := cmp.Diff(decodeJSON(t, plain), in); diff != "" {
		t.Errorf("input schema without examples differs from SchemaFor (-SchemaFor +input):\n%s", diff)
	}

	wantOut := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []any{"width"},
		"properties": map[string]any{
			"width":  map[string]any{"type": "number", "description": "Width in cm", "minimum": 0.0},
			"height": map[string]any{"type": "number"},
		},
	}
	if diff := cmp.Diff(wantOut, out); diff != "" {
		t.Errorf("output schema differs (-want +got):\n%s", diff)
	}
}

func TestNewModelWithoutExamples(t *testing.T) {
	m := sdk.NewModel(validInfo(), func(context.Context, dimensions) (dimensions, error) { return dimensions{}, nil })
	if got, ok := pointerGet(decodeJSON(t, m.InputSchema()), "/examples"); ok {
		t.Errorf("input schema examples = %v, want none", got)
	}
}

// treeNode refers to itself.
type treeNode struct {
	Label    string     `json:"label"`
	Children []treeNode `json:"children,omitempty"`
}

func TestSchemaForRecursiveType(t *testing.T) {
	raw, err := sdk.SchemaFor[treeNode]()
	if err != nil {
		t.Fatalf("SchemaFor[treeNode]() error = %v", err)
	}
	s := compile(t, raw)
	for _, tt := range []struct {
		doc   string
		valid bool
	}{
		{`{"label":"root","children":[{"label":"a","children":[{"label":"b"}]}]}`, true},
		{`{"label":"root","children":[{"label":"a","children":[{"name":"b"}]}]}`, false},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Validate(v) == nil; got != tt.valid {
			t.Errorf("validating %s: got valid %t, want %t", tt.doc, got, tt.valid)
		}
	}
}

// point has the same name as a type declared in
// TestSchemaForDistinctTypesWithOneName.
type point struct {
	X float64 `json:"x"`
}

type box[T any] struct {
	Value T `json:"value"`
}

func TestSchemaForDistinctTypesWithOneName(t *testing.T) {
	type outerPoint = point
	type point struct {
		Name string `json:"name"`
	}
	type input struct {
		A outerPoint      `json:"a"`
		B point           `json:"b"`
		C box[outerPoint] `json:"c"`
		D box[int]        `json:"d"`
	}
	raw, err := sdk.SchemaFor[input]()
	if err != nil {
		t.Fatalf("SchemaFor error = %v", err)
	}
	s := compile(t, raw)
	doc := decodeJSON(t, raw)
	defs, _ := pointerGet(doc, "/$defs")
	if got := len(defs.(map[string]any)); got != 4 {
		t.Errorf("schema has %d definitions, want 4 (two points, two boxes): %s", got, raw)
	}
	for _, tt := range []struct {
		doc   string
		valid bool
	}{
		{`{"a":{"x":1},"b":{"name":"n"},"c":{"value":{"x":2}},"d":{"value":3}}`, true},
		{`{"a":{"name":"n"},"b":{"name":"n"},"c":{"value":{"x":2}},"d":{"value":3}}`, false},
		{`{"a":{"x":1},"b":{"x":1},"c":{"value":{"x":2}},"d":{"value":3}}`, false},
		{`{"a":{"x":1},"b":{"name":"n"},"c":{"value":3},"d":{"value":3}}`, false},
		{`{"a":{"x":1},"b":{"name":"n"},"c":{"value":{"x":2}},"d":{"value":{"x":2}}}`, false},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Validate(v) == nil; got != tt.valid {
			t.Errorf("validating %s: got valid %t, want %t; schema %s", tt.doc, got, tt.valid, raw)
		}
	}
}

func TestSchemaForRejectsNonStructs(t *testing.T) {
	tests := []struct {
		name   string
		schema func() (json.RawMessage, error)
		want   string
	}{
		{"int", sdk.SchemaFor[int], "int is a int, want a struct"},
		{"string", sdk.SchemaFor[string], "want a struct"},
		{"slice of structs", sdk.SchemaFor[[]penguin], "is a slice, want a struct"},
		{"map", sdk.SchemaFor[map[string]float64], "is a map, want a struct"},
		{"pointer to int", sdk.SchemaFor[*int], "int is a int, want a struct"},
		{"interface", sdk.SchemaFor[any], "is a interface, want a struct"},
	}
	for _, tt := range tests {
		got, err := tt.schema()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SchemaFor[%s]() = %s, %v; want an error containing %q", tt.name, got, err, tt.want)
		}
	}
}

func TestNewModelPanicsOnNonStructs(t *testing.T) {
	tests := []struct {
		name string
		make func()
		want string
	}{
		{
			name: "input",
			make: func() {
				sdk.NewModel(validInfo(), func(context.Context, float64) (dimensions, error) { return dimensions{}, nil })
			},
			want: "sdk.NewModel: input type: float64 is a float64, want a struct",
		},
		{
			name: "output",
			make: func() {
				sdk.NewModel(validInfo(), func(context.Context, dimensions) ([]string, error) { return nil, nil })
			},
			want: "sdk.NewModel: output type: []string is a slice, want a struct",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("NewModel did not panic, want a panic %q", tt.want)
				}
				if got, _ := r.(string); got != tt.want {
					t.Errorf("NewModel panicked with %v, want %q", r, tt.want)
				}
			}()
			tt.make()
		})
	}
}
