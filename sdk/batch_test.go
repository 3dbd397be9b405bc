package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// scaleIn and scaleOut are the types of the batch tests' model, which
// multiplies X by a factor. X < 0 is rejected, X == 13 fails and
// X == 99 panics, in predict and in the batch function alike.
type scaleIn struct {
	X float64 `json:"x"`
}

type scaleOut struct {
	Y float64 `json:"y"`
}

var errUnlucky = errors.New("unlucky number")

func scaleOne(in scaleIn) (scaleOut, error) {
	switch {
	case in.X < 0:
		return scaleOut{}, sdk.InvalidInput("", sdk.FieldError{Pointer: "/x", Detail: "want a number of at least 0"})
	case in.X == 13:
		return scaleOut{}, errUnlucky
	case in.X == 99:
		panic("ninety-nine")
	}
	return scaleOut{Y: 2 * in.X}, nil
}

func scalePredict(_ context.Context, in scaleIn) (scaleOut, error) { return scaleOne(in) }

// batchRecorder is a batch function that records what it was given.
type batchRecorder struct {
	mu    sync.Mutex
	calls [][]scaleIn
	// result, if set, replaces the normal results.
	result func(ins []scaleIn) ([]scaleOut, []error)
}

func (r *batchRecorder) batch(_ context.Context, ins []scaleIn) ([]scaleOut, []error) {
	r.mu.Lock()
	r.calls = append(r.calls, ins)
	r.mu.Unlock()
	if r.result != nil {
		return r.result(ins)
	}
	// The "vectorised" pass: every row at once, one error slice allocated
	// only if some row fails.
	outs := make([]scaleOut, len(ins))
	var errs []error
	for i, in := range ins {
		out, err := scaleOne(in)
		if err != nil {
			if errs == nil {
				errs = make([]error, len(ins))
			}
			errs[i] = err
			continue
		}
		outs[i] = out
	}
	return outs, errs
}

func (r *batchRecorder) callsMade() [][]scaleIn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func newScaleModel(r *batchRecorder) *sdk.Model[scaleIn, scaleOut] {
	if r == nil {
		return sdk.NewModel(validInfo(), scalePredict, sdk.WithExamples(scaleIn{X: 1}))
	}
	return sdk.NewModel(validInfo(), scalePredict, sdk.WithExamples(scaleIn{X: 1}), sdk.WithBatch(r.batch))
}

func raws(docs ...string) []json.RawMessage {
	raw := make([]json.RawMessage, len(docs))
	for i, d := range docs {
		raw[i] = json.RawMessage(d)
	}
	return raw
}

// batchItem is the wanted result of one input: an output, or an error
// matching err (and, with input, being an *sdk.InputError).
type batchItem struct {
	output string
	err    error
	input  bool
}

// errAny as a batchItem's err stands for any error.
var errAny = errors.New("any error")

func checkBatch(t *testing.T, inputs []string, outputs []json.RawMessage, errs []error, want []batchItem) {
	t.Helper()
	if len(outputs) != len(want) || len(errs) != len(want) {
		t.Fatalf("got %d outputs and %d errors, want %d of each", len(outputs), len(errs), len(want))
	}
	for i, w := range want {
		if w.err == nil {
			if errs[i] != nil || string(outputs[i]) != w.output {
				t.Errorf("item %d (%s) = %s, %v; want %s, nil", i, inputs[i], outputs[i], errs[i], w.output)
			}
			continue
		}
		matches := errors.Is(errs[i], w.err) || (w.err == errAny && errs[i] != nil)
		if !matches || outputs[i] != nil {
			t.Errorf("item %d (%s) = %s, %v; want no output and an error matching %v", i, inputs[i], outputs[i], errs[i], w.err)
		}
		var ie *sdk.InputError
		if w.input && !errors.As(errs[i], &ie) {
			t.Errorf("item %d (%s) error = %#v, want an *sdk.InputError", i, inputs[i], errs[i])
		}
	}
}

func TestWithBatchOneCall(t *testing.T) {
	r := &batchRecorder{}
	m := newScaleModel(r)
	inputs := []string{`{"x":1}`, `{"x":2.5}`, `{"x":0}`}
	outputs, errs := m.PredictBatch(context.Background(), raws(inputs...))
	checkBatch(t, inputs, outputs, errs, []batchItem{
		{output: `{"y":2}`}, {output: `{"y":5}`}, {output: `{"y":0}`},
	})
	if diff := cmp.Diff([][]scaleIn{{{X: 1}, {X: 2.5}, {X: 0}}}, r.callsMade()); diff != "" {
		t.Errorf("batch function calls differ (-want +got):\n%s", diff)
	}
	// Single predictions still use predict.
	if out, err := m.Predict(context.Background(), json.RawMessage(`{"x":3}`)); err != nil || string(out) != `{"y":6}` {
		t.Errorf("Predict = %s, %v; want {\"y\":6}, nil", out, err)
	}
	if got := len(r.callsMade()); got != 1 {
		t.Errorf("batch function called %d times, want 1", got)
	}
}

func TestWithBatchKeepsIndexes(t *testing.T) {
	r := &batchRecorder{}
	inputs := []string{
		`{"x":1}`,
		`not json`,
		`{"x":-1}`,             // rejected by the batch function
		`{"x":2,"extra":true}`, // unknown field: rejected by decoding
		`{"x":13}`,             // fails in the batch function
		`{"x":"3"}`,            // wrong type: rejected by decoding
		`{"x":4}`,
	}
	outputs, errs := newScaleModel(r).PredictBatch(context.Background(), raws(inputs...))
	checkBatch(t, inputs, outputs, errs, []batchItem{
		{output: `{"y":2}`},
		{err: sdk.ErrInvalidInput, input: true},
		{err: sdk.ErrInvalidInput, input: true},
		{err: sdk.ErrInvalidInput, input: true},
		{err: errUnlucky},
		{err: sdk.ErrInvalidInput, input: true},
		{output: `{"y":8}`},
	})
	var ie *sdk.InputError
	if errors.As(errs[3], &ie); ie == nil || len(ie.Fields) != 1 || ie.Fields[0].Pointer != "/extra" {
		t.Errorf("item 3 error = %v, want the decoder's error pointing at /extra", errs[3])
	}
	if errors.As(errs[2], &ie); ie == nil || len(ie.Fields) != 1 || ie.Fields[0].Pointer != "/x" {
		t.Errorf("item 2 error = %v, want the batch function's error pointing at /x", errs[2])
	}
	// Only the inputs that decode reach the batch function, in order.
	if diff := cmp.Diff([][]scaleIn{{{X: 1}, {X: -1}, {X: 13}, {X: 4}}}, r.callsMade()); diff != "" {
		t.Errorf("batch function calls differ (-want +got):\n%s", diff)
	}
}

func TestWithBatchNilErrors(t *testing.T) {
	r := &batchRecorder{result: func(ins []scaleIn) ([]scaleOut, []error) {
		return []scaleOut{{Y: 10}, {Y: 20}}, nil
	}}
	inputs := []string{`{"x":1}`, `{"x":2}`}
	outputs, errs := newScaleModel(r).PredictBatch(context.Background(), raws(inputs...))
	checkBatch(t, inputs, outputs, errs, []batchItem{{output: `{"y":10}`}, {output: `{"y":20}`}})
}

func TestWithBatchIgnoresOutputsOfErrors(t *testing.T) {
	r := &batchRecorder{result: func(ins []scaleIn) ([]scaleOut, []error) {
		return []scaleOut{{Y: 10}, {Y: 20}}, []error{nil, errUnlucky}
	}}
	inputs := []string{`{"x":1}`, `{"x":2}`}
	outputs, errs := newScaleModel(r).PredictBatch(context.Background(), raws(inputs...))
	checkBatch(t, inputs, outputs, errs, []batchItem{{output: `{"y":10}`}, {err: errUnlucky}})
}

func TestWithBatchWrongLengths(t *testing.T) {
	for name, result := range map[string]func([]scaleIn) ([]scaleOut, []error){
		"too few outputs": func(ins []scaleIn) ([]scaleOut, []error) { return make([]scaleOut, len(ins)-1), nil },
		"too many outputs": func(ins []scaleIn) ([]scaleOut, []error) {
			return make([]scaleOut, len(ins)+1), nil
		},
		"nil outputs":    func([]scaleIn) ([]scaleOut, []error) { return nil, nil },
		"too few errors": func(ins []scaleIn) ([]scaleOut, []error) { return make([]scaleOut, len(ins)), make([]error, 1) },
		"empty errors": func(ins []scaleIn) ([]scaleOut, []error) {
			return make([]scaleOut, len(ins)), []error{}
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := &batchRecorder{result: result}
			inputs := []string{`{"x":1}`, `{"nope":1}`, `{"x":2}`, `{"x":3}`}
			outputs, errs := newScaleModel(r).PredictBatch(context.Background(), raws(inputs...))
			checkBatch(t, inputs, outputs, errs, []batchItem{
				{err: errAny},
				{err: sdk.ErrInvalidInput, input: true}, // never given to the batch function
				{err: errAny},
				{err: errAny},
			})
			for _, i := range []int{0, 2, 3} {
				if errors.Is(errs[i], sdk.ErrInvalidInput) || !strings.Contains(errs[i].Error(), "for 3 inputs") {
					t.Errorf("item %d error = %v, want an internal error about the lengths for 3 inputs", i, errs[i])
				}
			}
		})
	}
}

func TestWithBatchEncodingError(t *testing.T) {
	r := &batchRecorder{result: func(ins []scaleIn) ([]scaleOut, []error) {
		var zero float64
		return []scaleOut{{Y: 1}, {Y: 1 / zero}}, nil // +Inf has no JSON encoding
	}}
	inputs := []string{`{"x":1}`, `{"x":2}`}
	outputs, errs := newScaleModel(r).PredictBatch(context.Background(), raws(inputs...))
	if errs[0] != nil || string(outputs[0]) != `{"y":1}` {
		t.Errorf("item 0 = %s, %v; want {\"y\":1}, nil", outputs[0], errs[0])
	}
	if errs[1] == nil || errors.Is(errs[1], sdk.ErrInvalidInput) || outputs[1] != nil {
		t.Errorf("item 1 = %s, %v; want no output and an internal error", outputs[1], errs[1])
	}
}

func TestWithBatchNotCalledWithoutInputs(t *testing.T) {
	r := &batchRecorder{}
	m := newScaleModel(r)
	outputs, errs := m.PredictBatch(context.Background(), nil)
	if len(outputs) != 0 || len(errs) != 0 {
		t.Errorf("PredictBatch(nil) = %d outputs, %d errors; want none", len(outputs), len(errs))
	}
	inputs := []string{`[]`, `{"x":true}`}
	outputs, errs = m.PredictBatch(context.Background(), raws(inputs...))
	checkBatch(t, inputs, outputs, errs, []batchItem{
		{err: sdk.ErrInvalidInput, input: true}, {err: sdk.ErrInvalidInput, input: true},
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	inputs = []string{`{"x":1}`, `"x"`}
	outputs, errs = m.PredictBatch(ctx, raws(inputs...))
	checkBatch(t, inputs, outputs, errs, []batchItem{
		{err: context.Canceled}, {err: sdk.ErrInvalidInput, input: true},
	})
	if got := len(r.callsMade()); got != 0 {
		t.Errorf("batch function called %d times, want 0", got)
	}
}

func TestWithBatchPanicIsNotRecovered(t *testing.T) {
	// The plugin server recovers it (TestWithBatchThroughPlugin).
	r := &batchRecorder{}
	defer func() {
		if recover() == nil {
			t.Error("PredictBatch returned, want the batch function's panic")
		}
	}()
	newScaleModel(r).PredictBatch(context.Background(), raws(`{"x":99}`))
}

func TestPredictBatchWithoutWithBatch(t *testing.T) {
	m := newScaleModel(nil)
	inputs := []string{`{"x":1}`, `not json`, `{"x":-1}`, `{"x":13}`, `{"x":99}`, `{"x":2}`}
	outputs, errs := m.PredictBatch(context.Background(), raws(inputs...))
	checkBatch(t, inputs, outputs, errs, []batchItem{
		{output: `{"y":2}`},
		{err: sdk.ErrInvalidInput, input: true},
		{err: sdk.ErrInvalidInput, input: true},
		{err: errUnlucky},
		{err: errAny}, // the panic fails only its own input
		{output: `{"y":4}`},
	})
	if errs[4] == nil || errs[4].Error() != "model panicked: ninety-nine" {
		t.Errorf("item 4 error = %v, want \"model panicked: ninety-nine\"", errs[4])
	}
	// Every other item is what Predict says.
	for _, i := range []int{0, 1, 2, 3, 5} {
		out, err := m.Predict(context.Background(), json.RawMessage(inputs[i]))
		if string(out) != string(outputs[i]) || (err == nil) != (errs[i] == nil) || (err != nil && err.Error() != errs[i].Error()) {
			t.Errorf("item %d (%s): PredictBatch gave %s, %v; Predict gives %s, %v", i, inputs[i], outputs[i], errs[i], out, err)
		}
	}
}

func TestPredictBatchWithoutWithBatchStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []float64
	m := sdk.NewModel(validInfo(), func(_ context.Context, in scaleIn) (scaleOut, error) {
		seen = append(seen, in.X)
		if in.X == 2 {
			cancel() // the call ends while item 1 is predicted
		}
		return scaleOut{Y: in.X}, nil
	})
	inputs := []string{`{"x":1}`, `{"x":2}`, `{"x":3}`, `not json`}
	outputs, errs := m.PredictBatch(ctx, raws(inputs...))
	checkBatch(t, inputs, outputs, errs, []batchItem{
		{output: `{"y":1}`}, {output: `{"y":2}`}, {err: context.Canceled}, {err: context.Canceled},
	})
	if diff := cmp.Diff([]float64{1, 2}, seen); diff != "" {
		t.Errorf("predicted inputs differ (-want +got):\n%s", diff)
	}
}

func TestNewModelRejectsBadBatchFunctions(t *testing.T) {
	type otherOut struct {
		Z int `json:"z"`
	}
	tests := map[string]struct {
		opt  sdk.Option[scaleIn]
		want string
	}{
		"other output type": {
			opt: sdk.WithBatch(func(context.Context, []scaleIn) ([]otherOut, []error) { return nil, nil }),
			want: "sdk.NewModel: WithBatch: the batch function is a func(context.Context, []sdk_test.scaleIn) ([]sdk_test.otherOut, []error), " +
				"want a func(context.Context, []sdk_test.scaleIn) ([]sdk_test.scaleOut, []error)",
		},
		"pointer output type": {
			opt:  sdk.WithBatch(func(context.Context, []scaleIn) ([]*scaleOut, []error) { return nil, nil }),
			want: "[]*sdk_test.scaleOut",
		},
		"nil function": {
			opt:  sdk.WithBatch[scaleIn, scaleOut](nil),
			want: "sdk.NewModel: WithBatch: the batch function is nil",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("NewModel panicked with %q, want a message containing %q", msg, tt.want)
				}
			}()
			sdk.NewModel(validInfo(), scalePredict, tt.opt)
		})
	}
}

func TestWithBatchLastOneCounts(t *testing.T) {
	first, last := &batchRecorder{}, &batchRecorder{}
	m := sdk.NewModel(validInfo(), scalePredict, sdk.WithBatch(first.batch), sdk.WithBatch(last.batch))
	m.PredictBatch(context.Background(), raws(`{"x":1}`))
	if len(first.callsMade()) != 0 || len(last.callsMade()) != 1 {
		t.Errorf("batch functions called %d and %d times, want 0 and 1", len(first.callsMade()), len(last.callsMade()))
	}
}

// TestWithBatchThroughPlugin serves a model with a batch function as a
// plugin does and calls it as the host does.
func TestWithBatchThroughPlugin(t *testing.T) {
	r := &batchRecorder{}
	remote := plugin.ServeTest(t, newScaleModel(r))
	inputs := []string{`{"x":1}`, `{"x":"one"}`, `{"x":-1}`, `{"x":13}`, `{"x":2}`}
	outputs, errs, err := remote.PredictBatch(context.Background(), raws(inputs...))
	if err != nil {
		t.Fatalf("PredictBatch error = %v, want nil", err)
	}
	checkBatch(t, inputs, outputs, errs, []batchItem{
		{output: `{"y":2}`},
		{err: sdk.ErrInvalidInput, input: true},
		{err: sdk.ErrInvalidInput, input: true},
		{err: plugin.ErrModelFailed},
		{output: `{"y":4}`},
	})
	var ie *sdk.InputError
	if errors.As(errs[1], &ie); ie == nil || len(ie.Fields) != 1 || ie.Fields[0].Pointer != "/x" {
		t.Errorf("item 1 error = %v, want the decoder's error pointing at /x", errs[1])
	}
	if errors.As(errs[2], &ie); ie == nil || len(ie.Fields) != 1 || ie.Fields[0].Detail != "want a number of at least 0" {
		t.Errorf("item 2 error = %v, want the batch function's error", errs[2])
	}
	if !strings.Contains(errs[3].Error(), "unlucky number") {
		t.Errorf("item 3 error = %v, want the batch function's error text", errs[3])
	}
	if diff := cmp.Diff([][]scaleIn{{{X: 1}, {X: -1}, {X: 13}, {X: 2}}}, r.callsMade()); diff != "" {
		t.Errorf("batch function calls differ (-want +got):\n%s", diff)
	}

	// A panic of the batch function fails the whole batch, and the plugin
	// keeps serving.
	inputs = []string{`{"x":1}`, `{"x":99}`}
	outputs, errs, err = remote.PredictBatch(context.Background(), raws(inputs...))
	if err != nil {
		t.Fatalf("PredictBatch error = %v, want nil", err)
	}
	checkBatch(t, inputs, outputs, errs, []batchItem{{err: plugin.ErrModelFailed}, {err: plugin.ErrModelFailed}})
	if out, err := remote.Predict(context.Background(), json.RawMessage(`{"x":5}`)); err != nil || string(out) != `{"y":10}` {
		t.Errorf("Predict after the panic = %s, %v; want {\"y\":10}, nil", out, err)
	}
}

// TestPredictBatchWithoutWithBatchThroughPlugin checks that a typed model
// without a batch function still answers a batch item by item over the
// wire, one panicking input failing only itself.
func TestPredictBatchWithoutWithBatchThroughPlugin(t *testing.T) {
	remote := plugin.ServeTest(t, newScaleModel(nil))
	inputs := []string{`{"x":1}`, `{"x":99}`, `{"x":-1}`, `{"x":13}`, `{"x":2}`}
	outputs, errs, err := remote.PredictBatch(context.Background(), raws(inputs...))
	if err != nil {
		t.Fatalf("PredictBatch error = %v, want nil", err)
	}
	checkBatch(t, inputs, outputs, errs, []batchItem{
		{output: `{"y":2}`},
		{err: plugin.ErrModelFailed},
		{err: sdk.ErrInvalidInput, input: true},
		{err: plugin.ErrModelFailed},
		{output: `{"y":4}`},
	})
}
