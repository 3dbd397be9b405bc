package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Model is an MLModel built by NewModel from an input type In, an output
// type Out and a prediction function.
type Model[In, Out any] struct {
	info         Info
	predict      func(context.Context, In) (Out, error)
	inputSchema  json.RawMessage
	outputSchema json.RawMessage
}

// Option configures a Model built by NewModel.
type Option[In any] func(*modelOptions[In])

type modelOptions[In any] struct {
	examples []In
}

// WithExamples adds example inputs to the input schema's "examples". They
// pre-fill forms in the web UI, appear in the OpenAPI document, and
// modeltest.Check runs each of them through Predict.
func WithExamples[In any](examples ...In) Option[In] {
	return func(o *modelOptions[In]) { o.examples = append(o.examples, examples...) }
}

// NewModel returns a model that decodes each input into In, calls predict,
// and encodes its Out. The input and output schemas are reflected from In and
// Out (see [SchemaFor]): `json` tags name the fields, fields without
// ",omitempty" are required, and `jsonschema` tags add descriptions, bounds,
// enums and examples. Unknown input fields are rejected.
//
// NewModel panics if In or Out is not a struct type or a pointer to one, as
// that is a programming error found by the first test run.
func NewModel[In, Out any](info Info, predict func(context.Context, In) (Out, error), opts ...Option[In]) *Model[In, Out] {
	var o modelOptions[In]
	for _, opt := range opts {
		opt(&o)
	}
	examples := make([]any, len(o.examples))
	for i, e := range o.examples {
		examples[i] = e
	}
	in, err := schemaFor[In](examples)
	if err != nil {
		panic(fmt.Sprintf("sdk.NewModel: input type: %v", err))
	}
	out, err := schemaFor[Out](nil)
	if err != nil {
		panic(fmt.Sprintf("sdk.NewModel: output type: %v", err))
	}
	return &Model[In, Out]{info: info, predict: predict, inputSchema: in, outputSchema: out}
}

// Info implements MLModel.
func (m *Model[In, Out]) Info() Info { return m.info }

// InputSchema implements MLModel.
func (m *Model[In, Out]) InputSchema() json.RawMessage { return m.inputSchema }

// OutputSchema implements MLModel.
func (m *Model[In, Out]) OutputSchema() json.RawMessage { return m.outputSchema }

// Predict implements MLModel: it decodes input strictly into In, calls the
// model's function and encodes its result.
func (m *Model[In, Out]) Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	in, err := DecodeInput[In](input)
	if err != nil {
		return nil, err
	}
	out, err := m.predict(ctx, in)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	return b, nil
}

// PredictTyped calls the model's function directly, without JSON. It is meant
// for the model's own tests.
func (m *Model[In, Out]) PredictTyped(ctx context.Context, in In) (Out, error) {
	return m.predict(ctx, in)
}

// DecodeInput decodes one JSON document into a T, rejecting unknown fields
// and trailing data. Its errors are *InputError values; when one value is at
// fault, its FieldError's Pointer is a JSON Pointer (RFC 6901) to it, such as
// "/items/2/width".
func DecodeInput[T any](data []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(data, reflect.TypeFor[T](), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, InvalidInput("unexpected data after the JSON document")
	}
	return v, nil
}

// decodeError turns an error of encoding/json from decoding data into a t
// into an *InputError.
func decodeError(data []byte, t reflect.Type, err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		ptr, ok := typeErrorPointer(data, typeErr)
		if !ok && typeErr.Field != "" {
			// Less precise: Go field path, without indexes or keys.
			ptr = "/" + strings.ReplaceAll(typeErr.Field, ".", "/")
		}
		got := typeErr.Value
		if got == "bool" {
			got = "boolean"
		}
		return InvalidInput("", FieldError{Pointer: ptr, Detail: fmt.Sprintf("got JSON %s, want %s", got, jsonTypeName(typeErr.Type))})
	case errors.Is(err, io.EOF):
		return InvalidInput("the input is empty, want a JSON document")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return InvalidInput("the input ends in the middle of its JSON document")
	case errors.As(err, &syntaxErr):
		return InvalidInput(fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr))
	}
	// encoding/json has no error type for unknown fields.
	if quoted, ok := strings.CutPrefix(err.Error(), unknownFieldPrefix); ok {
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = strings.Trim(quoted, `"`)
		}
		ptr, ok := unknownFieldPointer(data, t, name, "")
		if !ok {
			ptr = "/" + escapePointerToken(name)
		}
		return InvalidInput("", FieldError{Pointer: ptr, Detail: "unknown field"})
	}
	return InvalidInput(strings.TrimPrefix(err.Error(), "json: "))
}
