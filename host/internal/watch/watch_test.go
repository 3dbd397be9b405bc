package watch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

const (
	testDebounce = 50 * time.Millisecond
	// timeout bounds every wait for something that must happen.
	timeout = 10 * time.Second
	// silence is how long a test waits to see that nothing happens, after
	// a later change proved that the watcher sees changes.
	silence = 5 * testDebounce
)

// logBuffer collects a logger's output; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is one Run in the background.
type harness struct {
	dir   string
	calls chan []string // what onChange got, unless the test passed its own
	logs  *logBuffer
	fw    *fsnotify.Watcher
}

// start runs Run on dir until the test ends, and returns once it watches.
// The test fails if Run fails, or does not return within 5s of its
// context's end. With a nil onChange, calls receive the changed paths.
func start(t *testing.T, dir string, opts Options, onChange func(context.Context, []string)) *harness {
	t.Helper()
	h := &harness{dir: dir, calls: make(chan []string, 100), logs: &logBuffer{}}
	if onChange == nil {
		onChange = func(_ context.Context, changed []string) { h.calls <- changed }
	}
	if opts.Debounce == 0 {
		opts.Debounce = testDebounce
	}
	opts.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: h.logs})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, dir, opts, onChange, func(fw *fsnotify.Watcher) {
			h.fw = fw
			close(ready)
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return within 5s of its context's end")
		}
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs)
		}
	})
	select {
	case <-ready:
	case err := <-errc:
		t.Fatalf("Run returned before watching: %v", err)
	case <-time.After(timeout):
		t.Fatal("Run did not start watching")
	}
	return h
}

// next returns the paths of the next call.
func (h *harness) next(t *testing.T) []string {
	t.Helper()
	select {
	case changed := <-h.calls:
		return changed
	case <-time.After(timeout):
		t.Fatalf("no onChange call within %v", timeout)
		return nil
	}
}

// until returns the paths of the calls until one includes path.
func (h *harness) until(t *testing.T, path string) []string {
	t.Helper()
	var all []string
	deadline := time.After(timeout)
	for {
		select {
		case changed := <-h.calls:
			all = append(all, changed...)
			if slices.Contains(changed, path) {
				return all
			}
		case <-deadline:
			t.Fatalf("no onChange call with %s within %v; got %q", path, timeout, all)
			return nil
		}
	}
}

// none checks that onChange is not called for a while.
func (h *harness) none(t *testing.T) {
	t.Helper()
	select {
	case changed := <-h.calls:
		t.Errorf("unexpected onChange call with %q", changed)
	case <-time.After(silence):
	}
}

// waitLog waits until the logs contain s.
func (h *harness) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(h.logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("logs do not contain %q within %v", s, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), perm); err != nil {
		t.Fatal(err)
	}
}

func checkPaths(t *testing.T, got []string, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changed paths (-want +got):\n%s", diff)
	}
}

func TestNewExecutableFileTriggersOnce(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, Options{}, nil)
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	checkPaths(t, h.next(t), p)
	h.none(t)
	if !strings.Contains(h.logs.String(), "plugin directory changed") {
		t.Errorf("no Info line for the change; logs:\n%s", h.logs)
	}
}

func TestBurstOfWritesTriggersOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	h := start(t, dir, Options{}, nil)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := f.Write([]byte("0123456789")); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	checkPaths(t, h.next(t), p)
	h.none(t)
}

func TestDotFileAloneNeverTriggers(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, Options{}, nil)
	// The hidden file's events come first: had they triggered, the first
	// call would include it, or come before the one of the real file.
	hidden := filepath.Join(dir, ".upload.tmp")
	writeFile(t, hidden, 0o755)
	if err := os.Chmod(hidden, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(hidden); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	checkPaths(t, h.next(t), p)
	// And once the watcher proved live, a hidden file alone stays silent.
	writeFile(t, filepath.Join(dir, ".DS_Store"), 0o644)
	h.none(t)
}

func TestUploadThenRenameTriggersWithFinalPath(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, Options{}, nil)
	tmp := filepath.Join(dir, ".model.tmp")
	writeFile(t, tmp, 0o755)
	p := filepath.Join(dir, "model")
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	checkPaths(t, h.next(t), p)
}

func TestNotExecutableIgnoredUntilChmod(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, Options{}, nil)
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o644)
	h.waitLog(t, "not executable")
	// A later change proves the watcher live: had the first file
	// triggered, the first call would include it.
	other := filepath.Join(dir, "other")
	writeFile(t, other, 0o755)
	checkPaths(t, h.next(t), other)
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	checkPaths(t, h.next(t), p)
}

func TestNotExecutableAlongsideOthers(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, Options{}, nil)
	data := filepath.Join(dir, "notes.txt")
	writeFile(t, data, 0o644)
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	// Both are written well within the quiet time, but a slow machine may
	// split them: what matters is that the text file is never passed.
	for _, path := range h.until(t, p) {
		if path == data {
			t.Errorf("onChange got the non-executable %s", data)
		}
	}
}

func TestNoLongerExecutableTriggers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	h := start(t, dir, Options{}, nil)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	checkPaths(t, h.next(t), p)
	h.waitLog(t, "no longer executable")
}

func TestChecksumFileTriggers(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, Options{}, nil)
	p := filepath.Join(dir, "SHA256SUMS")
	writeFile(t, p, 0o644)
	checkPaths(t, h.next(t), p)
}

func TestRemoveTriggers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	h := start(t, dir, Options{}, nil)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	checkPaths(t, h.next(t), p)
}

func TestGrowingFileTriggersOnceComplete(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model")
	sizes := make(chan int64, 10)
	// A pause of the writer longer than the quiet time looks like the end
	// of the file (see the package doc); leave the writer's 20ms between
	// writes a wide margin on a loaded machine.
	start(t, dir, Options{Debounce: 200 * time.Millisecond}, func(context.Context, []string) {
		info, err := os.Stat(p)
		if err != nil {
			t.Errorf("stat in onChange: %v", err)
			sizes <- -1
			return
		}
		sizes <- info.Size()
	})
	const chunk, chunks = 1024, 15
	written := make(chan struct{})
	go func() {
		defer close(written)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o755)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for range chunks {
			if _, err := f.Write(make([]byte, chunk)); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	defer func() { <-written }()
	select {
	case size := <-sizes:
		if size != chunk*chunks {
			t.Errorf("onChange saw %d bytes, want the final %d", size, chunk*chunks)
		}
	case <-time.After(timeout):
		t.Fatalf("no onChange call within %v", timeout)
	}
	<-written
	select {
	case size := <-sizes:
		t.Errorf("onChange called again (size %d)", size)
	case <-time.After(silence):
	}
}

func TestMaxWaitBoundsAFileThatKeepsChanging(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	// The quiet time is never reached while the writer writes every 20ms.
	h := start(t, dir, Options{Debounce: time.Second, MaxWait: 200 * time.Millisecond}, nil)
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for {
			if _, err := f.Write([]byte("x")); err != nil {
				t.Error(err)
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-stopped }()
	checkPaths(t, h.next(t), p)
	h.waitLog(t, "kept changing for longer than the maximum wait")
}

func TestDirectoryMissingAtStartThenCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plugins")
	h := start(t, dir, Options{}, nil)
	h.waitLog(t, "watching its parent")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	h.until(t, p)

	// Removed while watched, then back again.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	h.until(t, dir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h.until(t, dir)
	writeFile(t, p, 0o755)
	h.until(t, p)
}

func TestDirectoryRemovedTriggers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "model"), 0o755)
	h := start(t, dir, Options{}, nil)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	h.until(t, dir)
	h.waitLog(t, "watching its parent")
}

func TestDirectoryRenamedTriggers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, Options{}, nil)
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	h.until(t, dir)
	// Changes in the renamed directory are no longer the host's business.
	writeFile(t, filepath.Join(dir+".old", "model"), 0o755)
	h.none(t)
}

func TestParentMissingAtStartPolls(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "srv", "plugins")
	h := start(t, dir, Options{}, nil)
	h.waitLog(t, "checking every second")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model")
	writeFile(t, p, 0o755)
	h.until(t, p)
}

func TestOverflowTriggers(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, Options{}, nil)
	h.fw.Errors <- fsnotify.ErrEventOverflow
	checkPaths(t, h.next(t), dir)
	h.waitLog(t, "were lost")
}

func TestCallsNeverOverlap(t *testing.T) {
	dir := t.TempDir()
	var active, calls atomic.Int32
	entered := make(chan []string, 10)
	release := make(chan struct{})
	start(t, dir, Options{}, func(ctx context.Context, changed []string) {
		if active.Add(1) > 1 {
			t.Error("onChange calls overlap")
		}
		defer active.Add(-1)
		entered <- changed
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	})
	next := func() []string {
		t.Helper()
		select {
		case changed := <-entered:
			return changed
		case <-time.After(timeout):
			t.Fatalf("no onChange call within %v", timeout)
			return nil
		}
	}
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	writeFile(t, a, 0o755)
	checkPaths(t, next(), a)
	// While the first call blocks, more changes come, and their quiet time
	// passes (the pause lets it; the test does not depend on it).
	writeFile(t, b, 0o755)
	writeFile(t, c, 0o755)
	time.Sleep(silence)
	close(release)
	checkPaths(t, next(), b, c)
}

func TestRunWaitsForTheCallInProgress(t *testing.T) {
	dir := t.TempDir()
	entered := make(chan struct{})
	var returned atomic.Bool
	t.Cleanup(func() { // runs after start's, which cancels and waits for Run
		if !returned.Load() {
			t.Error("Run returned before onChange did")
		}
	})
	start(t, dir, Options{}, func(ctx context.Context, _ []string) {
		close(entered)
		<-ctx.Done()
		returned.Store(true)
	})
	writeFile(t, filepath.Join(dir, "model"), 0o755)
	select {
	case <-entered:
	case <-time.After(timeout):
		t.Fatalf("no onChange call within %v", timeout)
	}
}

func TestNotADirectory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "file")
	writeFile(t, p, 0o644)
	err := Run(context.Background(), p, Options{}, func(context.Context, []string) {
		t.Error("onChange called")
	})
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Run = %v, want a not-a-directory error", err)
	}
}
