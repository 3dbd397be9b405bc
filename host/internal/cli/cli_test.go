package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// run runs the command line args and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// commands lists every command with a flag it has, for the tests that go
// through all of them.
var commands = []struct{ name, flag string }{
	{"serve", "-address"},
	{"validate", "-config"},
	{"models", "-token-file"},
	{"openapi", "-config"},
	{"checksum", "-hcl"},
	{"version", "-json"},
}

func TestCommandHelp(t *testing.T) {
	for _, c := range commands {
		for _, help := range []string{"--help", "-h", "-help"} {
			code, stdout, stderr := run(t, c.name, help)
			if code != exitOK {
				t.Errorf("%s %s: exit %d, want %d", c.name, help, code, exitOK)
			}
			if stderr != "" {
				t.Errorf("%s %s: stderr %q, want nothing (help is not an error)", c.name, help, stderr)
			}
			for _, want := range []string{"Usage: modelhost " + c.name, "Flags:", "  " + c.flag} {
				if !strings.Contains(stdout, want) {
					t.Errorf("%s %s: stdout does not contain %q:\n%s", c.name, help, want, stdout)
				}
			}
		}
	}
}

func TestCommandUnknownFlag(t *testing.T) {
	for _, c := range commands {
		code, stdout, stderr := run(t, c.name, "--bogus")
		if code != exitUsage {
			t.Errorf("%s --bogus: exit %d, want %d", c.name, code, exitUsage)
		}
		if stdout != "" {
			t.Errorf("%s --bogus: stdout %q, want nothing", c.name, stdout)
		}
		want := "modelhost " + c.name + ": flag provided but not defined: -bogus\nRun \"modelhost " + c.name + " --help\" for usage.\n"
		if stderr != want {
			t.Errorf("%s --bogus: stderr %q, want %q", c.name, stderr, want)
		}
	}
}

func TestCommandUnexpectedArguments(t *testing.T) {
	for _, c := range commands {
		if c.name == "checksum" { // takes paths
			continue
		}
		code, stdout, stderr := run(t, c.name, "extra")
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, `unexpected arguments ["extra"]`) {
			t.Errorf("%s extra: exit %d, stdout %q, stderr %q; want %d, nothing, unexpected arguments", c.name, code, stdout, stderr, exitUsage)
		}
	}
}

func TestTopLevelUsage(t *testing.T) {
	for _, help := range []string{"help", "-h", "--help"} {
		code, stdout, stderr := run(t, help)
		if code != exitOK || stderr != "" {
			t.Errorf("%s: exit %d, stderr %q; want 0 and nothing", help, code, stderr)
		}
		for _, c := range commands {
			if !strings.Contains(stdout, "modelhost "+c.name+" ") {
				t.Errorf("%s: usage does not list %s:\n%s", help, c.name, stdout)
			}
		}
		for _, want := range []string{"Exit codes:", "0  success", "1  the command ran and failed", "2  bad command line or invalid configuration"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: usage does not contain %q", help, want)
			}
		}
	}

	// Without a command, or with an unknown one, the usage is an error.
	for _, args := range [][]string{nil, {"frobnicate"}} {
		code, stdout, stderr := run(t, args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "Usage:") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, nothing, the usage", args, code, stdout, stderr, exitUsage)
		}
	}
	if _, _, stderr := run(t, "frobnicate"); !strings.HasPrefix(stderr, `modelhost: unknown command "frobnicate"`) {
		t.Errorf("unknown command: stderr %q", stderr)
	}
}
