package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/modelhost/modelhost/host/internal/orderedjson"
)

// The document is built from JSON values that keep the order of object
// members and the text of numbers, so that a model's schema reads as its
// author wrote it (Swagger UI lists properties in member order) and a number
// such as 0.05 or 1e400 is not rounded through float64. A value is one of
// *object, []any, string, json.Number, bool or nil; the Go structs of the
// document embed such values.

// object is a JSON object whose members keep their order.
type object struct {
	members []member
}

type member struct {
	key   string
	value any
}

// obj returns an object with the members key1, value1, key2, value2, ...
// It panics if a key is not a string: the callers are literals.
func obj(pairs ...any) *object {
	if len(pairs)%2 != 0 {
		panic("openapi: obj needs key-value pairs")
	}
	o := &object{members: make([]member, 0, len(pairs)/2)}
	for i := 0; i < len(pairs); i += 2 {
		o.set(pairs[i].(string), pairs[i+1])
	}
	return o
}

// get returns the value of key.
func (o *object) get(key string) (any, bool) {
	for _, m := range o.members {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

// set replaces the value of key, or appends key if it is absent.
func (o *object) set(key string, value any) {
	for i := range o.members {
		if o.members[i].key == key {
			o.members[i].value = value
			return
		}
	}
	o.members = append(o.members, member{key, value})
}

// remove deletes key, if present.
func (o *object) remove(key string) {
	for i := range o.members {
		if o.members[i].key == key {
			o.members = append(o.members[:i], o.members[i+1:]...)
			return
		}
	}
}

// MarshalJSON implements json.Marshaler, keeping the member order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encodeTo(&b, m.key); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := encodeTo(&b, m.value); err != nil {
			return nil, fmt.Errorf("member %q: %w", m.key, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encodeTo appends the JSON encoding of v to b, without escaping <, > and &
// (the document is served as application/json, never embedded in HTML).
func encodeTo(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// encodeIndented returns the JSON encoding of v indented by two spaces,
// with a final newline.
func encodeIndented(v any) ([]byte, error) {
	var compact, out bytes.Buffer
	if err := encodeTo(&compact, v); err != nil {
		return nil, err
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// parseJSON decodes exactly one JSON document into an ordered value.
func parseJSON(data []byte) (any, error) {
	return orderedjson.Decode(data, func() *object { return &object{} })
}

// Set implements orderedjson.Object.
func (o *object) Set(key string, value any) { o.set(key, value) }

// deepCopy returns a copy of v that shares nothing mutable with it.
func deepCopy(v any) any {
	switch t := v.(type) {
	case *object:
		c := &object{members: make([]member, len(t.members))}
		for i, m := range t.members {
			c.members[i] = member{m.key, deepCopy(m.value)}
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = deepCopy(e)
		}
		return c
	default:
		return v
	}
}

// canonical returns an encoding of v that is equal for equal values,
// whatever their member order, for comparing schemas.
func canonical(v any) string {
	var b bytes.Buffer
	_ = encodeTo(&b, canonicalValue(v)) // plain values always encode
	return b.String()
}

// canonicalValue converts v to plain maps and slices, which encoding/json
// writes with sorted keys.
func canonicalValue(v any) any {
	switch t := v.(type) {
	case *object:
		m := make(map[string]any, len(t.members))
		for _, mem := range t.members {
			m[mem.key] = canonicalValue(mem.value)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = canonicalValue(e)
		}
		return a
	default:
		return v
	}
}
