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
	cmd := exec.Command("go", "list", "-m", "all")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -m all: %v\n%s", err, stderr)
	}
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
