package ops

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/fleet"
	"github.com/modelhost/modelhost/host/internal/problem"
)

const adminToken = "admin-token-0123456789abcdef"

type stub struct {
	ready   Readiness
	reload  func() (fleet.Report, error)
	reloads int
}

func newOps(t *testing.T, tokens ...string) (*echo.Echo, *stub) {
	t.Helper()
	st := &stub{ready: Readiness{Ready: true}, reload: func() (fleet.Report, error) { return fleet.Report{Unchanged: 2}, nil }}
	var digests [][sha256.Size]byte
	for _, tok := range tokens {
		digests = append(digests, sha256.Sum256([]byte(tok)))
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { _ = problem.Write(c, problem.FromError(err)) }
	Register(e, Options{
		Readiness: func() Readiness { return st.ready },
		Reload: func(context.Context) (fleet.Report, error) {
			st.reloads++
			return st.reload()
		},
		Metrics:     http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("modelhost_models 1\n")) }),
		AdminTokens: digests,
	})
	return e, st
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

func TestHealthAndReadiness(t *testing.T) {
	e, st := newOps(t)
	if rec := do(e, http.MethodGet, "/healthz"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"ok"`) {
		t.Errorf("/healthz = %d %s", rec.Code, rec.Body)
	}
	if rec := do(e, http.MethodGet, "/readyz"); rec.Code != http.StatusOK {
		t.Errorf("/readyz when ready = %d", rec.Code)
	}
	st.ready = Readiness{Ready: false, Reason: "model m 1.0.0 is starting", Models: []ModelState{{Model: "m", Version: "1.0.0", Status: "starting"}}}
	rec := do(e, http.MethodGet, "/readyz")
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz when not ready = %d, want 503", rec.Code)
	}
	var got Readiness
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Reason == "" || len(got.Models) != 1 {
		t.Errorf("/readyz body = %s (%v)", rec.Body, err)
	}
	// Liveness does not follow readiness: a host whose models are down
	// must not be restarted for it.
	if rec := do(e, http.MethodGet, "/healthz"); rec.Code != http.StatusOK {
		t.Errorf("/healthz when not ready = %d, want 200", rec.Code)
	}
	if rec := do(e, http.MethodGet, "/metrics"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "modelhost_models") {
		t.Errorf("/metrics = %d %s", rec.Code, rec.Body)
	}
}

func TestReloadNeedsAdminToken(t *testing.T) {
	e, st := newOps(t) // no admin tokens: switched off
	rec := do(e, http.MethodPost, "/admin/reload", "Authorization", "Bearer "+adminToken)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "#forbidden") {
		t.Errorf("reload without an admin block = %d %s, want 403 forbidden", rec.Code, rec.Body)
	}

	e, st = newOps(t, adminToken)
	for _, header := range [][]string{nil, {"Authorization", "Bearer wrong-token-0123456789abcdef"}, {"Authorization", "Basic " + adminToken}} {
		rec := do(e, http.MethodPost, "/admin/reload", header...)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("reload with %q = %d, want 401 with WWW-Authenticate", header, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "wrong-token") {
			t.Error("the 401 quotes the token")
		}
	}
	if st.reloads != 0 {
		t.Fatalf("%d reloads ran without a valid token", st.reloads)
	}
	rec = do(e, http.MethodPost, "/admin/reload", "Authorization", "Bearer "+adminToken)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"unchanged":2`) || st.reloads != 1 {
		t.Errorf("reload = %d %s after %d reloads", rec.Code, rec.Body, st.reloads)
	}
	if rec := do(e, http.MethodGet, "/admin/reload", "Authorization", "Bearer "+adminToken); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /admin/reload = %d, want 405", rec.Code)
	}
}

func TestReloadWithInvalidConfig(t *testing.T) {
	e, st := newOps(t, adminToken)
	st.reload = func() (fleet.Report, error) {
		return fleet.Report{}, &ConfigError{Diagnostics: []string{"config.hcl:3,1-8: Unsupported argument; bogus"}}
	}
	rec := do(e, http.MethodPost, "/admin/reload", "Authorization", "Bearer "+adminToken)
	var d problem.Details
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusUnprocessableEntity || d.Type != problem.TypeInvalidConfig || len(d.Diagnostics) != 1 ||
		!strings.HasPrefix(d.Diagnostics[0], "config.hcl:3") {
		t.Errorf("reload with an invalid config = %d %+v", rec.Code, d)
	}
	st.reload = func() (fleet.Report, error) { return fleet.Report{}, errors.New("secret internal detail") }
	rec = do(e, http.MethodPost, "/admin/reload", "Authorization", "Bearer "+adminToken)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("reload failing = %d %s, want 500 without the error's text", rec.Code, rec.Body)
	}
}
