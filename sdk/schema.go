package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

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
// the full list. Named struct types used in fields are placed in "$defs",
// under their type name (qualified by their package path if two share one).
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
	namer := defNamer(t)
	r := &jsonschema.Reflector{
		// The top-level object is written out in place rather than as a
		// reference into $defs, which is what forms and OpenAPI want.
		ExpandedStruct: true,
		// No "$id": the host serves the schema under its own URLs.
		Anonymous: true,
		Namer:     namer,
	}
	s := r.ReflectFromType(t)
	s.Examples = append(s.Examples, examples...)
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode schema of %s: %w", t, err)
	}
	// A recursive type refers to itself through "$defs", but the expanded
	// top level is not in "$defs": add it there too.
	referenced := &jsonschema.Reflector{Anonymous: true, Namer: namer}
	full := referenced.ReflectFromType(t)
	if name, ok := strings.CutPrefix(full.Ref, "#/$defs/"); ok {
		_, present := s.Definitions[name]
		if !present && bytes.Contains(b, []byte(`"$ref":"#/$defs/`+name+`"`)) {
			if s.Definitions == nil {
				s.Definitions = jsonschema.Definitions{}
			}
			s.Definitions[name] = full.Definitions[name]
			if b, err = json.Marshal(s); err != nil {
				return nil, fmt.Errorf("encode schema of %s: %w", t, err)
			}
		}
	}
	return b, nil
}

// defNamer returns a jsonschema.Reflector Namer that gives every named struct
// type reachable from root a distinct "$defs" name that is safe in a JSON
// Pointer. By default the reflector names definitions after the bare type
// name, so that a.Point and b.Point would share one definition, and a generic
// type's name such as Box[example.com/geo.Point] would contain a "/".
func defNamer(root reflect.Type) func(reflect.Type) string {
	var types []reflect.Type // in a fixed order, for stable names
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for {
			switch t.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Array:
				t = t.Elem()
				continue
			case reflect.Map:
				visit(t.Key())
				t = t.Elem()
				continue
			}
			break
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		if t.Name() != "" {
			types = append(types, t)
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() || f.Anonymous {
				visit(f.Type)
			}
		}
	}
	visit(root)

	byName := map[string][]reflect.Type{}
	for _, t := range types {
		n := safeDefName(t.Name())
		byName[n] = append(byName[n], t)
	}
	names := map[reflect.Type]string{}
	used := map[string]bool{}
	for _, t := range types {
		n := safeDefName(t.Name())
		if len(byName[n]) > 1 {
			n = safeDefName(t.PkgPath() + "." + t.Name())
		}
		for i, base := 2, n; used[n]; i++ {
			n = fmt.Sprintf("%s_%d", base, i)
		}
		used[n] = true
		names[t] = n
	}
	return func(t reflect.Type) string { return names[t] }
}

// safeDefName replaces every character of name but ASCII letters, digits,
// "_", "." and "-" with "_".
func safeDefName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '_'
	}, name)
}
