package plugin_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// batchModel implements sdk.BatchPredictor: it echoes each input, rejects
// `"reject"` and fails `"fail"`; "panic" and "short" as the first input make
// the whole batch panic or return too few results.
type batchModel struct {
	handModel
	batchCalls   atomic.Int32
	predictCalls atomic.Int32
	lastSize     atomic.Int32
}

var _ sdk.BatchPredictor = (*batchModel)(nil)

func (m *batchModel) Predict(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
	m.predictCalls.Add(1)
	return input, nil
}

func (m *batchModel) PredictBatch(ctx context.Context, inputs []json.RawMessage) ([]json.RawMessage, []error) {
	m.batchCalls.Add(1)
	m.lastSize.Store(int32(len(inputs)))
	switch string(inputs[0]) {
	case `"panic"`:
		panic("batch boom")
	case `"short"`:
		return inputs[:1], nil
	}
	_ = sdk.Logger(ctx) // the logger is in the context
	outs := make([]json.RawMessage, len(inputs))
	errs := make([]error, len(inputs))
	for i, in := range inputs {
		switch string(in) {
		case `"reject"`:
			errs[i] = sdk.InvalidInput("no", sdk.FieldError{Pointer: "", Detail: "rejected"})
		case `"fail"`:
			errs[i] = errors.New("broken")
		default:
			outs[i] = in
		}
	}
	return outs, errs
}

func newBatchModel() *batchModel {
	return &batchModel{handModel: handModel{
		info: echoInfo,
		in:   json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema"}`),
		out:  json.RawMessage(`{}`),
	}}
}

func rawInputs(docs ...string) []json.RawMessage {
	raw := make([]json.RawMessage, len(docs))
	for i, d := range docs {
		raw[i] = json.RawMessage(d)
	}
	return raw
}

func TestPredictBatchUsesBatchPredictor(t *testing.T) {
	m := newBatchModel()
	remote := plugin.ServeTest(t, m)
	outputs, errs, err := remote.PredictBatch(context.Background(), rawInputs(`1`, `"reject"`, `{"a":2}`, `"fail"`))
	if err != nil {
		t.Fatalf("PredictBatch error = %v, want nil", err)
	}
	if got := m.batchCalls.Load(); got != 1 {
		t.Errorf("model's PredictBatch called %d times, want 1", got)
	}
	if got := m.lastSize.Load(); got != 4 {
		t.Errorf("model's PredictBatch got %d inputs, want 4", got)
	}
	if got := m.predictCalls.Load(); got != 0 {
		t.Errorf("model's Predict called %d times, want 0", got)
	}
	if string(outputs[0]) != `1` || errs[0] != nil {
		t.Errorf("item 0 = %s, %v; want 1, nil", outputs[0], errs[0])
	}
	var ie *sdk.InputError
	if !errors.As(errs[1], &ie) || len(ie.Fields) != 1 || ie.Fields[0].Detail != "rejected" {
		t.Errorf("item 1 error = %v, want the model's *sdk.InputError", errs[1])
	}
	if string(outputs[2]) != `{"a":2}` || errs[2] != nil {
		t.Errorf("item 2 = %s, %v; want {\"a\":2}, nil", outputs[2], errs[2])
	}
	if !errors.Is(errs[3], plugin.ErrModelFailed) || outputs[3] != nil {
		t.Errorf("item 3 = %s, %v; want no output and an error matching ErrModelFailed", outputs[3], errs[3])
	}
}

func TestPredictBatchNilErrors(t *testing.T) {
	m := newBatchModel()
	remote := plugin.ServeTest(t, m)
	// batchModel returns a non-nil errs; check nil errs through "short"
	// with one input, which returns inputs[:1] and nil.
	outputs, errs, err := remote.PredictBatch(context.Background(), rawInputs(`"short"`))
	if err != nil || len(outputs) != 1 || errs[0] != nil || string(outputs[0]) != `"short"` {
		t.Errorf("PredictBatch = %s, %v, %v; want [\"short\"], [nil], nil", outputs, errs, err)
	}
}

func TestPredictBatchBadBatchPredictor(t *testing.T) {
	for name, first := range map[string]string{"panic": `"panic"`, "wrong length": `"short"`} {
		t.Run(name, func(t *testing.T) {
			remote := plugin.ServeTest(t, newBatchModel())
			outputs, errs, err := remote.PredictBatch(context.Background(), rawInputs(first, `2`, `3`))
			if err != nil {
				t.Fatalf("PredictBatch error = %v, want nil", err)
			}
			for i := range errs {
				if !errors.Is(errs[i], plugin.ErrModelFailed) || outputs[i] != nil {
					t.Errorf("item %d = %s, %v; want no output and an error matching ErrModelFailed", i, outputs[i], errs[i])
				}
			}
		})
	}
}
