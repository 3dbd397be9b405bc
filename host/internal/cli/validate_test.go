package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes content to dir/name with mode perm and returns the path.
func writeFile(t *testing.T, dir, name, content string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return path
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	writeFile(t, dir, "plugins/iris", "#!/bin/sh\n", 0o755)
	writeFile(t, dir, "plugins/sentiment", "#!/bin/sh\n", 0o755)
	writeFile(t, dir, "plugins/README", "not a plugin\n", 0o644)
	writeFile(t, dir, "plugins/.iris.swp", "", 0o755)
	if err := os.Mkdir(filepath.Join(plugins, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	pinned := writeFile(t, dir, "opt/pinned", "pinned binary", 0o755)
	sum := sha256.Sum256([]byte("pinned binary"))
	config := writeFile(t, dir, "config.hcl", `plugins {
  directory = "plugins"
}
model "pinned" {
  command = "opt/pinned"
  sha256  = "`+hex.EncodeToString(sum[:])+`"
}
model "ghost" {
  command = "opt/ghost"
}
model "also-iris" {
  command = "plugins/iris"
}
`, 0o644)

	code, stdout, stderr := run(t, "validate", "--config", config)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing\nstdout:\n%s", code, stderr, stdout)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	want := []string{
		config + ": valid",
		"Model blocks: 3",
		"  pinned     " + pinned,
		"  ghost      " + filepath.Join(dir, "opt", "ghost"),
		"  also-iris  " + filepath.Join(plugins, "iris"),
		"Plugin directory: " + plugins,
		"Would launch 4 plugins:",
		"  pinned     " + pinned,
		"  ghost      ",
		"  also-iris  " + filepath.Join(plugins, "iris"),
		"  sentiment  " + filepath.Join(plugins, "sentiment"),
		"Would skip 1 file:",
		"  " + filepath.Join(plugins, "README") + ": not executable (chmod +x it to serve it)",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), stdout)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], strings.TrimRight(w, " ")) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], w)
		}
	}
	for i, suffix := range map[int]string{
		2: config + ":4,1-15", 7: "model block, sha256 pinned", 8: "model block; launch would fail: no such file or directory",
		9: "model block", 10: "plugin directory",
	} {
		if !strings.HasSuffix(lines[i], suffix) {
			t.Errorf("line %d = %q, want it to end with %q", i+1, lines[i], suffix)
		}
	}
}

func TestValidatePinMismatchAndChecksums(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "plugins/iris", "iris v2", 0o755)
	writeFile(t, dir, "plugins/unlisted", "unlisted", 0o755)
	old := sha256.Sum256([]byte("iris v1"))
	writeFile(t, dir, "plugins/SHA256SUMS", hex.EncodeToString(old[:])+"  iris\n", 0o644)
	config := writeFile(t, dir, "config.hcl", "plugins {\n  directory = \"plugins\"\n  require_checksums = true\n}\n", 0o644)

	code, stdout, stderr := run(t, "validate", "--config", config)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	now := sha256.Sum256([]byte("iris v2"))
	for _, want := range []string{
		"Model blocks: none\n",
		"only the binaries listed in SHA256SUMS are launched",
		"Would launch 1 plugin:\n",
		"plugin directory; launch would fail: its SHA-256 is " + hex.EncodeToString(now[:]),
		"pins " + hex.EncodeToString(old[:]),
		"Would skip 1 file:\n  " + filepath.Join(dir, "plugins", "unlisted") + ": not listed in",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not contain %q:\n%s", want, stdout)
		}
	}
}

func TestValidateWithoutDirectory(t *testing.T) {
	dir := t.TempDir()
	for src, want := range map[string]string{
		"plugins {\n  directory = \"\"\n}\n":        `Plugin directory: none (plugins.directory = ""): only model blocks are launched`,
		"plugins {\n  directory = \"missing\"\n}\n": "Plugin directory: " + filepath.Join(dir, "missing") + " (does not exist: nothing is discovered)",
	} {
		config := writeFile(t, dir, "config.hcl", src, 0o644)
		code, stdout, stderr := run(t, "validate", "--config", config)
		if code != exitOK || stderr != "" {
			t.Fatalf("%q: exit %d, stderr %q", src, code, stderr)
		}
		for _, w := range []string{want, "Would launch 0 plugins:\n", "Would skip: nothing\n"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("%q: stdout does not contain %q:\n%s", src, w, stdout)
			}
		}
	}
}

func TestValidateErrors(t *testing.T) {
	dir := t.TempDir()
	invalid := writeFile(t, dir, "invalid.hcl", "log {\n  level = \"loud\"\n}\nplugins {\n  watch_debounce = \"1ms\"\n}\n", 0o644)
	// A plugin directory that is a file cannot be read.
	unreadable := writeFile(t, dir, "unreadable.hcl", "plugins {\n  directory = \"unreadable.hcl\"\n}\n", 0o644)

	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"invalid configuration", []string{"--config", invalid}, exitUsage,
			[]string{invalid + ":2,11-17: Invalid log level", invalid + ":5,20-25: Invalid watch_debounce"}},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.hcl")}, exitUsage,
			[]string{"nope.hcl: no such file or directory"}},
		{"no --config", nil, exitUsage,
			[]string{"modelhost validate: --config FILE is required", `Run "modelhost validate --help"`}},
		{"discovery fails", []string{"--config", unreadable}, exitFailed,
			[]string{"modelhost validate: " + unreadable + " is valid, but plugin discovery failed: read plugin directory:", "not a directory"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"validate"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
		})
	}
}
