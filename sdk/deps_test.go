package sdk_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// forbiddenModules are the host's dependencies, which must never reach a
// plugin through the SDK: a plugin's module graph is the SDK's.
var forbiddenModules = []string{
	"github.com/labstack/echo",
	"github.com/hashicorp/hcl",
	"github.com/prometheus",
}

// TestModuleGraphExcludesHostDependencies runs `go list -m all` on the SDK
// module alone, as a plugin module requiring it sees it. The repository's
// go.work would add the host's modules, so it is turned off.
func TestModuleGraphExcludesHostDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out := goOffWork(t, "list", "-m", "all")
	modules := strings.Fields(string(out))
	if len(modules) == 0 || modules[0] != "github.com/modelhost/modelhost/sdk" {
		t.Fatalf("go list -m all listed %q first, want github.com/modelhost/modelhost/sdk; output:\n%s", modules, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, _, _ := strings.Cut(line, " ")
		for _, bad := range forbiddenModules {
			if path == bad || strings.HasPrefix(path, bad+"/") {
				t.Errorf("the SDK's module graph has %s, want none of %q", line, forbiddenModules)
			}
		}
	}
}

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
	out := goOffWork(t, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/modelhost/modelhost/sdk/plugin")
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

// goOffWork runs the go command with args in the SDK module alone (the
// repository's go.work would add the host's modules) and returns its
// standard output, failing the test with its standard error if it fails.
func goOffWork(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}
