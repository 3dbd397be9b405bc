package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
)

// send serves req with e and returns the recorder.
func send(e *echo.Echo, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestRequestID(t *testing.T) {
	e, log := testAPI(t)
	generated := regexp.MustCompile(`^[A-Z2-7]{26}$`) // crypto/rand.Text

	for _, tt := range []struct {
		name, sent string
		kept       bool
	}{
		{"none", "", false},
		{"sane", "req-42.a_b:c", true},
		{"longest", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"space", "a b", false},
		{"newline", "a\nb", false},
		{"log injection", `x" level=error msg="forged`, false},
		{"unicode", "ré", false},
		{"slash", "a/b", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/models", nil)
			if tt.sent != "" {
				req.Header.Set(HeaderRequestID, tt.sent)
			}
			rec := send(e, req)
			got := rec.Header().Get(HeaderRequestID)
			switch {
			case tt.kept && got != tt.sent:
				t.Errorf("X-Request-ID = %q, want the client's %q", got, tt.sent)
			case !tt.kept && !generated.MatchString(got):
				t.Errorf("X-Request-ID = %q, want a generated ID", got)
			}
		})
	}

	t.Run("unique", func(t *testing.T) {
		seen := map[string]bool{}
		for range 100 {
			id := send(e, httptest.NewRequest(http.MethodGet, "/api/models", nil)).Header().Get(HeaderRequestID)
			if seen[id] {
				t.Fatalf("request ID %q generated twice", id)
			}
			seen[id] = true
		}
	})

	t.Run("in the log lines of the request", func(t *testing.T) {
		log.Reset()
		for _, tt := range []struct {
			id, model, line string
		}{
			{"rid-broken", "broken", "[ERROR] request failed"},
			{"rid-panicky", "panicky", "[ERROR] request failed"},
			{"rid-picky", "picky", "[DEBUG] request rejected"},
			{"rid-echo", "echo", "[DEBUG] request:"},
		} {
			req := httptest.NewRequest(http.MethodPost, "/api/models/"+tt.model+"/predict", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(HeaderRequestID, tt.id)
			send(e, req)
			found := false
			for _, l := range strings.Split(log.String(), "\n") {
				if strings.Contains(l, tt.line) && strings.Contains(l, "request_id="+tt.id) {
					found = true
				}
			}
			if !found {
				t.Errorf("no log line %q with request_id=%s:\n%s", tt.line, tt.id, log)
			}
		}
	})

	t.Run("in the context", func(t *testing.T) {
		e := New(testRegistry(t), Options{})
		var got string
		e.GET("/ctx", func(c echo.Context) error {
			got = RequestID(c.Request().Context())
			return c.NoContent(http.StatusNoContent)
		})
		req := httptest.NewRequest(http.MethodGet, "/ctx", nil)
		req.Header.Set(HeaderRequestID, "from-client")
		send(e, req)
		if got != "from-client" {
			t.Errorf("RequestID(ctx) = %q, want from-client", got)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	e, _ := testAPI(t)
	e.GET("/page-with-csp", func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", "default-src 'self'")
		c.Response().Header().Set("X-Frame-Options", "SAMEORIGIN")
		return c.HTML(http.StatusOK, "<p>hi</p>")
	})
	e.GET("/page", func(c echo.Context) error { return c.HTML(http.StatusOK, "<p>hi</p>") })
	e.GET("/json-with-csp", func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", "sandbox")
		return c.JSON(http.StatusOK, map[string]int{"a": 1})
	})

	common := map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for _, tt := range []struct {
		name, method, path, csp, frame string
	}{
		{"list", http.MethodGet, "/api/models", DefaultCSP, "DENY"},
		{"problem", http.MethodGet, "/api/models/nope/metadata", DefaultCSP, "DENY"},
		{"unknown path", http.MethodGet, "/nothing", DefaultCSP, "DENY"},
		{"wrong method", http.MethodDelete, "/api/models", DefaultCSP, "DENY"},
		{"page sets its own", http.MethodGet, "/page-with-csp", "default-src 'self'", "SAMEORIGIN"},
		{"page without one", http.MethodGet, "/page", "", "DENY"},
		{"JSON that sets its own", http.MethodGet, "/json-with-csp", "sandbox", "DENY"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := send(e, httptest.NewRequest(tt.method, tt.path, nil))
			h := rec.Header()
			for k, v := range common {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := h.Get("Content-Security-Policy"); got != tt.csp {
				t.Errorf("Content-Security-Policy = %q, want %q", got, tt.csp)
			}
			if got := h.Get("X-Frame-Options"); got != tt.frame {
				t.Errorf("X-Frame-Options = %q, want %q", got, tt.frame)
			}
			if got := h.Values("Content-Security-Policy"); len(got) > 1 {
				t.Errorf("Content-Security-Policy sent %d times: %q", len(got), got)
			}
		})
	}
}

func TestHeaderLimit(t *testing.T) {
	e := New(testRegistry(t), Options{MaxHeaderBytes: 4096})
	req := httptest.NewRequest(http.MethodGet, "/api/models", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 3000))
	if rec := send(e, req); rec.Code != http.StatusOK {
		t.Errorf("3000-byte header: status %d, want 200", rec.Code)
	}
	req.Header.Set("X-Padding", strings.Repeat("a", 4096))
	rec := send(e, req)
	d := checkProblem(t, rec, "/api/models", http.StatusRequestHeaderFieldsTooLarge, problem.TypeHeadersTooLarge)
	if !strings.Contains(d.Detail, "4096 bytes") {
		t.Errorf("detail %q does not name the limit", d.Detail)
	}
	if rec.Header().Get(HeaderRequestID) == "" {
		t.Error("431 without X-Request-ID")
	}
	// Many small headers count as much as one large one.
	req = httptest.NewRequest(http.MethodGet, "/api/models", nil)
	for i := range 200 {
		req.Header.Add("X-Many", strings.Repeat("b", 20)+string(rune('a'+i%26)))
	}
	checkProblem(t, send(e, req), "/api/models", http.StatusRequestHeaderFieldsTooLarge, problem.TypeHeadersTooLarge)
}

func TestCORS(t *testing.T) {
	const allowed = "https://app.example"
	e := New(testRegistry(t), Options{
		CORSAllowedOrigins: []string{allowed},
		TokenDigests:       digests(testToken),
	})
	preflight := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, "/api/models/iris_model/predict", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		return send(e, req)
	}

	t.Run("preflight from an allowed origin, without a token", func(t *testing.T) {
		rec := preflight(allowed)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("status %d, want 204; body %s", rec.Code, rec.Body)
		}
		h := rec.Header()
		if got := h.Get("Access-Control-Allow-Origin"); got != allowed {
			t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, allowed)
		}
		for _, want := range []string{"Authorization", "Content-Type", "X-Request-ID"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
				t.Errorf("Access-Control-Allow-Headers = %q, want %s in it", h.Get("Access-Control-Allow-Headers"), want)
			}
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("Access-Control-Allow-Methods = %q, want POST in it", h.Get("Access-Control-Allow-Methods"))
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("Access-Control-Allow-Credentials set; the API uses no cookies")
		}
	})

	for _, origin := range []string{"https://evil.example", "https://app.example.evil.example", "https://sub.app.example", "http://app.example", "null"} {
		t.Run("preflight from "+origin, func(t *testing.T) {
			if got := preflight(origin).Header().Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("Access-Control-Allow-Origin = %q, want none", got)
			}
		})
	}

	t.Run("request from an allowed origin", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/api/models", nil)
		req.Header.Set("Origin", allowed)
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := send(e, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d, want 200", rec.Code)
		}
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != allowed {
			t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, allowed)
		}
		if got := rec.Header().Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Request-ID") {
			t.Errorf("Access-Control-Expose-Headers = %q, want X-Request-ID in it", got)
		}
	})

	t.Run("off by default", func(t *testing.T) {
		e, _ := testAPI(t)
		req := httptest.NewRequest(http.MethodGet, "/api/models", nil)
		req.Header.Set("Origin", allowed)
		if got := send(e, req).Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin = %q without CORS configured", got)
		}
	})
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info})
	New(testRegistry(t), Options{Logger: log, TokenDigests: digests(testToken), CORSAllowedOrigins: []string{"https://a.example"}})
	for _, want := range []string{"API authentication on", "tokens=1", "CORS on"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q does not contain %q", buf.String(), want)
		}
	}
	if strings.Contains(buf.String(), testToken) {
		t.Errorf("log contains the token: %s", buf.String())
	}
}
