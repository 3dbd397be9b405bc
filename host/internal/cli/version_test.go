package cli

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/host/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	want := "modelhost " + buildinfo.Read().String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := run(t, args...)
		if code != exitOK || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
		if stdout != want {
			t.Errorf("%q: stdout %q, want %q", args, stdout, want)
		}
		if !strings.HasSuffix(stdout, " "+runtime.GOOS+"/"+runtime.GOARCH+"\n") {
			t.Errorf("%q: stdout %q does not end with the platform", args, stdout)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	code, stdout, stderr := run(t, "version", "--json")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, stdout)
	}
	for _, key := range []string{"version", "revision", "time", "modified", "go_version", "platform"} {
		if _, ok := got[key]; !ok {
			t.Errorf("member %q missing from %s", key, stdout)
		}
	}
	if got["go_version"] != buildinfo.Read().GoVersion || got["platform"] != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("go_version %v, platform %v", got["go_version"], got["platform"])
	}
}
