package problem

// Benchmarks of problem rendering, the cost of every error answer: mapping
// an error to problem details and writing them as application/problem+json.
// Run them with
//
//	go test -run '^$' -bench . -benchmem ./host/internal/problem

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// benchErrors are the errors the benchmarks render: the common 4xx
// answers and a wrapped 5xx one, as the handlers return them.
var benchErrors = []struct {
	name string
	err  error
}{
	{"invalid-input", &ValidationError{Fields: []FieldError{
		{Pointer: "/petal_length", Detail: "must be greater than 0, got -1.4"},
		{Pointer: "/petal_width", Detail: "is required"},
	}}},
	{"model-rejected", fmt.Errorf("model iris_model: predict: %w", &sdk.InputError{Detail: "measurements out of range",
		Fields: []sdk.FieldError{{Pointer: "/sepal_length", Detail: "got 51, want a length in centimetres greater than 0 and at most 12"}}})},
	{"malformed-json", MalformedJSON("unexpected end of JSON input at line 1, column 17 (byte offset 16): the document is incomplete")},
	{"not-found", ModelNotFound("nope")},
	{"unavailable", fmt.Errorf("model iris_model: predict: %w: connection closed", plugin.ErrUnavailable)},
}

// BenchmarkFromError maps each error to its problem details.
func BenchmarkFromError(b *testing.B) {
	for _, e := range benchErrors {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := FromError(e.err); d.Status == 0 {
					b.Fatal("no status")
				}
			}
		})
	}
}

// BenchmarkWrite maps each error and writes the answer into a recorder,
// as the API's error handler does.
func BenchmarkWrite(b *testing.B) {
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/api/models/iris_model/predict", nil)
	for _, be := range benchErrors {
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				c := e.NewContext(req, rec)
				if err := Write(c, FromError(be.err)); err != nil {
					b.Fatal(err)
				}
				if rec.Code < 400 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
