package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/plugins/iris/irismodel"
)

// benchBatch1000 is a batch of 1000 iris inputs, benchInput each.
var benchBatch1000 = []byte(`{"inputs":[` + strings.TrimSuffix(strings.Repeat(string(benchInput)+",", 1000), ",") + `]}`)

// BenchmarkBatchDecode is the host's per-request JSON work on a batch of
// 1000 inputs before the model: parse the body, then validate each input.
func BenchmarkBatchDecode(b *testing.B) {
	schema := benchInputSchema(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBatch1000)))
	for b.Loop() {
		doc, err := parseJSON(benchBatch1000)
		if err != nil {
			b.Fatal(err)
		}
		items, err := batchItems(doc)
		if err != nil {
			b.Fatal(err)
		}
		for _, item := range items {
			if err := validateInput(schema, item, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBatchInProcess is the whole batch handler for 1000 inputs, the
// model called directly (one Predict per input).
func BenchmarkBatchInProcess(b *testing.B) {
	h := benchAPI(b, irismodel.New())
	do := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/models/iris_model/predict/batch", bytes.NewReader(benchBatch1000))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := do(); rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"errors":[]`)) {
		b.Fatalf("batch: %d %.300s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBatch1000)))
	for b.Loop() {
		if rec := do(); rec.Code != http.StatusOK {
			b.Fatalf("batch: %d %.300s", rec.Code, rec.Body)
		}
	}
}
