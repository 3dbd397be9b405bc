package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// fakeModel is a model with schemas and metadata chosen by the test.
type fakeModel struct {
	info   sdk.Info
	input  string
	output string
}

func (m *fakeModel) Info() sdk.Info                { return m.info }
func (m *fakeModel) InputSchema() json.RawMessage  { return json.RawMessage(m.input) }
func (m *fakeModel) OutputSchema() json.RawMessage { return json.RawMessage(m.output) }
func (m *fakeModel) Predict(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	return in, nil
}

// hostile is what a model's author could put in its metadata to attack the
// pages; every bit must come out escaped.
const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>`

const irisInput = `{
	"type": "object",
	"properties": {
		"sepal_length": {"type": "number", "exclusiveMinimum": 0, "maximum": 12, "title": "Sepal length", "description": "Length of the sepal.", "examples": [5.1]},
		"petal_width": {"type": "number", "exclusiveMinimum": 0, "maximum": 5, "title": "Petal width"}
	},
	"required": ["sepal_length", "petal_width"],
	"additionalProperties": false,
	"examples": [{"sepal_length": 5.1, "petal_width": 0.2}]
}`

func testRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	reg := registry.New()
	for _, m := range []*fakeModel{
		{
			info:   sdk.Info{QualifiedName: "iris_model", DisplayName: "Iris species classifier", Description: "Predicts the species.", Version: "1.0.0"},
			input:  irisInput,
			output: `{"type": "object", "properties": {"species": {"type": "string", "enum": ["setosa", "versicolor"]}}}`,
		},
		{
			info: sdk.Info{QualifiedName: "hostile", DisplayName: hostile, Description: hostile, Version: "1.0.0"},
			input: `{"type": "object", "properties": {"x": {"type": "string", "description": "` +
				strings.ReplaceAll(hostile, `"`, `\"`) + `</script>", "examples": ["</script><script>alert(2)</script>"]}}}`,
			output: `{"type": "object"}`,
		},
	} {
		e, err := registry.NewEntry(m, "test", 5*time.Second)
		if err != nil {
			t.Fatalf("registry.NewEntry(%s): %v", m.info.QualifiedName, err)
		}
		if err := reg.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

func testServer(t *testing.T, reg *registry.Registry, opts Options) *echo.Echo {
	t.Helper()
	e := echo.New()
	if err := Register(e, reg, opts); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return e
}

func get(e *echo.Echo, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func wantPage(t *testing.T, rec *httptest.ResponseRecorder, status int, contains ...string) string {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status %d, want %d", rec.Code, status)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=UTF-8" {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	body := rec.Body.String()
	for _, c := range contains {
		if !strings.Contains(body, c) {
			t.Errorf("page does not contain %q", c)
		}
	}
	// No inline script or style: the CSP would block them.
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with content...
		regexp.MustCompile(`<[a-z][^>]*\sstyle=`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`<[a-z][^>]*\son[a-z]+=`),
	} {
		for _, m := range bad.FindAllStringIndex(body, -1) {
			snippet := body[m[0]:min(len(body), m[1]+40)]
			if strings.HasPrefix(snippet, `<script type="application/json"`) {
				continue // ...unless it is a JSON data block
			}
			t.Errorf("inline script, style or handler in the page: %q", snippet)
		}
	}
	return body
}

func TestIndex(t *testing.T) {
	e := testServer(t, testRegistry(t), Options{})
	body := wantPage(t, get(e, "/"), http.StatusOK,
		"Iris species classifier", "iris_model", "v1.0.0", "ready", "Predicts the species.",
		`href="/models/iris_model"`, `href="/models/iris_model/predict"`)
	if strings.Contains(body, hostile) || strings.Contains(body, "<img src=x") {
		t.Error("a model's display name or description is not escaped")
	}
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("the escaped display name is missing")
	}
}

func TestIndexEmpty(t *testing.T) {
	e := testServer(t, registry.New(), Options{PluginDirectory: "/srv/modelhost/plugins"})
	wantPage(t, get(e, "/"), http.StatusOK,
		"No model is served yet", "/srv/modelhost/plugins", `model "iris" {`, "config.hcl", DocsURL)

	e = testServer(t, registry.New(), Options{})
	wantPage(t, get(e, "/"), http.StatusOK, "Plugin discovery is turned off", "config.hcl")
}

func TestModelPage(t *testing.T) {
	e := testServer(t, testRegistry(t), Options{})
	body := wantPage(t, get(e, "/models/iris_model"), http.StatusOK,
		"Iris species classifier", "sepal_length", "Sepal length", "more than 0", "at most 12",
		"required", "5.1", "setosa", `href="/api/models/iris_model/metadata"`, `href="/models/iris_model/predict"`,
		"JSON Schema", "&#34;exclusiveMinimum&#34;: 0", // the raw schema, indented
		"curl -s http://example.com/api/models/iris_model/predict",
	)
	if strings.Count(body, `<tr class="depth-0">`) != 3 {
		t.Errorf("want 3 field rows (2 input, 1 output)")
	}

	body = wantPage(t, get(e, "/models/hostile"), http.StatusOK)
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Error("model-provided text is not escaped on the model page")
	}
}

func TestPredictPage(t *testing.T) {
	e := testServer(t, testRegistry(t), Options{})
	body := wantPage(t, get(e, "/models/iris_model/predict"), http.StatusOK,
		"Try Iris species classifier", `id="predict-form"`, "example 1", "/static/")
	data := modelData(t, body)
	if data.PredictURL != "/api/models/iris_model/predict" || data.QualifiedName != "iris_model" {
		t.Errorf("model data = %+v", data)
	}
	var schema map[string]any
	if err := json.Unmarshal(data.InputSchema, &schema); err != nil || schema["type"] != "object" {
		t.Errorf("input schema in the page = %s (%v)", data.InputSchema, err)
	}

	// A schema holding "</script>" cannot end the data block.
	body = wantPage(t, get(e, "/models/hostile/predict"), http.StatusOK)
	data = modelData(t, body)
	var hostileSchema struct {
		Properties struct {
			X struct {
				Examples []string `json:"examples"`
			} `json:"x"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data.InputSchema, &hostileSchema); err != nil || len(hostileSchema.Properties.X.Examples) != 1 ||
		hostileSchema.Properties.X.Examples[0] != `</script><script>alert(2)</script>` {
		t.Errorf("the hostile schema did not survive the round trip: %s", data.InputSchema)
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("a </script> in a schema ends the data block")
	}
}

// modelData decodes the predict page's JSON data block.
func modelData(t *testing.T, body string) predictData {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="model-data">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no model data block in the page")
	}
	var d predictData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("model data block: %v\n%s", err, m[1])
	}
	return d
}

func TestNotFoundIsHTML(t *testing.T) {
	e := testServer(t, testRegistry(t), Options{})
	for _, path := range []string{
		"/models/nope", "/models/nope/predict", "/models/iris_model/other", "/models/a/b/c",
		"/models/", "/models", "/models/" + strings.Repeat("a", 200), "/models/IRIS_MODEL",
	} {
		t.Run(path, func(t *testing.T) {
			wantPage(t, get(e, path), http.StatusNotFound, "Page not found", `href="/"`)
		})
	}
}

func TestStatic(t *testing.T) {
	e := testServer(t, registry.New(), Options{})
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"app.css", "predict.js", "vendor/pico/pico.min.css", "vendor/json-editor/jsoneditor.js",
		"vendor/json-editor/LICENSE", "vendor/pico/LICENSE.md", "favicon.svg"} {
		url, err := a.url(p)
		if err != nil {
			t.Fatal(err)
		}
		rec := get(e, url)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", url, rec.Code)
		}
		if got := rec.Header().Get("Cache-Control"); got != assetCacheControl {
			t.Errorf("GET %s: Cache-Control %q", url, got)
		}
		if !bytes.Equal(rec.Body.Bytes(), embedded(t, p)) {
			t.Errorf("GET %s: body differs from the embedded file", url)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", url, got)
		}
	}
	for p, want := range map[string]string{
		"app.css":    "text/css; charset=utf-8",
		"predict.js": "text/javascript; charset=utf-8",
	} {
		url, _ := a.url(p)
		if got := get(e, url).Header().Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", p, got, want)
		}
	}

	url, _ := a.url("vendor/json-editor/jsoneditor.js")
	rec := get(e, url, "Accept-Encoding", "br, gzip")
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Body.Len() >= len(embedded(t, "vendor/json-editor/jsoneditor.js"))/2 {
		t.Errorf("gzip: Content-Encoding %q, %d bytes", rec.Header().Get("Content-Encoding"), rec.Body.Len())
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, embedded(t, "vendor/json-editor/jsoneditor.js")) {
		t.Error("gzip: the body does not decompress to the file")
	}
	if rec := get(e, url, "Accept-Encoding", "gzip;q=0"); rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused")
	}
	if rec := get(e, url, "If-None-Match", `"`+a["vendor/json-editor/jsoneditor.js"].hash+`"`); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}

	for _, bad := range []string{"/static/000000000000/app.css", "/static/app.css", "/static/", "/static/" + a["app.css"].hash + "/nope.css"} {
		if rec := get(e, bad); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, rec.Code)
		}
	}
	if _, err := a.url("nope.css"); err == nil {
		t.Error("url of a missing asset: no error")
	}
	if rec := get(e, "/favicon.ico"); rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("GET /favicon.ico: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// TestVendored checks that each vendored library has its licence and a
// README naming its version, as make web-assets writes them.
func TestVendored(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	for dir, pkg := range map[string]string{"vendor/json-editor/": "@json-editor/json-editor", "vendor/pico/": "@picocss/pico"} {
		if _, ok := a[dir+"README.md"]; !ok {
			t.Errorf("%sREADME.md missing", dir)
			continue
		}
		readme := embedded(t, dir+"README.md")
		if !regexp.MustCompile(regexp.QuoteMeta(pkg)+` \d+\.\d+\.\d+`).Match(readme) || !bytes.Contains(readme, []byte("Licence: MIT")) {
			t.Errorf("%sREADME.md does not name the package, its version and its licence:\n%s", dir, readme)
		}
		found := false
		for p := range a {
			if strings.HasPrefix(p, dir+"LICENSE") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no LICENSE file", dir)
		}
	}
}
