package integration

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// do sends a request with headers and reads the whole response.
func do(t *testing.T, h *hosttest.Host, method, path string, headers map[string]string, body []byte) *hosttest.Response {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &hosttest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// logLine returns the first JSON log line with the message and request ID.
func logLine(h *hosttest.Host, message, requestID string) map[string]any {
	for _, l := range h.LogLines() {
		if l["@message"] == message && l["request_id"] == requestID {
			return l
		}
	}
	return nil
}

// TestAuth runs the host with API tokens from a file and from the
// environment, and CORS for one origin.
func TestAuth(t *testing.T) {
	const (
		fileToken = "file-token-4f8a1c0d9e7b6a5f4e3d2c1b"
		envToken  = "env-token-0a1b2c3d4e5f60718293a4b5"
		badToken  = "bad-token-ffffffffffffffffffffffff"
		origin    = "https://app.example"
	)
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(plugins, "iris"), 0o755)
	write(t, filepath.Join(dir, "tokens"), "# operators\n"+fileToken+"\n", 0o600)
	t.Setenv("MODELHOST_TEST_TOKENS", envToken) // the host inherits it
	write(t, filepath.Join(dir, "config.hcl"), `
plugins {
  directory = "plugins"
}
auth {
  tokens_file = "tokens"
  tokens_env  = "MODELHOST_TEST_TOKENS"
}
cors {
  allowed_origins = ["`+origin+`"]
}
log {
  level  = "debug"
  format = "json"
}
`, 0o644)
	host := hosttest.StartIn(t, builder.Build(t, "./host/cmd/modelhost"), dir)
	valid := []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

	for _, tt := range []struct {
		name      string
		method    string
		path      string
		headers   map[string]string
		status    int
		challenge string
	}{
		{"list without token", "GET", "/api/models", nil, 401, `Bearer realm="modelhost"`},
		{"list with a bad token", "GET", "/api/models", bearer(badToken), 401, `Bearer realm="modelhost", error="invalid_token"`},
		{"list with Basic", "GET", "/api/models", map[string]string{"Authorization": "Basic " + fileToken}, 401, `Bearer realm="modelhost"`},
		{"list with the file's token", "GET", "/api/models", bearer(fileToken), 200, ""},
		{"list with the environment's token", "GET", "/api/models", bearer(envToken), 200, ""},
		{"metadata without token", "GET", "/api/models/iris_model/metadata", nil, 401, `Bearer realm="modelhost"`},
		{"unknown model without token", "GET", "/api/models/secret/metadata", nil, 401, `Bearer realm="modelhost"`},
		{"unknown model with token", "GET", "/api/models/secret/metadata", bearer(fileToken), 404, ""},
		{"predict without token", "POST", "/api/models/iris_model/predict", nil, 401, `Bearer realm="modelhost"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json", "X-Request-ID": "auth-" + strings.ReplaceAll(tt.name, " ", "-")}
			for k, v := range tt.headers {
				h[k] = v
			}
			res := do(t, host, tt.method, tt.path, h, valid)
			if tt.status >= 400 {
				wantProblem(t, res, tt.status)
			} else if res.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
			}
			if got := res.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
		})
	}

	t.Run("predict with token", func(t *testing.T) {
		res := do(t, host, "POST", "/api/models/iris_model/predict",
			map[string]string{"Authorization": "Bearer " + fileToken, "Content-Type": "application/json", "X-Request-ID": "auth-predict-ok"}, valid)
		wantStatus(t, res, http.StatusOK, "application/json")
	})

	t.Run("pages and the OpenAPI document stay open", func(t *testing.T) {
		for _, path := range []string{"/", "/openapi.json"} {
			if res := do(t, host, "GET", path, nil, nil); res.Status == http.StatusUnauthorized {
				t.Errorf("GET %s without token: 401, want it open", path)
			}
		}
	})

	t.Run("CORS preflight needs no token", func(t *testing.T) {
		res := do(t, host, "OPTIONS", "/api/models/iris_model/predict", map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization,content-type",
		}, nil)
		if res.Status != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("preflight: %d, Access-Control-Allow-Origin %q; want 204 and %s", res.Status, res.Header.Get("Access-Control-Allow-Origin"), origin)
		}
		res = do(t, host, "GET", "/api/models", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer " + fileToken}, nil)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("another origin got Access-Control-Allow-Origin %q", got)
		}
	})

	t.Run("request IDs in the log", func(t *testing.T) {
		eventually(t, 5*time.Second, func() bool {
			return logLine(host, "request rejected", "auth-list-without-token") != nil &&
				logLine(host, "request", "auth-predict-ok") != nil
		}, "log lines for the 401 and the 200 with their request IDs")
		if l := logLine(host, "request rejected", "auth-list-without-token"); l != nil && fmt.Sprint(l["status"]) != "401" {
			t.Errorf("401 log line: %v", l)
		}
	})

	t.Run("tokens never reach the log", func(t *testing.T) {
		logs := host.Logs()
		for _, tok := range []string{fileToken, envToken, badToken} {
			if strings.Contains(logs, tok) || strings.Contains(logs, tok[:16]) {
				t.Errorf("the host log contains token %s…", tok[:8])
			}
		}
		if !strings.Contains(logs, "API authentication on") {
			t.Error("the log does not say that authentication is on")
		}
	})
}

// TestAuthWithoutTokensRefusesToStart checks that an auth block that
// yields no token stops the host instead of serving an open API.
func TestAuthWithoutTokensRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "config.hcl"), "plugins {\n  directory = \"\"\n}\nauth {\n  tokens_env = \"MODELHOST_TEST_UNSET_VARIABLE\"\n}\n", 0o644)
	cmd := exec.Command(builder.Build(t, "./host/cmd/modelhost"), "serve", "--config", filepath.Join(dir, "config.hcl"), "--address", "127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "MODELHOST_TEST_UNSET_VARIABLE is not set") {
		t.Errorf("output does not explain the refusal:\n%s", out)
	}
}
