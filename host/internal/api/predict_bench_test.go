package api

// Benchmarks of the prediction hot path on the host's side: what the
// handler does to a request before and after the model. Run them with
//
//	go test -run '^$' -bench . -benchmem ./host/internal/api
//
// host/bench measures the whole path over HTTP and real processes; these
// say which piece costs what (BenchmarkCheckOutput, in output_test.go, is
// the output's share). docs/performance.md has the method.

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/plugins/iris/irismodel"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

// benchInput is the request body of every benchmark: the iris model's
// first example, as host/bench sends it.
var benchInput = []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)

// benchInputSchema returns the iris model's input schema, compiled.
func benchInputSchema(b *testing.B) *jsonschema.Schema {
	b.Helper()
	s, err := schemacheck.Compile(irismodel.New().InputSchema())
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkParseJSON is the host's parser: token by token, with the
// I-JSON checks.
func BenchmarkParseJSON(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchInput)))
	for b.Loop() {
		if _, err := parseJSON(benchInput); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalJSONSchemaLib is jsonschema.UnmarshalJSON, the parse
// host/bench's baseline does, for comparison with BenchmarkParseJSON.
func BenchmarkUnmarshalJSONSchemaLib(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchInput)))
	for b.Loop() {
		if _, err := jsonschema.UnmarshalJSON(bytes.NewReader(benchInput)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateInput validates a parsed valid input against the iris
// input schema.
func BenchmarkValidateInput(b *testing.B) {
	schema := benchInputSchema(b)
	doc, err := parseJSON(benchInput)
	if err != nil {
		b.Fatal(err)
	}
	p := message.NewPrinter(language.English)
	b.ReportAllocs()
	for b.Loop() {
		if err := validateInput(schema, doc, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateInputInvalid is the 422 path: an input with one value
// out of bounds and one missing, turned into field errors.
func BenchmarkValidateInputInvalid(b *testing.B) {
	schema := benchInputSchema(b)
	doc, err := parseJSON([]byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":-1.4}`))
	if err != nil {
		b.Fatal(err)
	}
	p := message.NewPrinter(language.English)
	b.ReportAllocs()
	for b.Loop() {
		if err := validateInput(schema, doc, p); err == nil {
			b.Fatal("invalid input accepted")
		}
	}
}

// BenchmarkDecodeAndValidate is all the handler does to a valid request
// before the model: Content-Type, parse, validate.
func BenchmarkDecodeAndValidate(b *testing.B) {
	schema := benchInputSchema(b)
	p := message.NewPrinter(language.English)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchInput)))
	for b.Loop() {
		if err := checkContentType("application/json"); err != nil {
			b.Fatal(err)
		}
		doc, err := parseJSON(benchInput)
		if err != nil {
			b.Fatal(err)
		}
		if err := validateInput(schema, doc, p); err != nil {
			b.Fatal(err)
		}
	}
}

// benchAPI returns the API serving model as the host would, with the
// default options.
func benchAPI(b *testing.B, model sdk.MLModel) http.Handler {
	b.Helper()
	e, err := registry.NewEntry(model, "bench", 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	reg := registry.New()
	if err := reg.Add(e); err != nil {
		b.Fatal(err)
	}
	return New(reg, Options{})
}

func benchPredict(b *testing.B, h http.Handler) {
	b.Helper()
	want, err := irismodel.New().Predict(context.Background(), benchInput)
	if err != nil {
		b.Fatal(err)
	}
	do := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/models/iris_model/predict", bytes.NewReader(benchInput))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := do(); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
		b.Fatalf("predict: %d %s, want 200 %s", rec.Code, rec.Body, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		if rec := do(); rec.Code != http.StatusOK {
			b.Fatalf("predict: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkPredictInProcess is the whole handler, middleware included,
// with the model called directly: the host's cost without the hop (and
// without HTTP parsing: the request is handed to the handler).
func BenchmarkPredictInProcess(b *testing.B) {
	benchPredict(b, benchAPI(b, irismodel.New()))
}

// BenchmarkPredictServeTest is the whole handler with the model behind
// real gRPC over an in-memory connection (plugin.ServeTest): the hop's
// protobuf and gRPC work without TLS, sockets or a second process.
func BenchmarkPredictServeTest(b *testing.B) {
	benchPredict(b, benchAPI(b, plugin.ServeTest(b, irismodel.New())))
}
