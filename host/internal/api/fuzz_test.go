package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/limit"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// fuzzInput exercises what the SDK reflects into schemas: bounds, enums,
// lengths, nested arrays and objects, maps, pointers and narrow integers.
type fuzzInput struct {
	Name   string            `json:"name" jsonschema:"minLength=1,maxLength=20"`
	Count  int               `json:"count" jsonschema:"minimum=0,maximum=100"`
	Ratio  float64           `json:"ratio,omitempty" jsonschema:"exclusiveMinimum=0,maximum=1"`
	Tags   []string          `json:"tags,omitempty" jsonschema:"maxItems=5"`
	Kind   string            `json:"kind,omitempty" jsonschema:"enum=a,enum=b"`
	Matrix [][]float64       `json:"matrix,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Inner  *fuzzInner        `json:"inner,omitempty"`
}

type fuzzInner struct {
	Flag  bool    `json:"flag"`
	Big   int64   `json:"big,omitempty"`
	Small uint8   `json:"small,omitempty"`
	Score float32 `json:"score,omitempty"`
}

type fuzzOutput struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Rows  int    `json:"rows"`
}

func fuzzAPI(tb testing.TB) http.Handler {
	tb.Helper()
	model := sdk.NewModel(sdk.Info{QualifiedName: "fuzz", DisplayName: "Fuzz", Version: "1.0.0"},
		func(_ context.Context, in fuzzInput) (fuzzOutput, error) {
			return fuzzOutput{Name: in.Name, Count: in.Count, Rows: len(in.Matrix)}, nil
		})
	reg := registry.New()
	entry, err := registry.NewEntry(model, "in-process", 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	entry.Limiter = limit.New(limit.Limits{MaxConcurrency: 4, MaxQueue: 4, QueueTimeout: time.Second})
	if err := reg.Add(entry); err != nil {
		tb.Fatal(err)
	}
	return New(reg, Options{MaxBodyBytes: 64 << 10})
}

// FuzzPredictRequest feeds arbitrary bodies and content types through the
// whole predict handler, to an in-process model built with sdk.NewModel.
// Whatever comes in, the answer is 200 with the model's JSON output or a
// 4xx problem details document; never a 5xx, never a panic. The seed
// corpus is in testdata/fuzz/FuzzPredictRequest.
func FuzzPredictRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"name":"a","count":1}`))
	f.Add("application/json; charset=utf-8", []byte(`{"name":"a","count":1,"matrix":[[1,2],[3]],"inner":{"flag":true,"small":255}}`))
	f.Add("application/problem+json", []byte(`{"name":"","count":-1}`))
	f.Add("text/plain", []byte(`{"name":"a","count":1}`))
	f.Add("application/json", []byte(`{"name":"a","count":1e400}`))
	h := fuzzAPI(f)

	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/models/fuzz/predict", bytes.NewReader(body))
		req.Header["Content-Type"] = []string{contentType}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		ct := rec.Header().Get("Content-Type")
		switch {
		case rec.Code == http.StatusOK:
			if ct != "application/json" {
				t.Errorf("200 with Content-Type %q", ct)
			}
			var out fuzzOutput
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Errorf("200 with a body that is not the output: %v: %s", err, rec.Body)
			}
			if !json.Valid(body) {
				t.Errorf("200 for a body that is not valid JSON: %q", body)
			}
		case rec.Code >= 400 && rec.Code < 500:
			if ct != problem.ContentType {
				t.Errorf("%d with Content-Type %q", rec.Code, ct)
			}
			var d problem.Details
			if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || d.Status != rec.Code || d.Type == "" || d.Title == "" || d.Detail == "" {
				t.Errorf("%d with a body that is not problem details (%v): %s", rec.Code, err, rec.Body)
			}
		default:
			t.Errorf("status %d for Content-Type %q and body %q: %s", rec.Code, contentType, body, rec.Body)
		}
		if rec.Header().Get(HeaderRequestID) == "" {
			t.Error("response without X-Request-ID")
		}
	})
}

// FuzzParseJSON compares parseJSON with encoding/json: it accepts only
// what encoding/json accepts, and what it accepts it reads the same; what
// it refuses is a 400, or a 422 for numbers out of range. The seed corpus
// is in testdata/fuzz/FuzzParseJSON.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"a": [1, 2.5, "x", true, null, {"b": {}}]}`))
	f.Add([]byte(`{"a": 1, "a": 2}`))
	f.Add([]byte(`"\ud800"`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := parseJSON(body)
		valid := json.Valid(body)
		if err != nil {
			d, ok := err.(*problem.Details)
			if !ok {
				t.Fatalf("parseJSON error %T %v, want *problem.Details", err, err)
			}
			switch d.Status {
			case http.StatusBadRequest:
			case http.StatusUnprocessableEntity:
				if !valid {
					t.Errorf("422 for a body that is not valid JSON: %q", body)
				}
				if len(d.Errors) == 0 {
					t.Errorf("422 without errors for %q", body)
				}
			default:
				t.Errorf("parseJSON: status %d for %q", d.Status, body)
			}
			return
		}
		if !valid {
			t.Fatalf("parseJSON accepted a body that encoding/json rejects: %q", body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if !reflect.DeepEqual(doc, want) {
			t.Errorf("parseJSON(%q) = %#v, encoding/json reads %#v", body, doc, want)
		}
		if strings.HasPrefix(string(body), "\xef\xbb\xbf") {
			t.Errorf("accepted a byte order mark: %q", body)
		}
	})
}
