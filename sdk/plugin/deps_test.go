package plugin_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// forbiddenPluginDeps are module paths that must not be linked into plugin
// binaries, with why.
var forbiddenPluginDeps = map[string]string{
	// The host compiles every model's schemas at load; sdk/schemacheck
	// does the same in a model's tests. In a plugin the compiler would only
	// cost: its package initialisation allocates about 1.7 MB, and with
	// the code pages it touches a plugin process is 1.6 to 2.4 MiB larger
	// in resident memory and starts about 5 ms later.
	"github.com/santhosh-tekuri/jsonschema": "a JSON Schema compiler in every plugin costs about 2 MiB of resident memory and 5 ms of start-up per plugin process; compile schemas in sdk/schemacheck (host, tests), not in sdk/plugin",
}

// TestPluginLinksNoSchemaCompiler lists the packages every plugin binary
// links (sdk/plugin and what it imports, test files aside) and fails if one
// of forbiddenPluginDeps is among them. It runs on the SDK module alone, as
// a plugin module requiring it sees it.
func TestPluginLinksNoSchemaCompiler(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/modelhost/modelhost/sdk/plugin")
	cmd.Dir = ".." // the SDK module's root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-1], "github.com/modelhost/modelhost/sdk/plugin ") {
		t.Fatalf("go list -deps did not end with sdk/plugin and its imports; output:\n%s", out)
	}
	for bad, why := range forbiddenPluginDeps {
		in := func(pkg string) bool { return pkg == bad || strings.HasPrefix(pkg, bad+"/") }
		var edges []string // the imports that bring it in
		found := false
		for _, line := range lines {
			pkg, imports, _ := strings.Cut(line, " ")
			found = found || in(pkg)
			for _, imp := range strings.Fields(imports) {
				if in(imp) && !in(pkg) {
					edges = append(edges, pkg+" imports "+imp)
				}
			}
		}
		if found {
			t.Errorf("every plugin binary links %s (%s): %s", bad, strings.Join(edges, "; "), why)
		}
	}
}
