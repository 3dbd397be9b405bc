package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// pluginDir fills a fresh plugin directory: the bundled plugins, the test
// model, and files that must be skipped with a reason.
func pluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./plugins/sentiment"), filepath.Join(dir, "sentiment"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/testmodel"), filepath.Join(dir, "testmodel"), 0o755)
	// A second copy of iris: same qualified name, must be refused.
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris-copy"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/badmeta"), filepath.Join(dir, "badmeta"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/exitatstart"), filepath.Join(dir, "exitatstart"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/hang"), filepath.Join(dir, "hang"), 0o755)
	write(t, filepath.Join(dir, "not-a-plugin.sh"), "#!/bin/sh\necho hello from a shell script\n", 0o755)
	write(t, filepath.Join(dir, "README.txt"), "not executable, must be skipped\n", 0o644)
	return dir
}

func write(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

func hostConfig(pluginDir string) string {
	return fmt.Sprintf(`
server {
  max_body_bytes   = 65536
  shutdown_timeout = "5s"
}
plugins {
  directory       = %q
  start_timeout   = "3s"
  predict_timeout = "1s"
  # A crashed plugin is relaunched after 1s: long enough to see it down.
  restart_backoff_initial = "1s"
}
log {
  level  = "debug"
  format = "json"
}
`, pluginDir)
}

func TestHost(t *testing.T) {
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), hostConfig(pluginDir(t)))

	t.Run("list", func(t *testing.T) {
		res := host.Get(t, "/api/models")
		wantStatus(t, res, http.StatusOK, "application/json")
		var body struct {
			Models []map[string]any `json:"models"`
		}
		if err := json.Unmarshal(res.Body, &body); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range body.Models {
			names = append(names, m["qualified_name"].(string))
			for _, k := range []string{"display_name", "description", "version"} {
				if _, ok := m[k].(string); !ok {
					t.Errorf("model %v: field %q missing", m["qualified_name"], k)
				}
			}
		}
		if got, want := strings.Join(names, ","), "iris_model,sentiment,testmodel"; got != want {
			t.Errorf("models = %s, want %s", got, want)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		res := host.Get(t, "/api/models/iris_model/metadata")
		wantStatus(t, res, http.StatusOK, "application/json")
		m := res.JSON(t)
		for _, k := range []string{"input_schema", "output_schema"} {
			s, ok := m[k].(map[string]any)
			if !ok || s["type"] != "object" {
				t.Errorf("%s = %v, want a JSON Schema object", k, m[k])
			}
		}
		if m["qualified_name"] != "iris_model" || m["version"] != "1.0.0" {
			t.Errorf("metadata = %v", m)
		}
	})

	t.Run("predict iris", func(t *testing.T) {
		for _, tc := range []struct{ input, species string }{
			{`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`, "setosa"},
			{`{"sepal_length":5.9,"sepal_width":3.0,"petal_length":4.2,"petal_width":1.5}`, "versicolor"},
			{`{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}`, "virginica"},
		} {
			res := host.Post(t, "/api/models/iris_model/predict", "application/json", []byte(tc.input))
			wantStatus(t, res, http.StatusOK, "application/json")
			if got := res.JSON(t)["species"]; got != tc.species {
				t.Errorf("predict %s: species = %v, want %s", tc.input, got, tc.species)
			}
		}
	})

	t.Run("predict sentiment", func(t *testing.T) {
		res := host.Post(t, "/api/models/sentiment/predict", "application/json; charset=utf-8",
			[]byte(`{"documents":[{"id":"a","text":"I love this, it is wonderful"}]}`))
		wantStatus(t, res, http.StatusOK, "application/json")
		if !bytes.Contains(res.Body, []byte(`"positive"`)) {
			t.Errorf("body = %s, want a positive label", res.Body)
		}
	})

	iris := "/api/models/iris_model/predict"
	valid := []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        []byte
		status      int
		pointer     string // an expected errors[].pointer, if any
	}{
		{"malformed JSON", "POST", iris, "application/json", []byte(`{"sepal_length":`), 400, ""},
		{"trailing data", "POST", iris, "application/json", append(append([]byte{}, valid...), []byte(` {}`)...), 400, ""},
		{"empty body", "POST", iris, "application/json", nil, 400, ""},
		{"unknown model predict", "POST", "/api/models/no_such_model/predict", "application/json", valid, 404, ""},
		{"unknown model metadata", "GET", "/api/models/no_such_model/metadata", "", nil, 404, ""},
		{"path trick", "GET", "/api/models/..%2F..%2Fetc%2Fpasswd/metadata", "", nil, 404, ""},
		{"unknown route", "GET", "/api/nothing", "", nil, 404, ""},
		{"wrong method", "GET", iris, "", nil, 405, ""},
		{"body too large", "POST", iris, "application/json", bytes.Repeat([]byte(" "), 100<<10), 413, ""},
		{"not JSON", "POST", iris, "text/plain", valid, 415, ""},
		{"no content type", "POST", iris, "", valid, 415, ""},
		{"out of range", "POST", iris, "application/json", []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":-3}`), 422, "/petal_width"},
		{"missing field", "POST", iris, "application/json", []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4}`), 422, "/petal_width"},
		{"extra field", "POST", iris, "application/json", []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"colour":"blue"}`), 422, "/colour"},
		{"wrong type", "POST", iris, "application/json", []byte(`{"sepal_length":"long","sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`), 422, "/sepal_length"},
		{"not an object", "POST", iris, "application/json", []byte(`[1,2,3]`), 422, ""},
		{"model rejects", "POST", "/api/models/testmodel/predict", "application/json", []byte(`{"action":"reject","message":"rude"}`), 422, "/message"},
		{"model fails", "POST", "/api/models/testmodel/predict", "application/json", []byte(`{"action":"fail"}`), 500, ""},
		{"model panics", "POST", "/api/models/testmodel/predict", "application/json", []byte(`{"action":"panic"}`), 500, ""},
		{"model too slow", "POST", "/api/models/testmodel/predict", "application/json", []byte(`{"action":"sleep","millis":5000}`), 504, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := host.Do(t, tc.method, tc.path, tc.contentType, tc.body)
			p := wantProblem(t, res, tc.status)
			if tc.pointer != "" && !hasPointer(p, tc.pointer) {
				t.Errorf("errors = %v, want one at %s", p["errors"], tc.pointer)
			}
		})
	}

	t.Run("plugin survives failures", func(t *testing.T) {
		res := host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"echo","message":"still here"}`))
		wantStatus(t, res, http.StatusOK, "application/json")
	})

	t.Run("plugin logs reach host log", func(t *testing.T) {
		res := host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"log","message":"marker-6731"}`))
		wantStatus(t, res, http.StatusOK, "application/json")
		eventually(t, 5*time.Second, func() bool {
			for _, l := range host.LogLines() {
				if l["marker"] == "marker-6731" && strings.Contains(fmt.Sprint(l["@module"]), "testmodel") {
					return true
				}
			}
			return false
		}, "the model's log line under the plugin's name in the host log")
	})

	t.Run("bad plugins are skipped with reasons", func(t *testing.T) {
		for plugin, reason := range map[string]string{
			"iris-copy":       "duplicate model version",
			"badmeta":         "qualified name",
			"exitatstart":     "cannot load weights",
			"hang":            "did not complete the handshake",
			"not-a-plugin.sh": "not a modelhost plugin",
			"README.txt":      "not executable",
		} {
			found := false
			for _, l := range host.LogLines() {
				text := fmt.Sprint(l["plugin"], " ", l["path"], " ", l["reason"])
				if strings.Contains(text, plugin) && strings.Contains(text, reason) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("no log line says %s was skipped because of %q", plugin, reason)
			}
		}
	})

	t.Run("dead plugin answers 503", func(t *testing.T) {
		res := host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"exit"}`))
		wantProblem(t, res, http.StatusServiceUnavailable)
		res = host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"echo"}`))
		wantProblem(t, res, http.StatusServiceUnavailable)
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
		// Other models are unaffected.
		res = host.Post(t, iris, "application/json", valid)
		wantStatus(t, res, http.StatusOK, "application/json")
		// The plugin is relaunched.
		s, _ := waitState(t, host, "testmodel", 10*time.Second, func(s modelState) bool { return s.Status == "ready" && s.Restarts > 0 })
		if s.Restarts != 1 || !strings.Contains(s.LastError, "exit status 7") {
			t.Errorf("testmodel after the relaunch = %+v, want 1 restart and exit status 7 as the last error", s)
		}
		res = host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"echo"}`))
		wantStatus(t, res, http.StatusOK, "application/json")
	})

	t.Run("SIGTERM stops every plugin", func(t *testing.T) {
		pids := host.PluginPIDs()
		if len(pids) != 3 {
			t.Fatalf("plugin PIDs from the log = %v, want 3", pids)
		}
		pids = append(pids, stateOf(t, host, "testmodel").PID) // relaunched
		if err := host.Signal(t, syscall.SIGTERM, 20*time.Second); err != nil {
			t.Errorf("host exit after SIGTERM: %v, want status 0", err)
		}
		for _, pid := range pids {
			if !hosttest.ProcessGone(pid) {
				t.Errorf("plugin process %d still running after the host exited", pid)
			}
		}
	})
}

func TestSIGINTStopsPlugins(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), hostConfig(dir))
	pids := host.PluginPIDs()
	if len(pids) != 1 {
		t.Fatalf("plugin PIDs = %v, want 1", pids)
	}
	if err := host.Signal(t, syscall.SIGINT, 20*time.Second); err != nil {
		t.Errorf("host exit after SIGINT: %v, want status 0", err)
	}
	if !hosttest.ProcessGone(pids[0]) {
		t.Errorf("plugin process %d still running after the host exited", pids[0])
	}
}

func TestEmptyHost(t *testing.T) {
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), hostConfig(t.TempDir()))
	res := host.Get(t, "/api/models")
	wantStatus(t, res, http.StatusOK, "application/json")
	if got := strings.TrimSpace(string(res.Body)); got != `{"models":[]}` {
		t.Errorf("body = %s, want {\"models\":[]}", got)
	}
}

func wantStatus(t *testing.T, res *hosttest.Response, status int, contentType string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", res.Status, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, contentType) {
		t.Errorf("Content-Type = %q, want %s", ct, contentType)
	}
}

// wantProblem checks that res is an RFC 9457 problem with the status, and
// that it leaks nothing internal.
func wantProblem(t *testing.T, res *hosttest.Response, status int) map[string]any {
	t.Helper()
	wantStatus(t, res, status, "application/problem+json")
	p := res.JSON(t)
	if got, _ := p["status"].(float64); int(got) != status {
		t.Errorf("problem status = %v, want %d", p["status"], status)
	}
	for _, k := range []string{"type", "title", "detail"} {
		if s, _ := p[k].(string); s == "" {
			t.Errorf("problem %s is empty: %s", k, res.Body)
		}
	}
	for _, secret := range []string{"hunter2", "secret panic", "goroutine ", ".go:"} {
		if bytes.Contains(res.Body, []byte(secret)) {
			t.Errorf("problem leaks %q: %s", secret, res.Body)
		}
	}
	return p
}

func hasPointer(p map[string]any, pointer string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok && m["pointer"] == pointer {
			return true
		}
	}
	return false
}

func eventually(t *testing.T, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("gave up waiting for %s", what)
}
