package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/limit"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// batchFake is a model that implements registry.BatchModel. Its inputs are
// {"x": number}; it rejects x = -1, fails on x = 3, answers an output that
// breaks its output schema for x = 4, and echoes {"y": x} otherwise.
type batchFake struct {
	mu    sync.Mutex
	calls [][]string // the inputs of each PredictBatch call
}

func (m *batchFake) Info() sdk.Info {
	return sdk.Info{QualifiedName: "batcher", DisplayName: "Batcher", Version: "1.0.0"}
}

func (m *batchFake) InputSchema() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"x":{"type":"number"}},"required":["x"],"additionalProperties":false}`)
}

func (m *batchFake) OutputSchema() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"y":{"type":"number"}},"required":["y"]}`)
}

func (m *batchFake) Predict(context.Context, json.RawMessage) (json.RawMessage, error) {
	return nil, errors.New("Predict called for a batch")
}

func (m *batchFake) PredictBatch(_ context.Context, inputs []json.RawMessage) ([]json.RawMessage, []error, error) {
	m.mu.Lock()
	call := make([]string, len(inputs))
	for i, in := range inputs {
		call[i] = string(in)
	}
	m.calls = append(m.calls, call)
	m.mu.Unlock()
	outs := make([]json.RawMessage, len(inputs))
	errs := make([]error, len(inputs))
	for i, in := range inputs {
		var v struct{ X float64 }
		if err := json.Unmarshal(in, &v); err != nil {
			errs[i] = err
			continue
		}
		switch v.X {
		case -1:
			errs[i] = sdk.InvalidInput("negative", sdk.FieldError{Pointer: "/x", Detail: "must not be -1"})
		case 3:
			errs[i] = fmt.Errorf("%w: %s", plugin.ErrModelFailed, secret)
		case 4:
			outs[i] = json.RawMessage(`{"z":4}`)
		default:
			outs[i] = json.RawMessage(fmt.Sprintf(`{"y":%g}`, v.X))
		}
	}
	return outs, errs, nil
}

func batchAPI(t *testing.T, opts Options) (*echo.Echo, *batchFake, *bytes.Buffer) {
	t.Helper()
	reg := testRegistry(t)
	bf := &batchFake{}
	e, err := registry.NewEntry(bf, "test", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(e); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	opts.Logger = hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Debug})
	return New(reg, opts), bf, &log
}

func predictBatchReq(model, body string) request {
	return request{http.MethodPost, "/api/models/" + model + "/predict/batch", "application/json", body}
}

// batchResult is batchResponse as a client decodes it.
type batchResult struct {
	Outputs []json.RawMessage `json:"outputs"`
	Errors  []itemError       `json:"errors"`
}

func decodeBatch(t *testing.T, rec *httptest.ResponseRecorder) batchResult {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var res batchResult
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return res
}

func outputStrings(outs []json.RawMessage) []string {
	s := make([]string, len(outs))
	for i, o := range outs {
		s[i] = string(o)
	}
	return s
}

func TestPredictBatchMixed(t *testing.T) {
	e, bf, log := batchAPI(t, Options{})
	body := `{"inputs":[{"x":1},{"x":"one"},{"x": 2},{"x":-1},{"x":3},{"x":4},{"y":5}]}`
	res := decodeBatch(t, predictBatchReq("batcher", body).do(e))

	wantOut := []string{`{"y":1}`, `null`, `{"y":2}`, `null`, `null`, `null`, `null`}
	if diff := cmp.Diff(wantOut, outputStrings(res.Outputs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	wantCalls := [][]string{{`{"x":1}`, `{"x": 2}`, `{"x":-1}`, `{"x":3}`, `{"x":4}`}}
	if diff := cmp.Diff(wantCalls, bf.calls); diff != "" {
		t.Errorf("PredictBatch calls (-want +got): only the valid inputs, as sent, in one call\n%s", diff)
	}
	want := []itemError{
		{Index: 1, Status: 422, Type: problem.TypeInvalidInput, Title: "Invalid input",
			Detail: "the input does not match the model's input schema",
			Errors: []problem.FieldError{{Pointer: "/x", Detail: "got string, want number"}}},
		{Index: 3, Status: 422, Type: problem.TypeInvalidInput, Title: "Invalid input", Detail: "negative",
			Errors: []problem.FieldError{{Pointer: "/x", Detail: "must not be -1"}}},
		{Index: 4, Status: 500, Type: problem.TypeModelFailed, Title: "Model failed",
			Detail: "the model failed to compute a prediction; the error has been logged"},
		{Index: 5, Status: 502, Type: problem.TypeBadPluginResponse, Title: "Bad plugin response",
			Detail: "the model answered an output that does not match its own output schema; the error has been logged"},
		{Index: 6, Status: 422, Type: problem.TypeInvalidInput, Title: "Invalid input",
			Detail: "the input does not match the model's input schema"},
	}
	// The schema errors' wording is validate.go's business: compare the
	// pointers only.
	got := res.Errors
	for i := range got {
		if got[i].Index == 1 {
			for j := range got[i].Errors {
				got[i].Errors[j].Detail = want[0].Errors[0].Detail
			}
		}
		if got[i].Index == 6 {
			ptrs := []string{}
			for _, f := range got[i].Errors {
				ptrs = append(ptrs, f.Pointer)
			}
			if diff := cmp.Diff([]string{"/x", "/y"}, ptrs); diff != "" {
				t.Errorf("item 6 pointers (-want +got), relative to the item:\n%s", diff)
			}
			got[i].Errors = nil
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if strings.Contains(bodyOf(t, e, body), secret) {
		t.Error("a response contains the model's internal error")
	}
	if !strings.Contains(log.String(), secret) {
		t.Errorf("log lacks the model's internal error:\n%s", log)
	}
}

func bodyOf(t *testing.T, e *echo.Echo, body string) string {
	t.Helper()
	return predictBatchReq("batcher", body).do(e).Body.String()
}

// TestPredictBatchFallback sends a batch to a model that does not
// implement BatchModel: it is called once per valid input.
func TestPredictBatchFallback(t *testing.T) {
	e, _, _ := batchAPI(t, Options{})
	body := `{"inputs":[` + irisInputJSON + `,{"sepal_length":-1},{"sepal_length":6,"sepal_width":3,"petal_length":4.5,"petal_width":1.5}]}`
	res := decodeBatch(t, predictBatchReq("iris_model", body).do(e))
	wantOut := []string{`{"species":"setosa"}`, `null`, `{"species":"versicolor"}`}
	if diff := cmp.Diff(wantOut, outputStrings(res.Outputs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if len(res.Errors) != 1 || res.Errors[0].Index != 1 || res.Errors[0].Status != 422 || len(res.Errors[0].Errors) == 0 {
		t.Errorf("errors = %+v, want one 422 with field errors at index 1", res.Errors)
	}
}

func TestPredictBatchAllValid(t *testing.T) {
	e, _, _ := batchAPI(t, Options{})
	rec := predictBatchReq("batcher", `{"inputs":[{"x":7}]}`).do(e)
	if got, want := strings.TrimSpace(decodeBatchBody(t, rec)), `{"outputs":[{"y":7}],"errors":[]}`; got != want {
		t.Errorf("body %s, want %s", got, want)
	}
}

func decodeBatchBody(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// TestPredictBatchAllInvalid: no input is valid, so the model is not
// called.
func TestPredictBatchAllInvalid(t *testing.T) {
	e, bf, _ := batchAPI(t, Options{})
	res := decodeBatch(t, predictBatchReq("batcher", `{"inputs":[1,{"x":null}]}`).do(e))
	if len(bf.calls) != 0 {
		t.Errorf("model called %d times, want 0", len(bf.calls))
	}
	if diff := cmp.Diff([]string{"null", "null"}, outputStrings(res.Outputs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if len(res.Errors) != 2 || res.Errors[0].Index != 0 || res.Errors[1].Index != 1 {
		t.Errorf("errors = %+v, want one for each input", res.Errors)
	}
}

func TestPredictBatchProblems(t *testing.T) {
	e, bf, _ := batchAPI(t, Options{MaxBatchSize: 3})
	for _, tt := range []struct {
		name   string
		model  string
		body   string
		status int
		typ    string
		ptrs   []string
	}{
		{"over the limit", "batcher", `{"inputs":[{"x":1},{"x":2},{"x":3},{"x":4}]}`, 413, problem.TypeBatchTooLarge, nil},
		{"empty", "batcher", `{"inputs":[]}`, 422, problem.TypeInvalidInput, []string{"/inputs"}},
		{"inputs not an array", "batcher", `{"inputs":{"x":1}}`, 422, problem.TypeInvalidInput, []string{"/inputs"}},
		{"inputs null", "batcher", `{"inputs":null}`, 422, problem.TypeInvalidInput, []string{"/inputs"}},
		{"no inputs", "batcher", `{"input":[{"x":1}]}`, 422, problem.TypeInvalidInput, []string{"/input", "/inputs"}},
		{"extra member", "batcher", `{"inputs":[{"x":1}],"mode":"fast"}`, 422, problem.TypeInvalidInput, []string{"/mode"}},
		{"body an array", "batcher", `[{"x":1}]`, 422, problem.TypeInvalidInput, []string{""}},
		{"malformed", "batcher", `{"inputs":[{"x":1}`, 400, problem.TypeMalformedJSON, nil},
		{"empty body", "batcher", ``, 400, problem.TypeMalformedJSON, nil},
		{"unknown model", "nope", `{"inputs":[{"x":1}]}`, 404, problem.TypeModelNotFound, nil},
		{"timeout", "slow", `{"inputs":[{}]}`, 504, problem.TypeModelTimeout, nil},
		{"unavailable", "unavailable", `{"inputs":[{}]}`, 503, problem.TypeModelUnavailable, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := predictBatchReq(tt.model, tt.body)
			d := checkProblem(t, r.do(e), r.path, tt.status, tt.typ)
			if tt.ptrs != nil {
				var ptrs []string
				for _, f := range d.Errors {
					ptrs = append(ptrs, f.Pointer)
				}
				if diff := cmp.Diff(tt.ptrs, ptrs); diff != "" {
					t.Errorf("pointers (-want +got):\n%s", diff)
				}
			}
		})
	}
	r := request{http.MethodPost, "/api/models/batcher/predict/batch", "text/plain", `{"inputs":[{"x":1}]}`}
	checkProblem(t, r.do(e), r.path, 415, problem.TypeUnsupportedMediaType)
	if len(bf.calls) != 0 {
		t.Errorf("model called %d times, want 0", len(bf.calls))
	}
}

func TestPredictBatchDefaultLimit(t *testing.T) {
	e, _, _ := batchAPI(t, Options{MaxBodyBytes: 1 << 20})
	items := strings.TrimSuffix(strings.Repeat(`{"x":1},`, DefaultMaxBatchSize+1), ",")
	r := predictBatchReq("batcher", `{"inputs":[`+items+`]}`)
	d := checkProblem(t, r.do(e), r.path, 413, problem.TypeBatchTooLarge)
	if !strings.Contains(d.Detail, "1001") || !strings.Contains(d.Detail, "1000") {
		t.Errorf("detail %q, want the size and the limit", d.Detail)
	}
	items = strings.TrimSuffix(strings.Repeat(`{"x":1},`, DefaultMaxBatchSize), ",")
	res := decodeBatch(t, predictBatchReq("batcher", `{"inputs":[`+items+`]}`).do(e))
	if len(res.Outputs) != DefaultMaxBatchSize || len(res.Errors) != 0 {
		t.Errorf("%d outputs, %d errors; want %d, 0", len(res.Outputs), len(res.Errors), DefaultMaxBatchSize)
	}
}

// TestPredictBatchTakesOneSlot: a batch holds one slot of the model's
// limiter for the whole call, however many inputs it has.
func TestPredictBatchTakesOneSlot(t *testing.T) {
	e, _, g, _ := newGateAPI(t, limit.Limits{MaxConcurrency: 1})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- predictBatchReq("gated", `{"inputs":[{},{}]}`).do(e) }()
	<-g.entered
	r := predictBatchReq("gated", `{"inputs":[{}]}`)
	checkProblem(t, r.do(e), r.path, http.StatusTooManyRequests, problem.TypeModelBusy)
	close(g.release)
	res := decodeBatch(t, <-done)
	if diff := cmp.Diff([]string{`{"done":true}`, `{"done":true}`}, outputStrings(res.Outputs)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}
