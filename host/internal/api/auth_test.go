package api

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
)

const (
	testToken  = "test-token-0123456789abcdef"
	otherToken = "other-token-0123456789abcdef"
)

func digests(tokens ...string) [][sha256.Size]byte {
	d := make([][sha256.Size]byte, len(tokens))
	for i, t := range tokens {
		d[i] = sha256.Sum256([]byte(t))
	}
	return d
}

func authAPI(t *testing.T) (*echo.Echo, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Trace})
	e := New(testRegistry(t), Options{MaxBodyBytes: testMaxBody, Logger: logger, TokenDigests: digests(otherToken, testToken)})
	e.GET("/page", func(c echo.Context) error { return c.HTML(http.StatusOK, "<p>open</p>") })
	return e, &log
}

func TestAuth(t *testing.T) {
	e, log := authAPI(t)
	const challenge = `Bearer realm="modelhost"`
	const invalid = `Bearer realm="modelhost", error="invalid_token"`
	for _, tt := range []struct {
		name      string
		method    string
		path      string
		auth      []string
		status    int
		challenge string
	}{
		{"no header", "GET", "/api/models", nil, 401, challenge},
		{"empty header", "GET", "/api/models", []string{""}, 401, challenge},
		{"scheme only", "GET", "/api/models", []string{"Bearer"}, 401, challenge},
		{"scheme and space", "GET", "/api/models", []string{"Bearer "}, 401, challenge},
		{"basic", "GET", "/api/models", []string{"Basic dXNlcjpwYXNz"}, 401, challenge},
		{"token without scheme", "GET", "/api/models", []string{testToken}, 401, challenge},
		{"wrong token", "GET", "/api/models", []string{"Bearer wrong-token-0123456789abcdef"}, 401, invalid},
		{"token prefix", "GET", "/api/models", []string{"Bearer " + testToken[:len(testToken)-1]}, 401, invalid},
		{"token with suffix", "GET", "/api/models", []string{"Bearer " + testToken + "x"}, 401, invalid},
		{"two tokens in one header", "GET", "/api/models", []string{"Bearer " + testToken + " " + testToken}, 401, invalid},
		{"two headers", "GET", "/api/models", []string{"Bearer " + testToken, "Bearer " + testToken}, 401, challenge},
		{"valid", "GET", "/api/models", []string{"Bearer " + testToken}, 200, ""},
		{"the other valid token", "GET", "/api/models", []string{"Bearer " + otherToken}, 200, ""},
		{"scheme in lower case", "GET", "/api/models", []string{"bearer " + testToken}, 200, ""},
		{"metadata without token", "GET", "/api/models/iris_model/metadata", nil, 401, challenge},
		{"metadata", "GET", "/api/models/iris_model/metadata", []string{"Bearer " + testToken}, 200, ""},
		{"unknown model: 401 before 404", "GET", "/api/models/secret_model/metadata", nil, 401, challenge},
		{"unknown model with token", "GET", "/api/models/secret_model/metadata", []string{"Bearer " + testToken}, 404, ""},
		{"predict without token", "POST", "/api/models/iris_model/predict", nil, 401, challenge},
		{"wrong method without token", "DELETE", "/api/models", nil, 401, challenge},
		{"unknown API path without token", "GET", "/api/nothing", nil, 401, challenge},
		{"escaped API path without token", "GET", "/%61pi/models", nil, 401, challenge},
		{"bare /api", "GET", "/api", nil, 401, challenge},
		{"page stays open", "GET", "/page", nil, 200, ""},
		{"unknown page stays open", "GET", "/nothing", nil, 404, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(irisInputJSON))
			req.Header.Set("Content-Type", "application/json")
			for _, a := range tt.auth {
				req.Header.Add("Authorization", a)
			}
			rec := send(e, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if tt.status == http.StatusUnauthorized {
				d := checkProblem(t, rec, tt.path, http.StatusUnauthorized, problem.TypeUnauthorized)
				if strings.Contains(d.Detail, testToken[:8]) {
					t.Errorf("detail quotes the token: %q", d.Detail)
				}
			}
		})
	}
	if strings.Contains(log.String(), testToken[:8]) || strings.Contains(log.String(), "wrong-token") {
		t.Errorf("the log contains a token:\n%s", log)
	}
}

func TestValidTokenChecksEveryDigest(t *testing.T) {
	tokens := digests("a-token-0000000000000000", "b-token-0000000000000000", "c-token-0000000000000000")
	for tok, want := range map[string]bool{
		"a-token-0000000000000000": true,
		"c-token-0000000000000000": true,
		"d-token-0000000000000000": false,
		"":                         false,
	} {
		if got := validToken(tok, tokens); got != want {
			t.Errorf("validToken(%q) = %v, want %v", tok, got, want)
		}
	}
	if validToken("anything", nil) {
		t.Error("validToken with no tokens = true")
	}
}

func BenchmarkValidToken(b *testing.B) {
	tokens := digests("a-token-0000000000000000", "b-token-0000000000000000", "c-token-0000000000000000")
	for b.Loop() {
		validToken("b-token-0000000000000000", tokens)
	}
}
