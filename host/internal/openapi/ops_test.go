package openapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/fleet"
	"github.com/modelhost/modelhost/host/internal/launcher"
	"github.com/modelhost/modelhost/host/internal/metrics"
	"github.com/modelhost/modelhost/host/internal/openapi/openapitest"
	"github.com/modelhost/modelhost/host/internal/ops"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// TestOpsAnswersMatchDocument serves the operational endpoints of package
// ops as the server does, and checks each answer against the document:
// bodies against the schemas of their status, problems against the
// examples of their response.
func TestOpsAnswersMatchDocument(t *testing.T) {
	const adminToken = "admin-token-for-the-document-0123"
	geo, _ := pointModels()
	reg := registry.New()
	add(t, reg, geo)
	since := time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)

	var (
		readiness ops.Readiness
		reloadErr error
	)
	report := fleet.Report{
		Started: []fleet.Change{{Plugin: "greeter-2", Path: "/p/greeter-2", Model: "greeter", Version: "2.0.0", Startup: 40 * time.Millisecond}},
		Replaced: []fleet.Change{{Plugin: "iris", Path: "/p/iris", Model: "iris_model", Version: "1.1.0", PreviousVersion: "1.0.0",
			Startup: 30 * time.Millisecond}},
		Stopped:   []fleet.Change{{Plugin: "old", Path: "/p/old", Model: "old", Version: "0.1.0"}},
		Unchanged: 3,
		Failed:    []fleet.Failure{{Plugin: "bad", Path: "/p/bad", Origin: "plugin directory", Error: "exit status 1", At: since}},
		Skipped:   []launcher.Skipped{{Path: "/p/README", Reason: "not executable (chmod +x it to serve it)"}},
	}
	serve := func(adminTokens ...string) *echo.Echo {
		e := api.New(reg, api.Options{})
		var digests [][sha256.Size]byte
		for _, tok := range adminTokens {
			digests = append(digests, sha256.Sum256([]byte(tok)))
		}
		ops.Register(e, ops.Options{
			Readiness:   func() ops.Readiness { return readiness },
			Reload:      func(context.Context) (fleet.Report, error) { return report, reloadErr },
			Metrics:     metrics.New(metrics.Options{Models: reg.List}).Handler(),
			AdminTokens: digests,
		})
		return e
	}
	b, err := Build(reg.List(), Options{Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := openapitest.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	send := func(e *echo.Echo, method, path string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	// wantBody checks that rec has status and a JSON body that satisfies
	// the schema of that status of the operation.
	wantBody := func(rec *httptest.ResponseRecorder, method, path string, status string) {
		t.Helper()
		if strconv.Itoa(rec.Code) != status {
			t.Errorf("%s %s: status %d, want %s: %s", method, path, rec.Code, status, rec.Body)
			return
		}
		schema, err := d.Schema("/paths/" + openapitest.EscapeToken(path) + "/" + method + "/responses/" + status + "/content/application~1json/schema")
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("%s %s %s: the answer %s does not satisfy the document's schema: %v", method, path, status, rec.Body, err)
		}
	}
	// wantProblem checks that rec is the example name of the shared
	// response.
	wantProblem := func(what string, rec *httptest.ResponseRecorder, response, name string) {
		t.Helper()
		ex := get(t, doc, "components", "responses", response, "content", problem.ContentType, "examples", name, "value").(map[string]any)
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v: %s", what, err, rec.Body)
		}
		for _, k := range []string{"type", "title", "status", "detail"} {
			if got[k] != ex[k] {
				t.Errorf("%s: %s = %v, the document's example %s has %v", what, k, got[k], name, ex[k])
			}
		}
		if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
			t.Errorf("%s: Content-Type %q", what, ct)
		}
	}

	e := serve(adminToken)
	wantBody(send(e, http.MethodGet, healthPath), "get", healthPath, "200")

	readiness = ops.Readiness{Ready: true,
		Models: []ops.ModelState{{Model: "geo", Version: "1.0.0", Status: registry.StatusReady, Since: since}},
		Failed: []fleet.Failure{}}
	wantBody(send(e, http.MethodGet, readinessPath), "get", readinessPath, "200")
	readiness = ops.Readiness{Ready: false, Reason: "plugin bad did not start",
		Models: []ops.ModelState{{Model: "geo", Version: "1.0.0", Status: registry.StatusRestarting, Since: since}},
		Failed: report.Failed}
	wantBody(send(e, http.MethodGet, readinessPath), "get", readinessPath, "503")

	rec := send(e, http.MethodGet, metricsPath)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), metricsType) {
		t.Errorf("GET /metrics: %d %q, want 200 %s", rec.Code, rec.Header().Get("Content-Type"), metricsType)
	}

	rec = send(e, http.MethodPost, reloadPath)
	wantProblem("reload without a token", rec, "AdminUnauthorized", "missing-token")
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("reload without a token: %d, WWW-Authenticate %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	wantProblem("reload with a wrong token", send(e, http.MethodPost, reloadPath, "Authorization", "Bearer wrong-token-0123456789"),
		"AdminUnauthorized", "invalid-token")
	auth := []string{"Authorization", "Bearer " + adminToken}
	wantBody(send(e, http.MethodPost, reloadPath, auth...), "post", reloadPath, "200")

	reloadErr = &ops.ConfigError{Diagnostics: []string{`config.hcl:3,1-6: Unsupported block type; Blocks of type "modle" are not expected here.`}}
	rec = send(e, http.MethodPost, reloadPath, auth...)
	wantProblem("reload of an invalid configuration", rec, "InvalidConfig", "invalid-config")
	var p problem.Details
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || len(p.Diagnostics) != 1 {
		t.Errorf("invalid-config: diagnostics %v (%v), want the configuration's", p.Diagnostics, err)
	}
	problemSchema, err := d.Schema(openapitest.SchemaPointer(schemaProblem))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(rec.Body.Bytes()))
	if err := problemSchema.Validate(v); err != nil {
		t.Errorf("invalid-config does not satisfy Problem: %v", err)
	}

	// No admin block: the reload is off.
	wantProblem("reload without an admin block", send(serve(), http.MethodPost, reloadPath, auth...), "AdminOff", "forbidden")
}
