package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/modelhost/modelhost/host/bench/internal/benchmodel"
	"github.com/modelhost/modelhost/host/bench/internal/loadgen"
	"github.com/modelhost/modelhost/plugins/iris/irismodel"
)

// batchSizes are the rows per request of the batch phase.
var batchSizes = []int{1, 100, 1000}

// nameSingle is the batch phase's single-predict target; the batch
// targets are named by batchName.
const nameSingle = "single"

func batchName(rows int) string { return "batch/" + strconv.Itoa(rows) }

// batchTargetRows is the batch size the batch target is judged on, and
// batchTargetRatio the rows/s it must reach, relative to single predicts.
const (
	batchTargetRows  = 1000
	batchTargetRatio = 20.0
)

// batchPhase measures rows/s through POST /api/models/iris_model/predict/batch
// with batches of batchSizes rows, against single predicts to the same
// host, at each of opts.batchConc, alternating as the main phase does.
func (b *bench) batchPhase(ctx context.Context) error {
	logf("batch: starting a host with iris_model; batches of %v rows vs single predicts at concurrency %v", batchSizes, b.opts.batchConc)
	host, err := b.startHost("host-batch", b.hostBin, hostConfig([]modelBlock{
		{Name: "iris", Command: b.irisBin, Env: map[string]string{benchmodel.EnvName: "iris_model"}},
	}), nil)
	if err != nil {
		return err
	}
	defer b.stop(host)

	path := "/api/models/iris_model/predict"
	targets := []loadTarget{
		httpTarget(nameSingle, "POST "+path+", one setosa flower per request", host,
			loadgen.HTTPRequest{Addr: host.Addr, Path: path, Body: b.input, Expect: b.irisOut}),
	}
	for _, n := range batchSizes {
		body, want, err := batchRequest(ctx, n)
		if err != nil {
			return err
		}
		req := loadgen.HTTPRequest{Addr: host.Addr, Path: path + "/batch", Body: body, Timeout: predictTimeout}
		expect, err := referenceBatch(ctx, req, want)
		if err != nil {
			return fmt.Errorf("%s: %w", batchName(n), err)
		}
		targets = append(targets, loadTarget{
			name: batchName(n),
			desc: fmt.Sprintf("POST %s/batch, %d rows per request (the three iris examples in turn)", path, n),
			pids: processes(host),
			newWorker: func(int) (loadgen.Worker, error) {
				w, err := loadgen.NewHTTPWorker(req)
				if err != nil {
					return nil, err
				}
				return &batchWorker{w: w, rows: n, expect: expect}, nil
			},
		})
	}
	if err := check(ctx, targets); err != nil {
		return err
	}
	series, err := b.measure(ctx, targets, b.opts.batchConc)
	if err != nil {
		return err
	}
	for _, s := range series {
		s.Rows = 1
		for _, n := range batchSizes {
			if s.Server == batchName(n) {
				s.Rows = n
			}
		}
	}
	b.rep.Batch = series
	return nil
}

// batchRequest returns the body of a batch of n rows, the iris examples in
// turn, and the output the model gives for each row.
func batchRequest(ctx context.Context, n int) ([]byte, []json.RawMessage, error) {
	ex := irismodel.Examples()
	model := irismodel.New()
	outs := make([]json.RawMessage, len(ex))
	for i, e := range ex {
		in, err := json.Marshal(e)
		if err != nil {
			return nil, nil, err
		}
		if outs[i], err = model.Predict(ctx, in); err != nil {
			return nil, nil, err
		}
	}
	inputs := make([]irismodel.Input, n)
	want := make([]json.RawMessage, n)
	for i := range n {
		inputs[i], want[i] = ex[i%len(ex)], outs[i%len(ex)]
	}
	body, err := json.Marshal(map[string]any{"inputs": inputs})
	return body, want, err
}

// batchAnswer is the answer of the batch endpoint, as far as the
// benchmark checks it.
type batchAnswer struct {
	Outputs []json.RawMessage `json:"outputs"`
	Errors  []json.RawMessage `json:"errors"`
}

// checkBatch returns an error if body is not a batch answer with exactly
// rows outputs, none null, and no errors.
func checkBatch(body []byte, rows int) error {
	var a batchAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return errors.New("batch answer is not JSON")
	}
	if len(a.Errors) > 0 {
		return fmt.Errorf("batch answer with item errors")
	}
	if len(a.Outputs) != rows {
		return fmt.Errorf("batch answer with %d outputs for %d rows", len(a.Outputs), rows)
	}
	for _, o := range a.Outputs {
		if len(o) == 0 || string(o) == "null" {
			return errors.New("batch answer with a null output")
		}
	}
	return nil
}

// referenceBatch sends req once, checks the answer (the right number of
// outputs, no errors, each output the model's own for its row) and returns
// its body, which every answer under load must then equal.
func referenceBatch(ctx context.Context, req loadgen.HTTPRequest, want []json.RawMessage) ([]byte, error) {
	status, body, err := loadgen.Once(ctx, req)
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("status %d: %s", status, firstLines(string(body), 5))
	}
	if err := checkBatch(body, len(want)); err != nil {
		return nil, fmt.Errorf("%w: %s", err, firstLines(string(body), 5))
	}
	var a batchAnswer
	_ = json.Unmarshal(body, &a)
	for i, o := range a.Outputs {
		if !jsonEqual(o, want[i]) {
			return nil, fmt.Errorf("output %d is %s, want %s", i, o, want[i])
		}
	}
	return body, nil
}

func jsonEqual(a, b []byte) bool {
	var x, y bytes.Buffer
	return json.Compact(&x, a) == nil && json.Compact(&y, b) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}

// batchWorker sends a batch and checks its answer: the same bytes as the
// checked reference answer, or else counted as an error, named by what
// is wrong with it.
type batchWorker struct {
	w      *loadgen.HTTPWorker
	rows   int
	expect []byte
}

func (w *batchWorker) Do(ctx context.Context) error {
	if err := w.w.Do(ctx); err != nil {
		return err
	}
	body := w.w.LastBody()
	if bytes.Equal(body, w.expect) {
		return nil
	}
	if err := checkBatch(body, w.rows); err != nil {
		return err
	}
	return errors.New("batch answer differs from the reference")
}

func (w *batchWorker) Close() error { return w.w.Close() }

// batchSummary is one row of the batch table.
type batchSummary struct {
	Server      string  `json:"server"`
	Rows        int     `json:"rows_per_request"`
	Concurrency int     `json:"concurrency"`
	RequestsPS  float64 `json:"requests_per_second"`
	RowsPS      float64 `json:"rows_per_second"`
	// P50 is the median latency of one request (of all its rows).
	P50 time.Duration `json:"p50_ns"`
	// RatioToSingle is RowsPS over the rows/s (= requests/s) of single
	// predicts at the same concurrency in the same run; 0 if unknown.
	RatioToSingle float64 `json:"ratio_to_single"`
	Errors        int     `json:"errors"`
	Requests      int     `json:"requests"`
}

// summarizeBatch computes the batch table from the batch series.
func (r *report) summarizeBatch() {
	r.BatchSummary = nil
	for _, s := range r.Batch {
		rows := max(s.Rows, 1)
		sum := batchSummary{
			Server: s.Server, Rows: rows, Concurrency: s.Concurrency,
			RequestsPS: s.Median.Throughput, RowsPS: s.Median.Throughput * float64(rows), P50: s.Median.P50,
			Errors: s.Errors, Requests: s.Requests,
		}
		if single := r.find(r.Batch, nameSingle, s.Concurrency); single != nil && single.Median.Throughput > 0 {
			sum.RatioToSingle = sum.RowsPS / single.Median.Throughput
		}
		r.BatchSummary = append(r.BatchSummary, sum)
	}
}
