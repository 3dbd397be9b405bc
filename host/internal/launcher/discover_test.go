package launcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/host/internal/config"
)

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	for name, perm := range map[string]os.FileMode{
		"iris":        0o755,
		"sentiment":   0o700,
		"notes.txt":   0o644,
		".hidden":     0o755,
		"explicit":    0o755,
		"zz-last-one": 0o755,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), perm); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "iris"), filepath.Join(dir, "iris-link")); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Plugins.Directory = dir
	cfg.Plugins.PredictTimeout = 7 * time.Second
	cfg.Models = []config.Model{{
		Name:           "mine",
		Command:        filepath.Join(dir, "explicit"),
		Args:           []string{"--flag"},
		Env:            map[string]string{"A": "1"},
		PredictTimeout: time.Second,
	}}

	specs, skipped, err := Discover(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range specs {
		got = append(got, s.Name)
	}
	// "explicit" is named by a model block and not launched twice;
	// iris-link points at iris but is a separate name the operator chose.
	want := []string{"mine", "iris", "iris-link", "sentiment", "zz-last-one"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spec names (-want +got):\n%s", diff)
	}
	if s := specs[0]; s.PredictTimeout != time.Second || !cmp.Equal(s.Env, []string{"A=1"}) || !cmp.Equal(s.Args, []string{"--flag"}) {
		t.Errorf("explicit spec = %+v, want its own timeout, env and args", s)
	}
	if s := specs[1]; s.PredictTimeout != 7*time.Second || len(s.Env) != 0 || s.Command != filepath.Join(dir, "iris") {
		t.Errorf("discovered spec = %+v, want the directory default timeout and an empty env", s)
	}
	if len(skipped) != 1 || filepath.Base(skipped[0].Path) != "notes.txt" || !strings.Contains(skipped[0].Reason, "not executable") {
		t.Errorf("skipped = %+v, want notes.txt as not executable", skipped)
	}
}

func TestDiscoverMissingDirectory(t *testing.T) {
	cfg := config.Default()
	cfg.Plugins.Directory = filepath.Join(t.TempDir(), "absent")
	specs, skipped, err := Discover(cfg)
	if err != nil || len(specs) != 0 || len(skipped) != 0 {
		t.Errorf("Discover(missing dir) = %v, %v, %v; want nothing and no error", specs, skipped, err)
	}
}

func TestLaunchRefusesNonExecutable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plain")
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ path, want string }{
		"missing":        {filepath.Join(dir, "absent"), "does not exist"},
		"directory":      {dir, "is a directory"},
		"not executable": {path, "not executable"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Launch(t.Context(), Spec{Name: "x", Command: tc.path}, Options{StartTimeout: time.Second})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Launch error = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
