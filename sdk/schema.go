package sdk

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
)

// SchemaFor reflects the JSON Schema (draft 2020-12) of T, which must be a
// struct type or a pointer to one.
//
// Field names come from `json` tags. A field is required unless its tag says
// ",omitempty" (or `jsonschema:"required"` forces it). Objects accept no
// properties beyond their fields. The `jsonschema` tag adds keywords, for
// example `jsonschema:"description=Width in cm,minimum=0,maximum=10,example=1.4"`
// or `jsonschema:"enum=red,enum=green"`; see github.com/invopop/jsonschema for
// the full list. Named struct types used in fields are placed in "$defs".
func SchemaFor[T any]() (json.RawMessage, error) {
	return schemaFor[T](nil)
}

func schemaFor[T any](examples []any) (json.RawMessage, error) {
	t := reflect.TypeFor[T]()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s is a %s, want a struct", t, t.Kind())
	}
	r := &jsonschema.Reflector{
		// The top-level object is written out in place rather than as a
		// reference into $defs, which is what forms and OpenAPI want.
		ExpandedStruct: true,
		// No "$id": the host serves the schema under its own URLs.
		Anonymous: true,
	}
	s := r.ReflectFromType(t)
	s.Examples = append(s.Examples, examples...)
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode schema of %s: %w", t, err)
	}
	return b, nil
}
