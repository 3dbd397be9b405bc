package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
)

// Model is an MLModel built by NewModel from an input type In, an output
// type Out and a prediction function. It implements [BatchPredictor] too,
// with the batch function of [WithBatch] if it has one.
type Model[In, Out any] struct {
	info         Info
	predict      func(context.Context, In) (Out, error)
	batch        func(context.Context, []In) ([]Out, []error) // nil without WithBatch
	inputSchema  json.RawMessage
	outputSchema json.RawMessage
}

var _ BatchPredictor = (*Model[struct{}, struct{}])(nil)

// Option configures a Model built by NewModel.
type Option[In any] func(*modelOptions[In])

type modelOptions[In any] struct {
	examples []In
	// batch is the function of WithBatch, a
	// func(context.Context, []In) ([]Out, []error) whose Out NewModel
	// checks, as Option does not know it.
	batch any
}

// WithExamples adds example inputs to the input schema's "examples". They
// pre-fill forms in the web UI, appear in the OpenAPI document, and
// modeltest.Check runs each of them through Predict.
func WithExamples[In any](examples ...In) Option[In] {
	return func(o *modelOptions[In]) { o.examples = append(o.examples, examples...) }
}

// WithBatch gives the model a function that predicts many inputs in one
// call, such as one pass of a vectorised model over a matrix of N rows. A
// batch prediction (POST /api/models/{name}/predict/batch) then calls it
// once with every input of the request that decodes, in the request's
// order; single predictions still call the model's predict function.
//
// batch returns one output per input, in the order of inputs, and either
// nil errs (every prediction succeeded) or one error per input, nil where
// that prediction succeeded; an output whose error is not nil is ignored.
// Errors mean what they mean for predict: sdk.InvalidInput (or any error
// wrapping ErrInvalidInput) rejects that input, any other error is a
// failure of the model on it. Results of another length are a failure of
// every input of the call. The call's ctx carries the predict timeout,
// which applies to the whole batch, and batch must be safe for concurrent
// use, as predict is.
//
// Out must be the output type of the model's predict function: NewModel
// panics otherwise. If WithBatch is given more than once, the last one
// counts.
func WithBatch[In, Out any](batch func(ctx context.Context, inputs []In) (outputs []Out, errs []error)) Option[In] {
	return func(o *modelOptions[In]) { o.batch = batch }
}

// NewModel returns a model that decodes each input into In, calls predict,
// and encodes its Out. The input and output schemas are reflected from In and
// Out (see [SchemaFor]): `json` tags name the fields, fields without
// ",omitempty" are required, and `jsonschema` tags add descriptions, bounds,
// enums and examples. Unknown input fields are rejected.
//
// NewModel panics if In or Out is not a struct type or a pointer to one, or
// if the function of [WithBatch] is nil or does not return []Out, as those
// are programming errors found by the first test run.
func NewModel[In, Out any](info Info, predict func(context.Context, In) (Out, error), opts ...Option[In]) *Model[In, Out] {
	var o modelOptions[In]
	for _, opt := range opts {
		opt(&o)
	}
	var batch func(context.Context, []In) ([]Out, []error)
	if o.batch != nil {
		var ok bool
		batch, ok = o.batch.(func(context.Context, []In) ([]Out, []error))
		if !ok {
			panic(fmt.Sprintf("sdk.NewModel: WithBatch: the batch function is a %T, want a %T: its outputs must be of predict's output type",
				o.batch, batch))
		}
		if batch == nil {
			panic("sdk.NewModel: WithBatch: the batch function is nil")
		}
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
	return &Model[In, Out]{info: info, predict: predict, batch: batch, inputSchema: in, outputSchema: out}
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
	return encodeOutput(out)
}

// encodeOutput encodes one output of the model's function.
func encodeOutput[Out any](out Out) (json.RawMessage, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	return b, nil
}

// PredictBatch implements [BatchPredictor]. It returns one output and one
// error per input, the error nil where that prediction succeeded. Each
// input is decoded as Predict decodes it; one that does not decode gets its
// *InputError and is not predicted.
//
// With [WithBatch], the decoded inputs go to the batch function in one
// call, in order, and its outputs and errors come back at their inputs'
// indexes; if it returns results of the wrong length, every input it was
// given fails. It is not called without any input, nor once ctx is done
// (those inputs then fail with ctx.Err()). A panic of the batch function
// is not recovered here: the plugin server recovers it, failing the whole
// batch.
//
// Without WithBatch, PredictBatch calls the predict function once per
// input, in order, exactly as Predict would. A panic while predicting one
// input fails only that input (and is logged with its stack on
// [Logger](ctx)), as the plugin server does for single predictions. Once
// ctx is done, the inputs not yet predicted fail with ctx.Err().
func (m *Model[In, Out]) PredictBatch(ctx context.Context, inputs []json.RawMessage) (outputs []json.RawMessage, errs []error) {
	outputs = make([]json.RawMessage, len(inputs))
	errs = make([]error, len(inputs))
	if m.batch == nil {
		for i, input := range inputs {
			if err := ctx.Err(); err != nil {
				for j := i; j < len(inputs); j++ {
					errs[j] = err
				}
				break
			}
			outputs[i], errs[i] = m.predictRecovered(ctx, input)
		}
		return outputs, errs
	}

	ins := make([]In, 0, len(inputs))
	index := make([]int, 0, len(inputs)) // index[k] is the position of ins[k] in inputs
	for i, input := range inputs {
		in, err := DecodeInput[In](input)
		if err != nil {
			errs[i] = err
			continue
		}
		ins = append(ins, in)
		index = append(index, i)
	}
	if len(ins) == 0 {
		return outputs, errs
	}
	if err := ctx.Err(); err != nil {
		for _, i := range index {
			errs[i] = err
		}
		return outputs, errs
	}
	outs, batchErrs := m.batch(ctx, ins)
	if len(outs) != len(ins) || (batchErrs != nil && len(batchErrs) != len(ins)) {
		err := fmt.Errorf("the batch function returned %d outputs and %d errors for %d inputs", len(outs), len(batchErrs), len(ins))
		for _, i := range index {
			errs[i] = err
		}
		return outputs, errs
	}
	for k, i := range index {
		if batchErrs != nil && batchErrs[k] != nil {
			errs[i] = batchErrs[k]
			continue
		}
		outputs[i], errs[i] = encodeOutput(outs[k])
	}
	return outputs, errs
}

// predictRecovered is Predict, turning a panic into an error so that one
// input cannot fail the other inputs of a batch.
func (m *Model[In, Out]) predictRecovered(ctx context.Context, input json.RawMessage) (out json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			Logger(ctx).Error("predict panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("model panicked: %v", r)
		}
	}()
	return m.Predict(ctx, input)
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
