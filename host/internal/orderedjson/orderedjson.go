// Package orderedjson decodes a JSON document into Go values whose objects
// keep the order of their members and whose numbers keep their text: the
// OpenAPI document and the web pages show a model's schema as its author
// wrote it. Each user brings its own object type; this package only reads.
package orderedjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Object is an ordered JSON object under construction: Set appends a
// member, or replaces the value of a repeated key (the last one wins, as
// in encoding/json).
type Object interface {
	Set(key string, value any)
}

// Decode decodes exactly one JSON document. Objects become what newObject
// returns, filled with Set; arrays []any; numbers json.Number; strings,
// booleans and null string, bool and nil.
func Decode[O Object](data []byte, newObject func() O) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, newObject)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON document")
	}
	return v, nil
}

func decodeValue[O Object](dec *json.Decoder, newObject func() O) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := newObject()
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(dec, newObject)
			if err != nil {
				return nil, err
			}
			o.Set(kt.(string), v) // the decoder only gives string keys
		}
		_, err := dec.Token() // '}'
		return o, err
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec, newObject)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ']'
		return list, err
	case json.Delim('}'), json.Delim(']'):
		return nil, fmt.Errorf("unexpected %v", tok)
	default: // string, json.Number, bool, nil
		return tok, nil
	}
}
