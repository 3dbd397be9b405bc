package openapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/limit"
	"github.com/modelhost/modelhost/host/internal/openapi/openapitest"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// operations returns every operation of doc by "METHOD path".
func operations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	ops := map[string]map[string]any{}
	for path, item := range get(t, doc, "paths").(map[string]any) {
		for method, op := range item.(map[string]any) {
			ops[strings.ToUpper(method)+" "+path] = op.(map[string]any)
		}
	}
	return ops
}

func statuses(op map[string]any) []string {
	var s []string
	for status := range op["responses"].(map[string]any) {
		s = append(s, status)
	}
	slices.Sort(s)
	return s
}

func TestAuthOff(t *testing.T) {
	geo, _ := pointModels()
	doc, _ := buildDocWith(t, Options{Version: "1.2.3"}, geo)

	if got, ok := doc["security"].([]any); !ok || len(got) != 0 {
		t.Errorf("security = %v, want []", doc["security"])
	}
	// Only the admin token's scheme, which POST /admin/reload needs
	// whatever the API's authentication.
	schemes := get(t, doc, "components", "securitySchemes").(map[string]any)
	if _, ok := schemes["bearerAuth"]; ok || len(schemes) != 1 {
		t.Errorf("components/securitySchemes = %v without authentication, want adminAuth only", schemes)
	}
	for _, name := range []string{"Unauthorized"} {
		if _, ok := get(t, doc, "components", "responses").(map[string]any)[name]; ok {
			t.Errorf("components/responses has %s without authentication", name)
		}
	}
	if d, _ := get(t, doc, "info", "description").(string); !strings.Contains(d, "no authentication") {
		t.Errorf("info.description does not say there is no authentication:\n%s", d)
	}
	predict := []string{"200", "400", "404", "408", "413", "415", "422", "429", "431", "500", "502", "503", "504"}
	metadata := []string{"200", "404", "431", "500"}
	want := map[string][]string{
		"GET /api/models": {"200", "431", "500"},
		"GET /api/models/{qualified_name}/metadata":                          metadata,
		"POST /api/models/{qualified_name}/predict":                          predict,
		"POST /api/models/geo/predict":                                       predict,
		"POST /api/models/{qualified_name}/predict/batch":                    predict,
		"POST /api/models/geo/predict/batch":                                 predict,
		"GET /api/models/{qualified_name}/versions/{version}/metadata":       metadata,
		"POST /api/models/{qualified_name}/versions/{version}/predict":       predict,
		"POST /api/models/{qualified_name}/versions/{version}/predict/batch": predict,
		"GET /api/models/geo/versions/1.0.0/metadata":                        metadata,
		"POST /api/models/geo/versions/1.0.0/predict":                        predict,
		"POST /api/models/geo/versions/1.0.0/predict/batch":                  predict,
		"GET /healthz":       {"200", "431", "500"},
		"GET /readyz":        {"200", "431", "500", "503"},
		"GET /metrics":       {"200", "431", "500", "503"},
		"POST /admin/reload": {"200", "401", "403", "422", "431", "500"},
	}
	got := map[string][]string{}
	for name, op := range operations(t, doc) {
		got[name] = statuses(op)
		if name == "POST /admin/reload" {
			if diff := cmp.Diff([]any{map[string]any{"adminAuth": []any{}}}, op["security"]); diff != "" {
				t.Errorf("%s security (-want +got):\n%s", name, diff)
			}
			continue
		}
		if _, ok := op["security"]; ok {
			t.Errorf("%s has security without authentication: %v", name, op["security"])
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
}

func TestAuthOn(t *testing.T) {
	geo, plot := pointModels()
	doc, d := buildDocWith(t, Options{Version: "1.2.3", AuthEnabled: true}, geo, plot)

	bearer := []any{map[string]any{"bearerAuth": []any{}}}
	if diff := cmp.Diff(bearer, doc["security"]); diff != "" {
		t.Errorf("security (-want +got):\n%s", diff)
	}
	scheme := get(t, doc, "components", "securitySchemes", "bearerAuth").(map[string]any)
	if scheme["type"] != "http" || scheme["scheme"] != "bearer" {
		t.Errorf("bearerAuth = %v, want type http, scheme bearer", scheme)
	}
	if d, _ := get(t, doc, "info", "description").(string); !strings.Contains(d, "Authorization: Bearer TOKEN") || strings.Contains(d, "no authentication") {
		t.Errorf("info.description does not describe the bearer token:\n%s", d)
	}
	ops := operations(t, doc)
	if len(ops) != 21 {
		t.Errorf("%d operations, want 21: 7 generic, 2 per model, 3 per model version, 4 operational", len(ops))
	}
	for name, op := range ops {
		switch {
		case name == "POST /admin/reload":
			// The admin token, not the API's.
			if diff := cmp.Diff([]any{map[string]any{"adminAuth": []any{}}}, op["security"]); diff != "" {
				t.Errorf("%s security (-want +got):\n%s", name, diff)
			}
			if got := get(t, op, "responses", "401", "$ref"); got != "#/components/responses/AdminUnauthorized" {
				t.Errorf("%s 401 = %v", name, got)
			}
			continue
		case !strings.Contains(name, " "+api.ProtectedPrefix):
			// Probes and metrics: no token, whatever the document's
			// security says.
			if sec, ok := op["security"].([]any); !ok || len(sec) != 0 {
				t.Errorf("%s security = %v, want [] (outside %s, no token)", name, op["security"], api.ProtectedPrefix)
			}
			if s := statuses(op); slices.Contains(s, "401") {
				t.Errorf("%s responses %v, want no 401", name, s)
			}
			continue
		}
		if diff := cmp.Diff(bearer, op["security"]); diff != "" {
			t.Errorf("%s security (-want +got):\n%s", name, diff)
		}
		if got := get(t, op, "responses", "401", "$ref"); got != "#/components/responses/Unauthorized" {
			t.Errorf("%s 401 = %v", name, got)
		}
		if s := statuses(op); !slices.Contains(s, "401") || !slices.Contains(s, "431") {
			t.Errorf("%s responses %v, want 401 and 431", name, s)
		}
	}

	r := get(t, doc, "components", "responses", "Unauthorized").(map[string]any)
	if got := get(t, r, "headers", "WWW-Authenticate", "$ref"); got != "#/components/headers/WWWAuthenticate" {
		t.Errorf("401 WWW-Authenticate header = %v", got)
	}
	if got := get(t, doc, "components", "headers", "WWWAuthenticate", "example"); got != problem.WWWAuthenticate {
		t.Errorf("WWW-Authenticate example = %v, want %s", got, problem.WWWAuthenticate)
	}
	problemSchema, err := d.Schema(openapitest.SchemaPointer("Problem"))
	if err != nil {
		t.Fatal(err)
	}
	examples := get(t, r, "content", problem.ContentType, "examples").(map[string]any)
	if len(examples) != 2 {
		t.Errorf("401 examples: %v, want missing-token and invalid-token", examples)
	}
	for name, ex := range examples {
		v := get(t, ex, "value").(map[string]any)
		if v["type"] != problem.TypeUnauthorized || v["status"] != 401.0 || v["title"] != "Unauthorized" {
			t.Errorf("401 example %s = %v", name, v)
		}
		if err := problemSchema.Validate(v); err != nil {
			t.Errorf("401 example %s does not satisfy Problem: %v", name, err)
		}
	}
}

// TestAuthOptionChangesOnlySecurity checks that turning authentication on
// adds to the document and changes nothing else but the description.
func TestAuthOptionChangesOnlySecurity(t *testing.T) {
	geo, _ := pointModels()
	off, _ := buildDocWith(t, Options{Version: "1"}, geo)
	on, _ := buildDocWith(t, Options{Version: "1", AuthEnabled: true}, geo)
	strip := func(doc map[string]any) map[string]any {
		delete(doc, "security")
		delete(get(t, doc, "info").(map[string]any), "description")
		c := get(t, doc, "components").(map[string]any)
		delete(c, "securitySchemes")
		delete(c["responses"].(map[string]any), "Unauthorized")
		delete(c["headers"].(map[string]any), "WWWAuthenticate")
		for _, op := range operations(t, doc) {
			delete(op, "security")
			delete(op["responses"].(map[string]any), "401")
		}
		return doc
	}
	if diff := cmp.Diff(strip(off), strip(on)); diff != "" {
		t.Errorf("documents without and with authentication differ beyond security (-off +on):\n%s", diff)
	}
}

// errReader is a request body whose read fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestProblemExamplesMatchServer provokes each problem whose wording
// package api chooses (401, 408, 429, 431) and checks that the server's
// answer is what the document's example shows.
func TestProblemExamplesMatchServer(t *testing.T) {
	const (
		token     = "problem-examples-token-0123456789"
		maxHeader = 2048
	)
	release := make(chan struct{})
	entered := make(chan string, 2)
	type in struct {
		X int `json:"x"`
	}
	blocking := func(name string) sdk.MLModel {
		return sdk.NewModel(sdk.Info{QualifiedName: name, DisplayName: name, Version: "1.0.0"},
			func(ctx context.Context, _ in) (in, error) {
				entered <- name
				select {
				case <-release:
				case <-ctx.Done():
				}
				return in{}, nil
			})
	}
	limits := map[string]limit.Limits{
		"full": {MaxConcurrency: 1},                                                   // no queue
		"wait": {MaxConcurrency: 1, MaxQueue: 1, QueueTimeout: 20 * time.Millisecond}, // a short wait
	}
	reg := registry.New()
	for _, name := range []string{"full", "wait"} {
		e, err := registry.NewEntry(blocking(name), "test", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		e.Limiter = limit.New(limits[name])
		if err := reg.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{AuthEnabled: true, MaxHeaderBytes: maxHeader}
	e := api.New(reg, api.Options{
		MaxHeaderBytes: maxHeader,
		TokenDigests:   [][sha256.Size]byte{sha256.Sum256([]byte(token))},
	})
	b, err := Build(reg.List(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	example := func(response, name string) map[string]any {
		return get(t, doc, "components", "responses", response, "content", problem.ContentType, "examples", name, "value").(map[string]any)
	}
	send := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	predict := func(model string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/api/models/"+model+"/predict", strings.NewReader(`{"x":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	}
	// Answers that the test cannot get in the same words (the numbers of
	// a queue) are compared with every number and duration a wildcard.
	numbers := regexp.MustCompile(`[0-9][0-9a-zµ.]*`)
	check := func(what string, rec *httptest.ResponseRecorder, want map[string]any, header string, exact bool) {
		t.Helper()
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Errorf("%s: status %d, body %q: %v", what, rec.Code, rec.Body, err)
			return
		}
		for _, k := range []string{"type", "title", "status"} {
			if got[k] != want[k] {
				t.Errorf("%s: %s = %v, the document's example has %v", what, k, got[k], want[k])
			}
		}
		wantDetail := want["detail"].(string)
		if !exact {
			wantDetail = numbers.ReplaceAllString(regexp.QuoteMeta(wantDetail), `\S+`)
		} else {
			wantDetail = regexp.QuoteMeta(wantDetail)
		}
		if !regexp.MustCompile("^" + wantDetail + "$").MatchString(got["detail"].(string)) {
			t.Errorf("%s: detail %q, the document's example has %q", what, got["detail"], want["detail"])
		}
		if header != "" && rec.Header().Get(header) == "" {
			t.Errorf("%s: no %s header", what, header)
		}
	}

	req := httptest.NewRequest(http.MethodGet, "/api/models", nil)
	check("no token", send(req), example("Unauthorized", "missing-token"), "WWW-Authenticate", true)
	req = httptest.NewRequest(http.MethodGet, "/api/models", nil)
	req.Header.Set("Authorization", "Bearer not-the-token-0123456789")
	check("wrong token", send(req), example("Unauthorized", "invalid-token"), "WWW-Authenticate", true)

	req = httptest.NewRequest(http.MethodGet, "/api/models", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Padding", strings.Repeat("a", maxHeader))
	check("large headers", send(req), example("HeadersTooLarge", "headers-too-large"), "", true)

	req = httptest.NewRequest(http.MethodPost, "/api/models/full/predict", errReader{os.ErrDeadlineExceeded})
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	check("slow body", send(req), example("RequestTimeout", "request-timeout"), "", true)

	// One call in each model, then one more to each: the queue of full
	// is full, and the wait of wait runs out.
	done := make(chan *httptest.ResponseRecorder, 2)
	for _, m := range []string{"full", "wait"} {
		go func() { done <- send(predict(m)) }()
		<-entered
	}
	check("queue full", send(predict("full")), example("ModelBusy", "queue-full"), "Retry-After", false)
	check("queue timeout", send(predict("wait")), example("ModelBusy", "queue-timeout"), "Retry-After", false)
	close(release)
	for range 2 {
		if rec := <-done; rec.Code != http.StatusOK {
			t.Errorf("blocked call: status %d: %s", rec.Code, rec.Body)
		}
	}
}
