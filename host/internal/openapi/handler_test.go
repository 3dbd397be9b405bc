package openapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/openapi/openapitest"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// testServer is the API with Register's routes, as the server assembles it.
func testServer(t *testing.T, models ...sdk.MLModel) (*echo.Echo, *registry.Registry) {
	t.Helper()
	reg := registry.New()
	for _, m := range models {
		add(t, reg, m)
	}
	e := api.New(reg, api.Options{})
	Register(e, reg, Options{Version: "9.9.9"})
	return e, reg
}

func add(t *testing.T, reg *registry.Registry, m sdk.MLModel) {
	t.Helper()
	e, err := registry.NewEntry(m, "test", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(e); err != nil {
		t.Fatal(err)
	}
}

func do(e *echo.Echo, method, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestServeDocument(t *testing.T) {
	geo, _ := pointModels()
	e, reg := testServer(t, geo)

	rec := do(e, http.MethodGet, DocumentPath)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); csp != api.DefaultCSP {
		t.Errorf("Content-Security-Policy = %q, want the API's %q", csp, api.DefaultCSP)
	}
	first := rec.Body.String()
	if err := openapitest.Validate([]byte(first)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first, `"/api/models/geo/predict"`) || !strings.Contains(first, `"version": "9.9.9"`) {
		t.Errorf("document lacks the model or the version:\n%s", first)
	}

	// Unchanged models: the same document, and 304 for its entity tag.
	tag := rec.Header().Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	if rec := do(e, http.MethodGet, DocumentPath); rec.Body.String() != first || rec.Header().Get("ETag") != tag {
		t.Errorf("a second request got another document")
	}
	if rec := do(e, http.MethodGet, DocumentPath, "If-None-Match", tag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match: status %d, body %q; want 304 and no body", rec.Code, rec.Body)
	}

	// A new model: a new document.
	add(t, reg, plotModel())
	rec = do(e, http.MethodGet, DocumentPath, "If-None-Match", tag)
	if rec.Code != http.StatusOK {
		t.Fatalf("after adding a model, If-None-Match with the old tag: status %d", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `"/api/models/plot/predict"`) {
		t.Errorf("the document does not list the new model")
	}
	if rec.Header().Get("ETag") == tag {
		t.Errorf("the entity tag did not change with the document")
	}

	if rec := do(e, http.MethodPost, DocumentPath); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST %s: status %d, want 405", DocumentPath, rec.Code)
	}
}

func TestDocumentCacheFollowsRegistry(t *testing.T) {
	geo, plot := pointModels()
	reg := registry.New()
	dc := &documentCache{reg: reg}
	a, err := dc.get()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := dc.get(); b != a {
		t.Errorf("an empty registry's document was built twice")
	}
	add(t, reg, geo)
	b, _ := dc.get()
	if b == a || !strings.Contains(string(b.body), "/api/models/geo/predict") {
		t.Errorf("the document did not change when a model was added")
	}
	if c, _ := dc.get(); c != b {
		t.Errorf("an unchanged registry's document was built again")
	}
	add(t, reg, plot)
	if c, _ := dc.get(); c == b || !strings.Contains(string(c.body), "/api/models/plot/predict") {
		t.Errorf("the document did not change when a second model was added")
	}
}

var (
	scriptTag  = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	srcOrHref  = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)
	inlineBits = regexp.MustCompile(`(?i)<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:`)
)

func TestDocsPage(t *testing.T) {
	e, _ := testServer(t)
	rec := do(e, http.MethodGet, DocsPath)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); csp != DocsCSP {
		t.Errorf("Content-Security-Policy = %q, want %q", csp, DocsCSP)
	}
	page := rec.Body.String()
	if m := inlineBits.FindString(page); m != "" {
		t.Errorf("the page has inline style or script: %q", m)
	}
	scripts := scriptTag.FindAllStringSubmatch(page, -1)
	if len(scripts) == 0 {
		t.Fatal("the page loads no script")
	}
	for _, s := range scripts {
		if strings.TrimSpace(s[2]) != "" || !strings.Contains(s[1], "src=") {
			t.Errorf("inline script: %s", s[0])
		}
	}
	wantTypes := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".png": "image/png",
	}
	urls := srcOrHref.FindAllStringSubmatch(page, -1)
	loaded := map[string]bool{}
	for _, u := range urls {
		ref := u[1]
		if ref == DocumentPath {
			continue // the <noscript> link
		}
		if !strings.HasPrefix(ref, AssetsPath) {
			t.Errorf("the page refers to %q, outside %s", ref, AssetsPath)
			continue
		}
		rec := do(e, http.MethodGet, ref)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("GET %s: status %d, %d bytes", ref, rec.Code, rec.Body.Len())
			continue
		}
		ext := ref[strings.LastIndexByte(ref, '.'):]
		if ct := rec.Header().Get("Content-Type"); ct != wantTypes[ext] {
			t.Errorf("GET %s: Content-Type %q, want %q", ref, ct, wantTypes[ext])
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", ref)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); csp != DocsCSP {
			t.Errorf("GET %s: Content-Security-Policy = %q, want %q", ref, csp, DocsCSP)
		}
		loaded[strings.TrimPrefix(ref, AssetsPath)] = true
	}
	for _, f := range []string{"swagger-ui-bundle.js", "swagger-init.js", "swagger-ui.css", "docs.css"} {
		if !loaded[f] {
			t.Errorf("the page does not load %s", f)
		}
	}
	// The script that starts Swagger UI loads the host's document, not the
	// petstore, and sends it to no validator.
	start := do(e, http.MethodGet, AssetsPath+"swagger-init.js").Body.String()
	for _, want := range []string{`url: "/openapi.json"`, "validatorUrl: null"} {
		if !strings.Contains(start, want) {
			t.Errorf("swagger-init.js lacks %s", want)
		}
	}
}

func TestDocsRoutes(t *testing.T) {
	e, _ := testServer(t)
	rec := do(e, http.MethodGet, DocsPath+"/")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != DocsPath {
		t.Errorf("GET /docs/: status %d, Location %q; want 301 to /docs", rec.Code, rec.Header().Get("Location"))
	}
	for _, path := range []string{AssetsPath + "nope.js", AssetsPath + "index.html", AssetsPath + "..%2Fhandler.go", AssetsPath + "LICENSE"} {
		rec := do(e, http.MethodGet, path)
		if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != problem.ContentType {
			t.Errorf("GET %s: status %d, Content-Type %q; want a 404 problem", path, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		var p problem.Details
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Type != problem.TypeNotFound {
			t.Errorf("GET %s: %s", path, rec.Body)
		}
	}
	tag := do(e, http.MethodGet, AssetsPath+"swagger-ui.css").Header().Get("ETag")
	if rec := do(e, http.MethodGet, AssetsPath+"swagger-ui.css", "If-None-Match", `"x", W/`+tag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", rec.Code)
	}
}

// TestSwaggerUIVersion checks that the Makefile's pinned version, the
// vendored README and the vendored bundle agree.
func TestSwaggerUIVersion(t *testing.T) {
	mk, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^SWAGGER_UI_VERSION\s*:?=\s*(\S+)`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile does not set SWAGGER_UI_VERSION")
	}
	version := string(m[1])
	readme, err := os.ReadFile("swaggerui/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "swagger-ui-dist@"+version) {
		t.Errorf("swaggerui/README.md does not name swagger-ui-dist@%s", version)
	}
	bundle, err := files.ReadFile("swaggerui/swagger-ui-bundle.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bundle), `PACKAGE_VERSION:"`+version+`"`) {
		t.Errorf("the vendored swagger-ui-bundle.js is not version %s", version)
	}
}

// TestDocsCSP checks that the page's policy is the strict one: every
// directive that matters is there, and nothing is allowed inline, evaluated
// or from another origin.
func TestDocsCSP(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(DocsCSP, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if _, dup := directives[name]; dup {
			t.Errorf("directive %s twice", name)
		}
		directives[name] = value
	}
	want := map[string]string{
		"default-src":     "'self'",
		"img-src":         "'self' data:",
		"style-src":       "'self'",
		"script-src":      "'self'",
		"connect-src":     "'self'",
		"frame-ancestors": "'none'",
		"base-uri":        "'none'",
		"form-action":     "'self'",
	}
	for name, value := range want {
		if directives[name] != value {
			t.Errorf("%s = %q, want %q", name, directives[name], value)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(DocsCSP, bad) {
			t.Errorf("the policy allows %s", bad)
		}
	}
}
