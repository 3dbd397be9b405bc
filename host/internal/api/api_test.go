package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// secret stands for whatever a failing model or the server says internally;
// it must reach the log and never a response.
const secret = "SECRET: goroutine 7 [running]: model.go:42"

const testMaxBody = 512

type irisInput struct {
	SepalLength float64 `json:"sepal_length" jsonschema:"minimum=0"`
	SepalWidth  float64 `json:"sepal_width" jsonschema:"minimum=0"`
	PetalLength float64 `json:"petal_length" jsonschema:"minimum=0"`
	PetalWidth  float64 `json:"petal_width" jsonschema:"minimum=0"`
}

type irisOutput struct {
	Species string `json:"species"`
}

func irisModel() sdk.MLModel {
	return sdk.NewModel(sdk.Info{
		QualifiedName: "iris_model",
		DisplayName:   "Iris classifier",
		Description:   "Classifies iris flowers.",
		Version:       "1.0.0",
	}, func(_ context.Context, in irisInput) (irisOutput, error) {
		if in.PetalLength < 2.5 {
			return irisOutput{Species: "setosa"}, nil
		}
		return irisOutput{Species: "versicolor"}, nil
	})
}

// fakeModel is a model whose Predict does whatever the test needs; it
// accepts any object.
type fakeModel struct {
	name    string
	predict func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)
}

func (m *fakeModel) Info() sdk.Info {
	return sdk.Info{QualifiedName: m.name, DisplayName: "Fake " + m.name, Version: "0.1.0"}
}

func (m *fakeModel) InputSchema() json.RawMessage  { return json.RawMessage(`{"type":"object"}`) }
func (m *fakeModel) OutputSchema() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }

func (m *fakeModel) Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	return m.predict(ctx, input)
}

const slowTimeout = 50 * time.Millisecond

func testRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	reg := registry.New()
	add := func(m sdk.MLModel, timeout time.Duration) {
		t.Helper()
		e, err := registry.NewEntry(m, "test", timeout)
		if err != nil {
			t.Fatalf("registry.NewEntry(%s): %v", m.Info().QualifiedName, err)
		}
		if err := reg.Add(e); err != nil {
			t.Fatalf("registry.Add(%s): %v", m.Info().QualifiedName, err)
		}
	}
	fake := func(name string, predict func(context.Context, json.RawMessage) (json.RawMessage, error)) {
		add(&fakeModel{name: name, predict: predict}, 5*time.Second)
	}
	add(irisModel(), 5*time.Second)
	fake("echo", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		return in, nil
	})
	fake("unavailable", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, fmt.Errorf("%w: %s", plugin.ErrUnavailable, secret)
	})
	add(&fakeModel{name: "slow", predict: func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		select {
		case <-time.After(10 * time.Second):
			return json.RawMessage(`{}`), nil
		case <-ctx.Done():
			return nil, fmt.Errorf("plugin call: %w", ctx.Err())
		}
	}}, slowTimeout)
	fake("broken", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, fmt.Errorf("%w: %s", plugin.ErrModelFailed, secret)
	})
	fake("internal", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, errors.New(secret)
	})
	fake("picky", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, sdk.InvalidInput("petals this wide are not irises",
			sdk.FieldError{Pointer: "/petal_width", Detail: "must be below 3"})
	})
	fake("panicky", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		panic(secret)
	})
	fake("garbage", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"species": "setosa"`), nil
	})
	fake("confused", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, fmt.Errorf("%w: %s", plugin.ErrProtocol, secret)
	})
	fake("canceled", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, fmt.Errorf("plugin call: %w", context.Canceled)
	})
	return reg
}

// testAPI returns the API over testRegistry and the buffer its log goes to.
func testAPI(t *testing.T) (*echo.Echo, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Debug})
	return New(testRegistry(t), Options{MaxBodyBytes: testMaxBody, Logger: logger}), &log
}

type request struct {
	method      string
	path        string
	contentType string
	body        string
}

func (r request) do(e *echo.Echo) *httptest.ResponseRecorder {
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func predict(model, body string) request {
	return request{http.MethodPost, "/api/models/" + model + "/predict", "application/json", body}
}

const irisInputJSON = `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`

func TestListModels(t *testing.T) {
	e, _ := testAPI(t)
	rec := request{method: http.MethodGet, path: "/api/models"}.do(e)
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	var got ModelList
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	var names []string
	for _, m := range got.Models {
		names = append(names, m.QualifiedName)
	}
	wantNames := []string{"broken", "canceled", "confused", "echo", "garbage", "internal",
		"iris_model", "panicky", "picky", "slow", "unavailable"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("model names (-want +got):\n%s", diff)
	}
	wantIris := ModelSummary{
		QualifiedName: "iris_model",
		DisplayName:   "Iris classifier",
		Description:   "Classifies iris flowers.",
		Version:       "1.0.0",
		Status:        registry.StatusReady,
		Default:       true,
	}
	if diff := cmp.Diff(wantIris, got.Models[6]); diff != "" {
		t.Errorf("iris_model (-want +got):\n%s", diff)
	}
	var raw map[string][]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"default", "description", "display_name", "qualified_name", "restarts", "status", "version"}
	if diff := cmp.Diff(wantKeys, slices.Sorted(maps.Keys(raw["models"][0]))); diff != "" {
		t.Errorf("keys of a model (-want +got):\n%s", diff)
	}
}

func TestListModelsEmpty(t *testing.T) {
	e := New(registry.New(), Options{})
	rec := request{method: http.MethodGet, path: "/api/models"}.do(e)
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", rec.Code)
	}
	if got, want := rec.Body.String(), `{"models":[]}`; got != want {
		t.Errorf("body: got %s, want %s", got, want)
	}
}

func TestModelMetadata(t *testing.T) {
	e, _ := testAPI(t)
	rec := request{method: http.MethodGet, path: "/api/models/iris_model/metadata"}.do(e)
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	model := irisModel()
	var inSchema, outSchema map[string]any
	if err := json.Unmarshal(model.InputSchema(), &inSchema); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(model.OutputSchema(), &outSchema); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"qualified_name": "iris_model",
		"display_name":   "Iris classifier",
		"description":    "Classifies iris flowers.",
		"version":        "1.0.0",
		"status":         "ready",
		"restarts":       0.0,
		"default":        true,
		"input_schema":   inSchema,
		"output_schema":  outSchema,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
}

func TestPredict(t *testing.T) {
	e, _ := testAPI(t)
	rec := predict("iris_model", irisInputJSON).do(e)
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	if got, want := rec.Body.String(), `{"species":"setosa"}`; got != want {
		t.Errorf("body: got %s, want %s", got, want)
	}
}

func TestPredictPassesBytesThrough(t *testing.T) {
	e, _ := testAPI(t)
	for _, body := range []string{
		`{"b": 1.000000000000000000001e0,  "a": [ ], "big": 123456789012345678901234567890}`,
		"\n{\"é\":\"\\u00e9\"}\n",
	} {
		rec := predict("echo", body).do(e)
		if rec.Code != http.StatusOK {
			t.Fatalf("status: got %d, want 200; body %s", rec.Code, rec.Body)
		}
		if got := rec.Body.String(); got != body {
			t.Errorf("body: got %q, want %q", got, body)
		}
	}
}

func TestContentTypesAccepted(t *testing.T) {
	e, _ := testAPI(t)
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "APPLICATION/JSON;charset=UTF-8", "application/vnd.iris+json"} {
		req := predict("iris_model", irisInputJSON)
		req.contentType = ct
		if rec := req.do(e); rec.Code != http.StatusOK {
			t.Errorf("Content-Type %q: got %d, want 200; body %s", ct, rec.Code, rec.Body)
		}
	}
}

func TestProblems(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", testMaxBody) + `"}`
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantType   string
		// wantDetail, if set, must be contained in the detail.
		wantDetail string
		wantErrors []problem.FieldError
		wantHeader map[string]string
		// wantSecretLogged: the model's error text must be in the log.
		wantSecretLogged bool
	}{
		{
			name:       "unknown model",
			req:        predict("no_such_model", irisInputJSON),
			wantStatus: 404,
			wantType:   problem.TypeModelNotFound,
			wantDetail: `no model called "no_such_model" is served`,
		},
		{
			name:       "name that cannot be a model",
			req:        predict("Iris%20Model", irisInputJSON),
			wantStatus: 404,
			wantType:   problem.TypeModelNotFound,
		},
		{
			name:       "path trick",
			req:        request{method: http.MethodGet, path: "/api/models/..%2F..%2Fetc%2Fpasswd/metadata"},
			wantStatus: 404,
			wantType:   problem.TypeModelNotFound,
		},
		{
			name:       "unknown model metadata",
			req:        request{method: http.MethodGet, path: "/api/models/nope/metadata"},
			wantStatus: 404,
			wantType:   problem.TypeModelNotFound,
			wantDetail: `"nope"`,
		},
		{
			name:       "unknown model comes before a bad content type",
			req:        request{http.MethodPost, "/api/models/nope/predict", "text/plain", "x"},
			wantStatus: 404,
			wantType:   problem.TypeModelNotFound,
		},
		{
			name:       "unknown route",
			req:        request{method: http.MethodGet, path: "/api/nothing"},
			wantStatus: 404,
			wantType:   problem.TypeNotFound,
		},
		{
			name:       "root",
			req:        request{method: http.MethodGet, path: "/"},
			wantStatus: 404,
			wantType:   problem.TypeNotFound,
		},
		{
			name:       "GET on predict",
			req:        request{method: http.MethodGet, path: "/api/models/iris_model/predict"},
			wantStatus: 405,
			wantType:   problem.TypeMethodNotAllowed,
			wantHeader: map[string]string{"Allow": "OPTIONS, POST"},
		},
		{
			name:       "DELETE on the list",
			req:        request{method: http.MethodDelete, path: "/api/models"},
			wantStatus: 405,
			wantType:   problem.TypeMethodNotAllowed,
			wantHeader: map[string]string{"Allow": "OPTIONS, GET"},
		},
		{
			name:       "no content type",
			req:        request{http.MethodPost, "/api/models/iris_model/predict", "", irisInputJSON},
			wantStatus: 415,
			wantType:   problem.TypeUnsupportedMediaType,
			wantDetail: "send Content-Type: application/json",
		},
		{
			name:       "form content type",
			req:        request{http.MethodPost, "/api/models/iris_model/predict", "application/x-www-form-urlencoded", "a=1"},
			wantStatus: 415,
			wantType:   problem.TypeUnsupportedMediaType,
			wantDetail: `Content-Type "application/x-www-form-urlencoded" is not supported; send Content-Type: application/json`,
		},
		{
			name:       "non-UTF-8 charset",
			req:        request{http.MethodPost, "/api/models/iris_model/predict", "application/json; charset=latin1", irisInputJSON},
			wantStatus: 415,
			wantType:   problem.TypeUnsupportedMediaType,
		},
		{
			name:       "content type comes before size",
			req:        request{http.MethodPost, "/api/models/iris_model/predict", "text/plain", big},
			wantStatus: 415,
			wantType:   problem.TypeUnsupportedMediaType,
		},
		{
			name:       "body too large",
			req:        predict("iris_model", big),
			wantStatus: 413,
			wantType:   problem.TypeBodyTooLarge,
			wantDetail: fmt.Sprintf("limit of %d bytes", testMaxBody),
		},
		{
			name:       "size comes before syntax",
			req:        predict("iris_model", "{"+strings.Repeat(" ", testMaxBody)),
			wantStatus: 413,
			wantType:   problem.TypeBodyTooLarge,
		},
		{
			name:       "empty body",
			req:        predict("iris_model", ""),
			wantStatus: 400,
			wantType:   problem.TypeMalformedJSON,
			wantDetail: "the request body is empty",
		},
		{
			name:       "syntax error",
			req:        predict("iris_model", `{"sepal_length": 5.1,}`),
			wantStatus: 400,
			wantType:   problem.TypeMalformedJSON,
			wantDetail: "at line 1, column 22 (byte offset 21)",
		},
		{
			name:       "truncated",
			req:        predict("iris_model", `{"sepal_length": 5.1`),
			wantStatus: 400,
			wantType:   problem.TypeMalformedJSON,
			wantDetail: "unexpected end of JSON input",
		},
		{
			name:       "two documents",
			req:        predict("iris_model", irisInputJSON+irisInputJSON),
			wantStatus: 400,
			wantType:   problem.TypeMalformedJSON,
			wantDetail: "unexpected data after the JSON document",
		},
		{
			name:       "schema: missing property",
			req:        predict("iris_model", `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4}`),
			wantStatus: 422,
			wantType:   problem.TypeInvalidInput,
			wantDetail: "the input does not match the model's input schema",
			wantErrors: []problem.FieldError{{Pointer: "/petal_width", Detail: "is required"}},
		},
		{
			name:       "schema: several problems",
			req:        predict("iris_model", `{"sepal_length":-1,"sepal_width":"3.5","petal_length":1.4,"petal_width":0.2,"colour":"blue"}`),
			wantStatus: 422,
			wantType:   problem.TypeInvalidInput,
			wantErrors: []problem.FieldError{
				{Pointer: "/colour", Detail: "is not allowed: the schema defines no such property"},
				{Pointer: "/sepal_length", Detail: "must be at least 0, got -1"},
				{Pointer: "/sepal_width", Detail: "got string, want number"},
			},
		},
		{
			name:       "schema: not an object",
			req:        predict("iris_model", `[5.1, 3.5, 1.4, 0.2]`),
			wantStatus: 422,
			wantType:   problem.TypeInvalidInput,
			wantErrors: []problem.FieldError{{Pointer: "", Detail: "got array, want object"}},
		},
		{
			name:       "model rejects the input",
			req:        predict("picky", `{}`),
			wantStatus: 422,
			wantType:   problem.TypeInvalidInput,
			wantDetail: "petals this wide are not irises",
			wantErrors: []problem.FieldError{{Pointer: "/petal_width", Detail: "must be below 3"}},
		},
		{
			name:             "model fails",
			req:              predict("broken", `{}`),
			wantStatus:       500,
			wantType:         problem.TypeModelFailed,
			wantSecretLogged: true,
		},
		{
			name:             "model returns an unknown error",
			req:              predict("internal", `{}`),
			wantStatus:       500,
			wantType:         problem.TypeInternalError,
			wantSecretLogged: true,
		},
		{
			name:             "model panics",
			req:              predict("panicky", `{}`),
			wantStatus:       500,
			wantType:         problem.TypeInternalError,
			wantSecretLogged: true,
		},
		{
			name:       "model answers invalid JSON",
			req:        predict("garbage", `{}`),
			wantStatus: 502,
			wantType:   problem.TypeBadPluginResponse,
		},
		{
			name:             "plugin breaks the protocol",
			req:              predict("confused", `{}`),
			wantStatus:       502,
			wantType:         problem.TypeBadPluginResponse,
			wantSecretLogged: true,
		},
		{
			name:             "plugin unavailable",
			req:              predict("unavailable", `{}`),
			wantStatus:       503,
			wantType:         problem.TypeModelUnavailable,
			wantSecretLogged: true,
			wantHeader:       map[string]string{"Retry-After": "1"},
		},
		{
			name:       "model too slow",
			req:        predict("slow", `{}`),
			wantStatus: 504,
			wantType:   problem.TypeModelTimeout,
			wantDetail: "the model did not answer within its predict timeout of 50ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, log := testAPI(t)
			rec := tt.req.do(e)
			d := checkProblem(t, rec, tt.req.path, tt.wantStatus, tt.wantType)
			if !strings.Contains(d.Detail, tt.wantDetail) {
				t.Errorf("detail: got %q, want it to contain %q", d.Detail, tt.wantDetail)
			}
			if diff := cmp.Diff(tt.wantErrors, d.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if _, ok := tt.wantHeader["Retry-After"]; !ok && rec.Header().Get("Retry-After") != "" {
				t.Errorf("Retry-After: got %q, want none", rec.Header().Get("Retry-After"))
			}
			if strings.Contains(rec.Body.String(), "SECRET") || strings.Contains(rec.Body.String(), "goroutine") {
				t.Errorf("body leaks internal error text: %s", rec.Body)
			}
			switch logged := log.String(); {
			case tt.wantStatus < 500 && strings.Contains(logged, "[ERROR]"):
				t.Errorf("a %d was logged as an error:\n%s", tt.wantStatus, logged)
			case tt.wantStatus == 503 && !strings.Contains(logged, "[WARN]"):
				t.Errorf("a 503 was not logged as a warning:\n%s", logged)
			case tt.wantStatus >= 500 && tt.wantStatus != 503 && !strings.Contains(logged, "[ERROR]"):
				t.Errorf("a %d was not logged as an error:\n%s", tt.wantStatus, logged)
			case tt.wantSecretLogged && !strings.Contains(logged, secret):
				t.Errorf("the real error is not in the log:\n%s", logged)
			}
		})
	}
}

// checkProblem checks that rec is a problem details response with the
// given status and type, and returns it.
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, path string, status int, typ string) problem.Details {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status: got %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != problem.ContentType {
		t.Errorf("Content-Type: got %q, want %q", got, problem.ContentType)
	}
	var d problem.Details
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode problem %s: %v", rec.Body, err)
	}
	if d.Status != status {
		t.Errorf("status member: got %d, want %d", d.Status, status)
	}
	if d.Type != typ {
		t.Errorf("type: got %q, want %q", d.Type, typ)
	}
	if d.Title == "" || d.Detail == "" {
		t.Errorf("title %q, detail %q: want both set", d.Title, d.Detail)
	}
	if want, _, _ := strings.Cut(path, "?"); d.Instance != want {
		t.Errorf("instance: got %q, want %q", d.Instance, want)
	}
	return d
}

func TestPanicIsLoggedWithStack(t *testing.T) {
	e, log := testAPI(t)
	rec := predict("panicky", `{}`).do(e)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status: got %d, want 500", rec.Code)
	}
	for _, want := range []string{"[ERROR]", "panic: " + secret, "stack=", "model=panicky"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, log)
		}
	}
}

func TestClientGone(t *testing.T) {
	obs := &recorder{}
	var log bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Debug})
	e := New(testRegistry(t), Options{MaxBodyBytes: testMaxBody, Logger: logger, Observer: obs, AccessLog: true})
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/models/slow/predict", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.ServeHTTP(rec, req)
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not return after the client went away")
	}
	if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
		t.Errorf("got a response for a client that went away: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	// Recorded as nginx records it: 499, in the metrics and in both log
	// lines.
	if n := obs.count("done /api/models/:name/predict POST slow 0.1.0 499"); n != 1 {
		t.Errorf("observer was told %q, want one request with status 499", obs.lines)
	}
	for _, want := range []string{"client went away: ", "method=POST path=/api/models/slow/predict status=499"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if strings.Count(log.String(), "status=499") != 2 {
		t.Errorf("want status=499 in the debug line and the access line:\n%s", log.String())
	}
}

// TestOverHTTP runs the API behind a real HTTP server, where bodies arrive
// in pieces and may have no Content-Length.
func TestOverHTTP(t *testing.T) {
	e, _ := testAPI(t)
	srv := httptest.NewServer(e)
	defer srv.Close()

	post := func(t *testing.T, body io.Reader) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/models/iris_model/predict", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	t.Run("predict", func(t *testing.T) {
		res := post(t, strings.NewReader(irisInputJSON))
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || string(b) != `{"species":"setosa"}` {
			t.Errorf("got %d %s, want 200 {\"species\":\"setosa\"}", res.StatusCode, b)
		}
	})
	t.Run("chunked body too large", func(t *testing.T) {
		// An io.Reader that is not a *strings.Reader hides the length, so
		// the client sends the body chunked.
		body := io.MultiReader(strings.NewReader(`{"x":"`), strings.NewReader(strings.Repeat("a", 4*testMaxBody)), strings.NewReader(`"}`))
		res := post(t, body)
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status: got %d, want 413", res.StatusCode)
		}
		if got := res.Header.Get("Content-Type"); got != problem.ContentType {
			t.Errorf("Content-Type: got %q, want %q", got, problem.ContentType)
		}
	})
}

// TestConcurrentRequests lets the race detector watch the handlers share
// the registry, the schema validators and the message printer.
func TestConcurrentRequests(t *testing.T) {
	e, _ := testAPI(t)
	reqs := []struct {
		req    request
		status int
	}{
		{predict("iris_model", irisInputJSON), 200},
		{predict("iris_model", `{"sepal_length":-1}`), 422},
		{predict("picky", `{}`), 422},
		{predict("broken", `{}`), 500},
		{request{method: http.MethodGet, path: "/api/models"}, 200},
	}
	errs := make(chan error, 10*len(reqs))
	for range 10 {
		for _, r := range reqs {
			go func() {
				if rec := r.req.do(e); rec.Code != r.status {
					errs <- fmt.Errorf("%s %s: got %d, want %d", r.req.method, r.req.path, rec.Code, r.status)
					return
				}
				errs <- nil
			}()
		}
	}
	for range 10 * len(reqs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
