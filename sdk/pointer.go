package sdk

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// encoding/json's errors do not carry a JSON Pointer: an
// *json.UnmarshalTypeError names the offending field by its Go path without
// array indexes or map keys ("items.width" for /items/3/width), and an
// unknown field is named without any path at all. The functions in this file
// look at the input once more, after decoding failed, to find the pointer.
// They descend only into the one value that holds the problem and skip its
// siblings with encoding/json's own scanner, so the cost stays close to that
// of decoding the input again.

const unknownFieldPrefix = "json: unknown field "

// typeErrorPointer returns the pointer to the value at which encoding/json
// reported err while decoding doc.
func typeErrorPointer(doc []byte, err *json.UnmarshalTypeError) (string, bool) {
	if err.Offset <= 0 {
		return "", false
	}
	return offsetPointer(doc, err.Offset, "")
}

// offsetPointer returns the pointer, below ptr, of the value in doc (one
// JSON value) that ends at offset if it is a scalar, or whose opening
// delimiter ends at offset; these are the offsets json.UnmarshalTypeError
// reports.
func offsetPointer(doc []byte, offset int64, ptr string) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	if dec.InputOffset() == offset {
		return ptr, true
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return "", false
	}
	for i := 0; dec.More(); i++ {
		tok := strconv.Itoa(i)
		if delim == '{' {
			key, err := dec.Token()
			if err != nil {
				return "", false
			}
			tok, _ = key.(string)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", false
		}
		end := dec.InputOffset()
		start := end - int64(len(raw))
		if start < offset && offset <= end {
			return offsetPointer(raw, offset-start, ptr+"/"+escapePointerToken(tok))
		}
	}
	return "", false
}

// unknownFieldPointer returns the pointer, below ptr, to the first object
// member of doc named key for which t, the Go type doc decodes into, has no
// field.
func unknownFieldPointer(doc []byte, t reflect.Type, key, ptr string) (string, bool) {
	t = decodedType(t)
	if t == nil {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	isStruct := t.Kind() == reflect.Struct
	var fields map[string]reflect.Type
	switch {
	case tok == json.Delim('{') && isStruct:
		fields = jsonFields(t)
	case tok == json.Delim('{') && t.Kind() == reflect.Map:
	case tok == json.Delim('[') && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
	default:
		return "", false
	}
	for i := 0; dec.More(); i++ {
		name := strconv.Itoa(i)
		var elem reflect.Type // the Go type of this member or element
		if tok == json.Delim('{') {
			k, err := dec.Token()
			if err != nil {
				return "", false
			}
			name, _ = k.(string)
		}
		if isStruct {
			f, ok := fieldByJSONName(fields, name)
			if !ok && name == key {
				return ptr + "/" + escapePointerToken(name), true
			}
			elem = f
		} else {
			elem = t.Elem()
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", false
		}
		if elem != nil && hasUnknownField(raw, elem) {
			return unknownFieldPointer(raw, elem, key, ptr+"/"+escapePointerToken(name))
		}
	}
	return "", false
}

// hasUnknownField reports whether decoding doc into a t fails for an unknown
// field.
func hasUnknownField(doc []byte, t reflect.Type) bool {
	if decodedType(t) == nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	err := dec.Decode(reflect.New(t).Interface())
	return err != nil && strings.HasPrefix(err.Error(), unknownFieldPrefix)
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodedType returns the type whose JSON shape t decodes from: pointers
// are followed, and nil is returned for types that decode themselves (their
// fields are theirs to judge) or whose shape is unknown.
func decodedType(t reflect.Type) reflect.Type {
	for t != nil {
		if reflect.PointerTo(t).Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
			return nil
		}
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
		case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
			return t
		default:
			return nil
		}
	}
	return nil
}

// fieldByJSONName returns the type of the field among fields (made by
// jsonFields) that encoding/json decodes the member key into: an exact match
// of its JSON name wins, else a case-insensitive one.
func fieldByJSONName(fields map[string]reflect.Type, key string) (reflect.Type, bool) {
	if f, ok := fields[key]; ok {
		return f, true
	}
	for name, f := range fields {
		if strings.EqualFold(name, key) {
			return f, true
		}
	}
	return nil, false
}

// jsonFields returns the types of the fields encoding/json decodes into, by
// JSON name, with the fields of embedded structs promoted by its rules: the
// shallowest field wins, then a tagged one; names still ambiguous are left
// out, as encoding/json leaves them out.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	type candidate struct {
		typ    reflect.Type
		depth  int
		tagged bool
		count  int
	}
	best := map[string]*candidate{}
	var visit func(t reflect.Type, depth int, seen map[reflect.Type]bool)
	visit = func(t reflect.Type, depth int, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := range t.NumField() {
			f := t.Field(i)
			ft := f.Type
			if f.Anonymous {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !f.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if name == "" && f.Anonymous && ft.Kind() == reflect.Struct {
				visit(ft, depth+1, seen)
				continue
			}
			tagged := name != ""
			if !tagged {
				name = f.Name
			}
			c := best[name]
			switch {
			case c == nil || depth < c.depth || (depth == c.depth && tagged && !c.tagged):
				best[name] = &candidate{typ: f.Type, depth: depth, tagged: tagged, count: 1}
			case depth == c.depth && tagged == c.tagged:
				c.count++
			}
		}
	}
	visit(t, 0, map[reflect.Type]bool{})
	fields := make(map[string]reflect.Type, len(best))
	for name, c := range best {
		if c.count == 1 {
			fields[name] = c.typ
		}
	}
	return fields
}

// escapePointerToken escapes one reference token of a JSON Pointer
// (RFC 6901, section 3).
func escapePointerToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// jsonTypeName names the JSON value a Go type decodes from, for error
// messages read by API clients rather than Go programmers.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr:
		if t.Kind() == reflect.Uint || t.Kind() == reflect.Uint64 || t.Kind() == reflect.Uintptr {
			return "non-negative integer"
		}
		return "integer"
	case reflect.Int8, reflect.Int16, reflect.Int32:
		bits := t.Bits()
		return "integer from " + strconv.FormatInt(-1<<(bits-1), 10) + " to " + strconv.FormatInt(1<<(bits-1)-1, 10)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return "integer from 0 to " + strconv.FormatUint(1<<t.Bits()-1, 10)
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "base64 string"
		}
		return "array"
	case reflect.Array:
		return "array"
	}
	return "value"
}
