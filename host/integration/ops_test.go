package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// adminToken opens POST /admin/reload in these tests.
const adminToken = "admin-token-0123456789abcdef"

// bearer returns the Authorization header for token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// reloadReport is the answer to a successful POST /admin/reload.
type reloadReport struct {
	Started   []reloadChange   `json:"started"`
	Replaced  []reloadChange   `json:"replaced"`
	Stopped   []reloadChange   `json:"stopped"`
	Unchanged int              `json:"unchanged"`
	Failed    []map[string]any `json:"failed"`
	Skipped   []map[string]any `json:"skipped"`
}

type reloadChange struct {
	Plugin          string `json:"plugin"`
	Path            string `json:"path"`
	Model           string `json:"model"`
	Version         string `json:"version"`
	PreviousVersion string `json:"previous_version"`
}

// String is the report in short, for messages: plugin@version lists.
func (r reloadReport) String() string {
	names := func(cs []reloadChange) string {
		var s []string
		for _, c := range cs {
			item := c.Plugin + "=" + c.Model + "@" + c.Version
			if c.PreviousVersion != "" {
				item += "(was " + c.PreviousVersion + ")"
			}
			s = append(s, item)
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	var failed []string
	for _, f := range r.Failed {
		failed = append(failed, fmt.Sprint(f["plugin"], " kept_running=", f["kept_running"]))
	}
	return fmt.Sprintf("started %s replaced %s stopped %s unchanged %d failed %v skipped %d",
		names(r.Started), names(r.Replaced), names(r.Stopped), r.Unchanged, failed, len(r.Skipped))
}

// adminReload posts /admin/reload with the admin token and decodes a
// 200 answer; the arrays of the report must be arrays, never null.
func adminReload(t *testing.T, host *hosttest.Host) reloadReport {
	t.Helper()
	res := host.DoWith(t, http.MethodPost, "/admin/reload", bearer(adminToken), nil)
	wantStatus(t, res, http.StatusOK, "application/json")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(res.Body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"started", "replaced", "stopped", "failed", "skipped"} {
		if !bytes.HasPrefix(raw[k], []byte("[")) {
			t.Errorf("reload report: %q is %s, want an array: %s", k, raw[k], res.Body)
		}
	}
	var r reloadReport
	if err := json.Unmarshal(res.Body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// lineOf returns the 1-based number of the first line of text that
// contains s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q not in\n%s", s, text)
	return 0
}

// TestReloadConfig reloads the configuration with SIGHUP and
// POST /admin/reload: an invalid file changes nothing and says where it
// is wrong; a valid one starts, replaces and stops plugins, and the
// answer says which.
func TestReloadConfig(t *testing.T) {
	v1, v2 := testmodelAt(t, "1.0.0"), testmodelAt(t, "2.0.0")
	iris, broken := builder.Build(t, "./plugins/iris"), builder.Build(t, "./host/integration/testdata/exitatstart")
	config := func(startTimeout, level string, models ...string) string {
		var blocks strings.Builder
		for i := 0; i+1 < len(models); i += 2 {
			fmt.Fprintf(&blocks, "model %q {\n  command = %q\n}\n", models[i], models[i+1])
		}
		return fmt.Sprintf(`
plugins {
  directory     = ""
  start_timeout = %s
}
admin {
  tokens = [%q]
}
log {
  level  = %q
  format = "json"
}
%s`, startTimeout, adminToken, level, blocks.String())
	}
	path := func(host *hosttest.Host) string { return filepath.Join(host.Dir, "config.hcl") }
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), config(`"30s"`, "info", "testmodel", v1))
	first := stateOf(t, host, "testmodel")

	// An invalid file, which also points the model at 2.0.0: nothing of
	// it may apply.
	invalid := config(`"30"`, "info", "testmodel", v2)
	write(t, path(host), invalid, 0o644)
	where := fmt.Sprintf("config.hcl:%d,", lineOf(t, invalid, `start_timeout = "30"`))

	t.Run("SIGHUP with an invalid file", func(t *testing.T) {
		sighup(t, host)
		l := waitLog(t, host, "the refused reload", func(l map[string]any) bool {
			return l["@message"] == "reload refused: the configuration is invalid; nothing changed" && l["trigger"] == "signal"
		})
		if l["@level"] != "error" {
			t.Errorf("refused reload logged at %v, want error", l["@level"])
		}
		if msg := fmt.Sprint(l["error"]); !strings.Contains(msg, where) || !strings.Contains(msg, "duration") {
			t.Errorf("error %q does not name %s and the problem", msg, where)
		}
		if v, res := predictVersion(t, host, "/api/models/testmodel/predict"); v != "1.0.0" {
			t.Errorf("after the refused reload testmodel answers %d %s, want 1.0.0", res.Status, res.Body)
		}
		if now := stateOf(t, host, "testmodel"); now.PID != first.PID {
			t.Errorf("testmodel PID %d → %d after a refused reload", first.PID, now.PID)
		}
		if _, res := readyz(t, host); res.Status != http.StatusOK {
			t.Errorf("/readyz = %d %s after a refused reload, want 200", res.Status, res.Body)
		}
	})

	t.Run("POST /admin/reload with an invalid file", func(t *testing.T) {
		res := host.DoWith(t, http.MethodPost, "/admin/reload", bearer(adminToken), nil)
		p := wantProblem(t, res, http.StatusUnprocessableEntity)
		if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "#invalid-config") {
			t.Errorf("type %q, want …#invalid-config", typ)
		}
		diags, _ := p["diagnostics"].([]any)
		found := false
		for _, d := range diags {
			found = found || strings.Contains(fmt.Sprint(d), where)
		}
		if len(diags) == 0 || !found {
			t.Errorf("diagnostics %v, want one at %s", p["diagnostics"], where)
		}
		if v, _ := predictVersion(t, host, "/api/models/testmodel/predict"); v != "1.0.0" || stateOf(t, host, "testmodel").PID != first.PID {
			t.Errorf("after a refused reload testmodel answers %q", v)
		}
		t.Logf("422 diagnostics: %v", diags)
	})

	t.Run("POST /admin/reload without a valid admin token", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			header http.Header
			auth   string // in WWW-Authenticate
		}{
			{"no token", nil, "Bearer"},
			{"wrong token", bearer("not-the-admin-token-0123456789"), `error="invalid_token"`},
			{"basic", http.Header{"Authorization": {"Basic YWRtaW46YWRtaW4="}}, "Bearer"},
		} {
			res := host.DoWith(t, http.MethodPost, "/admin/reload", tc.header, nil)
			p := wantProblem(t, res, http.StatusUnauthorized)
			if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "#unauthorized") {
				t.Errorf("%s: type %q, want …#unauthorized", tc.name, typ)
			}
			if h := res.Header.Get("WWW-Authenticate"); !strings.Contains(h, tc.auth) {
				t.Errorf("%s: WWW-Authenticate %q, want %s", tc.name, h, tc.auth)
			}
		}
		if res := host.Get(t, "/admin/reload"); res.Status != http.StatusMethodNotAllowed {
			t.Errorf("GET /admin/reload = %d, want 405", res.Status)
		}
	})

	var second metadata
	t.Run("valid file: replace and start", func(t *testing.T) {
		// log.level needs a restart: the reload keeps it and says so.
		write(t, path(host), config(`"30s"`, "debug", "testmodel", v2, "iris", iris), 0o644)
		r := adminReload(t, host)
		t.Logf("report: %s", r)
		if len(r.Started) != 1 || r.Started[0].Plugin != "iris" || r.Started[0].Model != "iris_model" || r.Started[0].Version != "1.0.0" || r.Started[0].Path != iris {
			t.Errorf("started = %+v, want iris", r.Started)
		}
		if len(r.Replaced) != 1 || r.Replaced[0].Model != "testmodel" || r.Replaced[0].Version != "2.0.0" || r.Replaced[0].PreviousVersion != "1.0.0" {
			t.Errorf("replaced = %+v, want testmodel 1.0.0 → 2.0.0", r.Replaced)
		}
		if len(r.Stopped) != 0 || len(r.Failed) != 0 || r.Unchanged != 0 {
			t.Errorf("report %s, want nothing stopped, failed or unchanged", r)
		}
		if v, _ := predictVersion(t, host, "/api/models/testmodel/predict"); v != "2.0.0" {
			t.Errorf("after the reload testmodel answers %q, want 2.0.0", v)
		}
		waitGone(t, first.PID, "the 1.0.0 plugin")
		wantStatus(t, host.Post(t, "/api/models/iris_model/predict", "application/json",
			[]byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)), http.StatusOK, "application/json")
		l := waitLog(t, host, "the restart-only warning", message("settings changed that apply only after a restart; they keep their running values"))
		if !strings.Contains(fmt.Sprint(l["settings"]), "log.level") {
			t.Errorf("warning names %v, want log.level", l["settings"])
		}
		if findLog(host, func(l map[string]any) bool { return l["@level"] == "debug" }) != nil {
			t.Error("debug lines logged: the reload applied log.level, which needs a restart")
		}
		second, _ = metadataAt(t, host, "/api/models/testmodel/metadata")
	})

	t.Run("valid file: stop and leave alone", func(t *testing.T) {
		irisPID := stateOf(t, host, "iris_model").PID
		write(t, path(host), config(`"30s"`, "info", "testmodel", v2), 0o644)
		r := adminReload(t, host)
		t.Logf("report: %s", r)
		if len(r.Stopped) != 1 || r.Stopped[0].Model != "iris_model" || r.Unchanged != 1 || len(r.Started)+len(r.Replaced)+len(r.Failed) != 0 {
			t.Errorf("report %s, want iris stopped and testmodel unchanged", r)
		}
		wantProblem(t, host.Post(t, "/api/models/iris_model/predict", "application/json", []byte(`{}`)), http.StatusNotFound)
		waitGone(t, irisPID, "the removed iris plugin")

		r = adminReload(t, host)
		if r.Unchanged != 1 || len(r.Started)+len(r.Replaced)+len(r.Stopped)+len(r.Failed) != 0 {
			t.Errorf("reload of an unchanged file: %s, want 1 unchanged and nothing else", r)
		}
		if now, _ := metadataAt(t, host, "/api/models/testmodel/metadata"); now.PID != second.PID {
			t.Errorf("testmodel PID %d → %d across reloads that did not change it", second.PID, now.PID)
		}
	})

	t.Run("valid file with a plugin that does not start", func(t *testing.T) {
		write(t, path(host), config(`"30s"`, "info", "testmodel", v2, "broken", broken), 0o644)
		r := adminReload(t, host)
		t.Logf("report: %s", r)
		if len(r.Failed) != 1 || r.Failed[0]["plugin"] != "broken" || r.Failed[0]["kept_running"] != false || r.Unchanged != 1 {
			t.Errorf("report %s, want broken failed, not kept running, and testmodel unchanged", r)
		}
		if _, res := readyz(t, host); res.Status != http.StatusServiceUnavailable {
			t.Errorf("/readyz = %d, want 503 while a wanted plugin does not run", res.Status)
		}
		// Fixed again.
		write(t, path(host), config(`"30s"`, "info", "testmodel", v2), 0o644)
		if r := adminReload(t, host); len(r.Failed) != 0 || r.Unchanged != 1 {
			t.Errorf("report %s, want nothing failed", r)
		}
		if r, res := readyz(t, host); res.Status != http.StatusOK || len(r.Failed) != 0 {
			t.Errorf("/readyz = %d %s, want 200 with nothing failed", res.Status, res.Body)
		}
	})

	fams := scrape(t, host)
	counts := map[string]float64{}
	for _, trigger := range []string{"signal", "api"} {
		for _, result := range []string{"success", "failure"} {
			counts[trigger+" "+result] = metricValue(t, fams, "modelhost_reloads_total", map[string]string{"trigger": trigger, "result": result})
		}
	}
	want := map[string]float64{"signal success": 0, "signal failure": 1, "api success": 4, "api failure": 2}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("modelhost_reloads_total{%s} = %v, want %v", k, counts[k], v)
		}
	}
	if asked := len(filterLog(host, message("reload asked for over HTTP"))); asked != 6 {
		t.Errorf("%d \"reload asked for over HTTP\" log lines, want 6 (one per authorised POST)", asked)
	}
	summary := fmt.Sprintf("reload config: invalid file refused at %s by SIGHUP and by POST (422); 401 ×3; reloads_total signal success/failure %v/%v, api success/failure %v/%v",
		strings.TrimSuffix(where, ","), counts["signal success"], counts["signal failure"], counts["api success"], counts["api failure"])
	t.Log(summary)
	fmt.Println(summary)
}

// filterLog returns the host's log lines that match accepts.
func filterLog(host *hosttest.Host, match func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, l := range host.LogLines() {
		if match(l) {
			out = append(out, l)
		}
	}
	return out
}

// TestAdminOff checks a host without an admin block: POST /admin/reload
// is forbidden, whatever token it carries, and SIGHUP still reloads.
// /healthz answers too.
func TestAdminOff(t *testing.T) {
	dir := t.TempDir()
	v1 := testmodelAt(t, "1.0.0")
	config := func(models string) string {
		return fmt.Sprintf(`
plugins {
  directory = %q
  watch     = false
}
log {
  level  = "info"
  format = "json"
}
%s`, dir, models)
	}
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), config(""))

	res := host.Get(t, "/healthz")
	wantStatus(t, res, http.StatusOK, "application/json")
	if got := strings.TrimSpace(string(res.Body)); got != `{"status":"ok"}` {
		t.Errorf("/healthz body %s", got)
	}
	for _, h := range []http.Header{nil, bearer(adminToken)} {
		res := host.DoWith(t, http.MethodPost, "/admin/reload", h, nil)
		p := wantProblem(t, res, http.StatusForbidden)
		if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "#forbidden") {
			t.Errorf("type %q, want …#forbidden", typ)
		}
		if d, _ := p["detail"].(string); !strings.Contains(d, "admin") {
			t.Errorf("detail %q does not say how to turn the admin API on", d)
		}
	}
	if len(listModels(t, host)) != 0 {
		t.Fatal("models served before the SIGHUP")
	}
	write(t, filepath.Join(host.Dir, "config.hcl"), config(fmt.Sprintf("model \"testmodel\" {\n  command = %q\n}\n", v1)), 0o644)
	sighup(t, host)
	waitFor(t, 60*time.Second, "testmodel after SIGHUP", func() bool {
		v, _ := predictVersion(t, host, "/api/models/testmodel/predict")
		return v == "1.0.0"
	})
	fmt.Println("admin off: POST /admin/reload 403 with and without a token; SIGHUP still reloads; /healthz 200")
}

// TestAccessLog checks that with log.access each request has exactly one
// info line, and without it none.
func TestAccessLog(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, testmodelAt(t, "1.0.0"), filepath.Join(dir, "testmodel"), 0o755)
	modelhost := builder.Build(t, "./host/cmd/modelhost")
	type request struct {
		id, method, path string
		body             string
		status           int
		model            bool
	}
	requests := []request{
		{"access-list", "GET", "/api/models", "", 200, false},
		{"access-predict", "POST", "/api/models/testmodel/predict", `{"action":"echo","message":"hi"}`, 200, true},
		{"access-versioned", "POST", "/api/models/testmodel/versions/1.0.0/predict", `{"action":"version"}`, 200, true},
		{"access-invalid", "POST", "/api/models/testmodel/predict", `{"action":"dance"}`, 422, true},
		{"access-metadata", "GET", "/api/models/testmodel/metadata", "", 200, true},
		{"access-unknown", "GET", "/api/models/nosuch/metadata", "", 404, false},
		{"access-healthz", "GET", "/healthz", "", 200, false},
	}
	var summary []string
	for _, access := range []bool{true, false} {
		host := hosttest.Start(t, modelhost, fmt.Sprintf(`
plugins {
  directory = %q
  watch     = false
}
admin {
  tokens = [%q]
}
log {
  level  = "info"
  format = "json"
  access = %v
}
`, dir, adminToken, access))
		// One connection: the server answers the requests of a connection
		// one after the other, so every line a request logs is written
		// before the next request is read.
		client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
		send := func(id, method, path, body string, header http.Header) int {
			req, err := http.NewRequest(method, host.URL+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = header.Clone()
			if req.Header == nil {
				req.Header = http.Header{}
			}
			req.Header.Set("X-Request-ID", id)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if got := res.Header.Get("X-Request-ID"); got != id {
				t.Errorf("%s: X-Request-ID %q back, want %q", id, got, id)
			}
			return res.StatusCode
		}
		for _, r := range requests {
			if got := send(r.id, r.method, r.path, r.body, nil); got != r.status {
				t.Errorf("%s %s: %d, want %d", r.method, r.path, got, r.status)
			}
		}
		// A request that logs at info level whatever log.access says: once
		// its line is in, so is every line of the requests before it.
		if got := send("access-marker", http.MethodPost, "/admin/reload", "", bearer(adminToken)); got != http.StatusOK {
			t.Fatalf("marker reload: %d", got)
		}
		waitLog(t, host, "the marker", func(l map[string]any) bool {
			return l["@message"] == "reload asked for over HTTP" && l["request_id"] == "access-marker"
		})
		client.CloseIdleConnections()

		lines := 0
		for _, r := range requests {
			got := filterLog(host, func(l map[string]any) bool { return l["@message"] == "request" && l["request_id"] == r.id })
			lines += len(got)
			if !access {
				if len(got) != 0 {
					t.Errorf("access = false: %s logged %v", r.id, got)
				}
				continue
			}
			if len(got) != 1 {
				t.Errorf("access = true: %s has %d access lines, want 1: %v", r.id, len(got), got)
				continue
			}
			l := got[0]
			if l["@level"] != "info" || l["method"] != r.method || l["path"] != r.path || l["status"] != float64(r.status) {
				t.Errorf("%s: access line %v, want info with %s %s %d", r.id, l, r.method, r.path, r.status)
			}
			if _, ok := l["duration"]; !ok {
				t.Errorf("%s: no duration in %v", r.id, l)
			}
			if r.model && (l["model"] != "testmodel" || l["version"] != "1.0.0") {
				t.Errorf("%s: model %v version %v, want testmodel 1.0.0", r.id, l["model"], l["version"])
			}
			if !r.model && (l["model"] != nil || l["version"] != nil) {
				t.Errorf("%s: model %v version %v on a request that reached no model", r.id, l["model"], l["version"])
			}
		}
		if all := len(filterLog(host, message("request"))); !access && all != 0 {
			t.Errorf("access = false: %d access lines at all", all)
		}
		summary = append(summary, fmt.Sprintf("access=%v: %d access lines for %d requests", access, lines, len(requests)))
	}
	fmt.Println("access log: " + strings.Join(summary, "; "))
}
