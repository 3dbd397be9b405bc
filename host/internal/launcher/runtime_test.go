//go:build linux

package launcher

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestRuntimeDir(t *testing.T) {
	base := t.TempDir()
	rd, err := NewRuntimeDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "modelhost-"+strconv.Itoa(os.Getpid())); rd.Path() != want {
		t.Errorf("Path = %s, want %s", rd.Path(), want)
	}
	pid, start, err := readPIDFile(rd.Path())
	if err != nil || pid != os.Getpid() || start == 0 {
		t.Errorf("pid file = %d, %d, %v; want this process with its start time", pid, start, err)
	}
	one, err := rd.newLaunchDir()
	if err != nil || filepath.Base(one) != "1" {
		t.Errorf("first launch dir = %s, %v", one, err)
	}
	// Another host must not remove it while this process runs.
	if removed := CleanStale(base, nil); len(removed) != 0 {
		t.Errorf("CleanStale removed %v, the directory of a running host", removed)
	}
	if err := rd.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rd.Path()); !os.IsNotExist(err) {
		t.Errorf("after Remove: %v", err)
	}
}

// startProcess starts a long sleep in a process group of its own, as
// plugins run, and stops it when the test ends.
func startProcess(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	isolate(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killGroup(cmd.Process.Pid)
		_ = cmd.Wait()
	})
	return cmd
}

func writeRecord(t *testing.T, dir string, pid int, start string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(fmt.Sprintf("%d %s\n", pid, start)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCleanStale(t *testing.T) {
	base := t.TempDir()

	// A host that was killed: its PID is no longer running.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadDir := filepath.Join(base, "modelhost-"+strconv.Itoa(dead.Process.Pid))
	writeRecord(t, deadDir, dead.Process.Pid, "12345")

	// The plugin it left running, correctly recorded: stopped.
	leftover := startProcess(t, "sleep 60 & wait")
	start, err := processStartTime(leftover.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	writeRecord(t, filepath.Join(deadDir, "1"), leftover.Process.Pid, strconv.FormatUint(start, 10))

	// A process that reuses a recorded PID (the start time differs): left
	// alone.
	stranger := startProcess(t, "sleep 60")
	writeRecord(t, filepath.Join(deadDir, "2"), stranger.Process.Pid, "1")
	// A record without a start time: left alone too.
	writeRecord(t, filepath.Join(deadDir, "3"), stranger.Process.Pid, "-")

	// A running host's directory: kept.
	liveHost := startProcess(t, "sleep 60")
	liveStart, _ := processStartTime(liveHost.Process.Pid)
	liveDir := filepath.Join(base, "modelhost-"+strconv.Itoa(liveHost.Process.Pid))
	writeRecord(t, liveDir, liveHost.Process.Pid, strconv.FormatUint(liveStart, 10))

	// Not ours to touch.
	for _, name := range []string{"modelhost-notapid", "plugin123", "modelhost-0"} {
		if err := os.Mkdir(filepath.Join(base, name), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(liveDir, filepath.Join(base, "modelhost-999999999")); err != nil {
		t.Fatal(err)
	}

	removed := CleanStale(base, nil)
	if len(removed) != 1 || removed[0] != deadDir {
		t.Errorf("removed %v, want only %s", removed, deadDir)
	}
	waited := make(chan error, 1)
	go func() { waited <- leftover.Wait() }()
	select {
	case err := <-waited:
		if err == nil {
			t.Error("the leftover plugin exited by itself, want killed")
		}
	case <-time.After(5 * time.Second):
		t.Error("the leftover plugin is still running")
	}
	if !processAlive(stranger.Process.Pid) {
		t.Error("a process that only shares a recorded PID was killed")
	}
	for _, name := range []string{filepath.Base(liveDir), "modelhost-notapid", "plugin123", "modelhost-0", "modelhost-999999999"} {
		if _, err := os.Lstat(filepath.Join(base, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}
}
