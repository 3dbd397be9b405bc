package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// defaultVersions returns, for GET /api/models, name@version of every
// listed model with a * on the default ones.
func defaultVersions(t *testing.T, host *hosttest.Host) string {
	t.Helper()
	var s []string
	for _, m := range listModels(t, host) {
		item := m.Name + "@" + m.Version
		if m.Default {
			item += "*"
		}
		s = append(s, item)
	}
	return strings.Join(s, ",")
}

// TestVersionsSideBySide serves the test model at 1.0.0 and 2.0.0 from two
// model blocks: the unversioned URLs reach the highest version, or the
// pinned one once a reload applies the pin, and the versioned URLs reach
// each one.
func TestVersionsSideBySide(t *testing.T) {
	v1, v2 := testmodelAt(t, "1.0.0"), testmodelAt(t, "2.0.0")
	config := func(pins string) string {
		return fmt.Sprintf(`
plugins {
  directory       = ""
  start_timeout   = "30s"
  pinned_versions = {%s}
}
model "testmodel-1" {
  command = %q
}
model "testmodel-2" {
  command = %q
}
admin {
  tokens = [%q]
}
log {
  level  = "info"
  format = "json"
}
`, pins, v1, v2, adminToken)
	}
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), config(""))
	const base = "/api/models/testmodel"

	if got, want := defaultVersions(t, host), "testmodel@2.0.0*,testmodel@1.0.0"; got != want {
		t.Errorf("GET /api/models: %s, want %s", got, want)
	}
	check := func(what, path, want string) {
		t.Helper()
		v, res := predictVersion(t, host, path)
		if res.Status != http.StatusOK || v != want {
			t.Errorf("%s: POST %s = %d %s, want 200 from %s", what, path, res.Status, res.Body, want)
		}
	}
	check("highest by default", base+"/predict", "2.0.0")
	check("versioned", base+"/versions/1.0.0/predict", "1.0.0")
	check("versioned", base+"/versions/2.0.0/predict", "2.0.0")
	pids := map[string]int{}
	for _, v := range []string{"1.0.0", "2.0.0"} {
		m, status := metadataAt(t, host, base+"/versions/"+v+"/metadata")
		if status != http.StatusOK || m.Version != v || m.PID == 0 || m.Default != (v == "2.0.0") {
			t.Errorf("metadata of %s: %d %+v", v, status, m)
		}
		pids[v] = m.PID
	}
	if m, _ := metadataAt(t, host, base+"/metadata"); m.Version != "2.0.0" || !m.Default {
		t.Errorf("unversioned metadata = %+v, want 2.0.0, default", m)
	}
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, base + "/versions/3.0.0/predict", `{"action":"version"}`},
		{http.MethodGet, base + "/versions/3.0.0/metadata", ""},
		{http.MethodPost, base + "/versions/3.0.0/predict/batch", `{"inputs":[{"action":"version"}]}`},
	} {
		contentType := ""
		if tc.body != "" {
			contentType = "application/json"
		}
		p := wantProblem(t, host.Do(t, tc.method, tc.path, contentType, []byte(tc.body)), http.StatusNotFound)
		if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "#model-version-not-found") {
			t.Errorf("%s %s: type %q, want …#model-version-not-found", tc.method, tc.path, typ)
		}
		if d, _ := p["detail"].(string); !strings.Contains(d, "2.0.0, 1.0.0") {
			t.Errorf("%s %s: detail %q does not list the served versions", tc.method, tc.path, d)
		}
	}
	p := wantProblem(t, host.Post(t, "/api/models/nosuch/versions/1.0.0/predict", "application/json", []byte(`{}`)), http.StatusNotFound)
	if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "#model-not-found") {
		t.Errorf("unknown model at a version: type %q, want …#model-not-found", typ)
	}

	// Pin 1.0.0: a reload applies it without relaunching anything.
	write(t, filepath.Join(host.Dir, "config.hcl"), config(`testmodel = "1.0.0"`), 0o644)
	r := adminReload(t, host)
	if r.Unchanged != 2 || len(r.Started)+len(r.Replaced)+len(r.Stopped)+len(r.Failed) != 0 {
		t.Errorf("reload that pins a version: %s, want 2 unchanged and nothing else", r)
	}
	check("pinned", base+"/predict", "1.0.0")
	check("versioned, pinned to the other", base+"/versions/2.0.0/predict", "2.0.0")
	if got, want := defaultVersions(t, host), "testmodel@2.0.0,testmodel@1.0.0*"; got != want {
		t.Errorf("GET /api/models after the pin: %s, want %s", got, want)
	}
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if m, _ := metadataAt(t, host, base+"/versions/"+v+"/metadata"); m.PID != pids[v] {
			t.Errorf("%s: PID %d → %d: pinning relaunched a plugin", v, pids[v], m.PID)
		}
	}

	// A pin of a version that is not served is ignored, with a warning.
	write(t, filepath.Join(host.Dir, "config.hcl"), config(`testmodel = "9.9.9"`), 0o644)
	adminReload(t, host)
	check("pin of a version not served", base+"/predict", "2.0.0")
	l := waitLog(t, host, "the warning about the pin", message("pinned version not served; the highest served version is the default"))
	if l["model"] != "testmodel" || l["pinned_version"] != "9.9.9" {
		t.Errorf("warning %v, want testmodel 9.9.9", l)
	}

	// Unpinned again, then 2.0.0's block removed: 1.0.0 is the default.
	write(t, filepath.Join(host.Dir, "config.hcl"), strings.Replace(config(""), fmt.Sprintf("model \"testmodel-2\" {\n  command = %q\n}\n", v2), "", 1), 0o644)
	r = adminReload(t, host)
	if len(r.Stopped) != 1 || r.Stopped[0].Version != "2.0.0" || r.Unchanged != 1 {
		t.Errorf("reload without the 2.0.0 block: %s, want 2.0.0 stopped", r)
	}
	check("the only version left", base+"/predict", "1.0.0")
	if got, want := defaultVersions(t, host), "testmodel@1.0.0*"; got != want {
		t.Errorf("GET /api/models with one version: %s, want %s", got, want)
	}
	waitGone(t, pids["2.0.0"], "the 2.0.0 plugin")
	wantProblem(t, host.Post(t, base+"/versions/2.0.0/predict", "application/json", []byte(`{"action":"version"}`)), http.StatusNotFound)
	fmt.Printf("versions side by side: default 2.0.0 (highest), 1.0.0 once pinned by a reload (no relaunch: PIDs %d, %d kept), 2.0.0 again for a pin of 9.9.9, 1.0.0 once 2.0.0 was removed\n",
		pids["1.0.0"], pids["2.0.0"])
}

// TestVersionsInDirectory serves two versions from two binaries of the
// watched plugin directory: dropping the 2.0.0 binary makes it the
// default, removing it makes 1.0.0 the default again.
func TestVersionsInDirectory(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, testmodelAt(t, "1.0.0"), filepath.Join(dir, "testmodel-1"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), watchConfig(dir, ""))
	v1 := stateOf(t, host, "testmodel").PID

	install(t, testmodelAt(t, "2.0.0"), dir, "testmodel-2")
	waitFor(t, 60*time.Second, "2.0.0 as the default", func() bool {
		v, _ := predictVersion(t, host, "/api/models/testmodel/predict")
		return v == "2.0.0"
	})
	if got, want := defaultVersions(t, host), "testmodel@2.0.0*,testmodel@1.0.0"; got != want {
		t.Errorf("GET /api/models: %s, want %s", got, want)
	}
	if v, _ := predictVersion(t, host, "/api/models/testmodel/versions/1.0.0/predict"); v != "1.0.0" {
		t.Errorf("versioned predict of 1.0.0 answers %q", v)
	}
	if m, _ := metadataAt(t, host, "/api/models/testmodel/versions/1.0.0/metadata"); m.PID != v1 {
		t.Errorf("1.0.0 PID %d → %d: adding another version relaunched it", v1, m.PID)
	}
	// A third binary at a version already served is refused; the first
	// one serves on.
	install(t, testmodelAt(t, "2.0.0"), dir, "testmodel-2-copy")
	waitFor(t, 60*time.Second, "the duplicate in /readyz", func() bool {
		r, _ := readyz(t, host)
		return len(r.Failed) == 1 && r.Failed[0].Plugin == "testmodel-2-copy" && strings.Contains(r.Failed[0].Error, "already served")
	})
	if got, want := defaultVersions(t, host), "testmodel@2.0.0*,testmodel@1.0.0"; got != want {
		t.Errorf("GET /api/models after the duplicate: %s, want %s", got, want)
	}

	for _, name := range []string{"testmodel-2", "testmodel-2-copy"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "1.0.0 as the only version", func() bool {
		return defaultVersions(t, host) == "testmodel@1.0.0*"
	})
	if v, _ := predictVersion(t, host, "/api/models/testmodel/predict"); v != "1.0.0" {
		t.Errorf("after removing 2.0.0, testmodel answers %q", v)
	}
	waitFor(t, 30*time.Second, "an empty failed list", func() bool {
		r, res := readyz(t, host)
		return res.Status == http.StatusOK && len(r.Failed) == 0
	})
	fmt.Println("versions in the directory: dropping 2.0.0 made it the default, a duplicate 2.0.0 was refused, removing them made 1.0.0 the default")
}
