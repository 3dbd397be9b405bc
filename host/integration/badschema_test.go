package integration

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// TestSchemaThatDoesNotCompile serves a plugin whose input schema is a JSON
// object but not a valid JSON Schema. sdk/plugin links no schema compiler,
// so the plugin itself starts (and --describe passes); the host compiles
// the schemas when it loads the plugin, so it must refuse the model, say
// why in its log and in /readyz, stop the process, and serve the others.
func TestSchemaThatDoesNotCompile(t *testing.T) {
	badschema := builder.Build(t, "./host/integration/testdata/badschema")
	if out, err := exec.Command(badschema, "--describe").CombinedOutput(); err != nil {
		t.Errorf("badschema --describe: %v, want status 0: it checks only that the schemas are JSON objects\n%s", err, out)
	}

	dir := t.TempDir()
	hosttest.Copy(t, testmodelAt(t, "1.0.0"), filepath.Join(dir, "testmodel"), 0o755)
	hosttest.Copy(t, badschema, filepath.Join(dir, "badschema"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), hostConfig(dir))

	const reason = "model not registered: input schema of bad_schema: compile schema"
	// The operator's view: the log line and /readyz.
	line := findLog(host, message("plugin not started; skipping it"))
	if line == nil || line["plugin"] != "badschema" || !strings.Contains(toString(line["reason"]), reason) ||
		!strings.Contains(toString(line["reason"]), "/properties/x/type") {
		t.Errorf("log line for badschema = %v, want plugin not started with a reason containing %q and the schema location /properties/x/type", line, reason)
	}
	r, res := readyz(t, host)
	if res.Status != http.StatusServiceUnavailable || !strings.Contains(r.Reason, "badschema") {
		t.Errorf("/readyz = %d %s, want 503 naming badschema", res.Status, res.Body)
	}
	if len(r.Failed) != 1 || r.Failed[0].Plugin != "badschema" || r.Failed[0].KeptRunning || !strings.Contains(r.Failed[0].Error, reason) {
		t.Errorf("/readyz failed = %+v, want badschema, not kept running, with an error containing %q", r.Failed, reason)
	}

	// The model is not served; the others are.
	wantProblem(t, host.Post(t, "/api/models/bad_schema/predict", "application/json", []byte(`{"x":1}`)), http.StatusNotFound)
	for _, m := range listModels(t, host) {
		if m.Name == "bad_schema" {
			t.Errorf("bad_schema listed: %+v", m)
		}
	}
	if v, res := predictVersion(t, host, "/api/models/testmodel/predict"); v != "1.0.0" {
		t.Errorf("testmodel answers %d %s, want 1.0.0", res.Status, res.Body)
	}

	// The refused plugin's process was started (go-plugin logs its PID at
	// debug level) and is stopped.
	started := findLog(host, func(l map[string]any) bool {
		return l["@message"] == "plugin started" && l["path"] == filepath.Join(dir, "badschema")
	})
	pid, _ := started["pid"].(float64)
	if pid <= 0 {
		t.Fatalf("no debug log line gives the PID of badschema (got %v)", started)
	}
	waitGone(t, int(pid), "the refused badschema plugin")
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}
