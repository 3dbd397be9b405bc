package logsink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// recorder is an io.Writer that keeps what it was given, one entry per
// call, and can be made to block.
type recorder struct {
	entered atomic.Int32 // calls of Write so far, counted before the gate
	mu      sync.Mutex
	writes  []string
	gate    chan struct{} // if not nil, each write waits for a token
	err     error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.entered.Add(1)
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(p))
	return len(p), r.err
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.writes, "")
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.writes)
}

// eventually waits up to 5 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestInfoIsWrittenInTheBackground(t *testing.T) {
	rec := &recorder{}
	w := New(rec, 0)
	defer w.Close()
	if _, err := w.LevelWrite(hclog.Info, []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the queued line", func() bool { return rec.all() == "one\n" })
}

func TestWarningWaitsForQueuedLines(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	w := New(rec, 0)
	defer func() {
		close(rec.gate)
		w.Close()
	}()
	for i := range 3 {
		if _, err := w.LevelWrite(hclog.Debug, fmt.Appendf(nil, "info %d\n", i)); err != nil {
			t.Fatal(err)
		}
	}
	warned := make(chan struct{})
	go func() {
		defer close(warned)
		_, _ = w.LevelWrite(hclog.Error, []byte("error\n"))
	}()
	// Let every write through; the error must come after the three lines
	// queued before it, and its call must not return before it is out.
	for {
		select {
		case rec.gate <- struct{}{}:
			continue
		case <-warned:
		}
		break
	}
	if got, want := rec.all(), "info 0\ninfo 1\ninfo 2\nerror\n"; got != want {
		t.Fatalf("written %q, want %q", got, want)
	}
}

func TestOrderIsKeptUnderConcurrency(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), 4096) // small: some lines take the synchronous path
	const goroutines, lines = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				level := hclog.Info
				if i%97 == 0 {
					level = hclog.Warn
				}
				if _, err := w.LevelWrite(level, fmt.Appendf(nil, "g%d %d\n", g, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Every line once, each goroutine's lines in the order it logged them.
	next := make([]int, goroutines)
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(line, "g%d %d", &g, &i); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Errorf("goroutine %d: %d lines written, want %d", g, n, lines)
		}
	}
}

func TestLinesAreBatched(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	w := New(rec, 0)
	// The first line wakes the goroutine, whose write blocks; the next
	// ones queue up behind it and go out in one write.
	_, _ = w.LevelWrite(hclog.Info, []byte("first\n"))
	eventually(t, "the first write", func() bool { return rec.entered.Load() == 1 })
	for i := range 100 {
		_, _ = w.LevelWrite(hclog.Info, fmt.Appendf(nil, "line %d\n", i))
	}
	close(rec.gate)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := rec.calls(); n != 2 {
		t.Errorf("101 lines took %d writes, want 2", n)
	}
	if got := strings.Count(rec.all(), "\n"); got != 101 {
		t.Errorf("%d lines written, want 101", got)
	}
}

func TestFullQueueWaits(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	w := New(rec, 10)
	defer w.Close()
	_, _ = w.LevelWrite(hclog.Info, []byte("x\n"))
	eventually(t, "the first write", func() bool { return rec.entered.Load() == 1 })
	_, _ = w.LevelWrite(hclog.Info, []byte("0123456789")) // fills the queue
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		_, _ = w.LevelWrite(hclog.Info, []byte("more\n"))
	}()
	select {
	case <-returned:
		t.Fatal("a line beyond the limit was queued instead of waiting for the writes")
	case <-time.After(50 * time.Millisecond):
	}
	close(rec.gate)
	<-returned
	if got, want := rec.all(), "x\n0123456789more\n"; got != want {
		t.Errorf("written %q, want %q", got, want)
	}
}

func TestCloseWritesTheQueueAndReportsErrors(t *testing.T) {
	boom := errors.New("disk full")
	rec := &recorder{gate: make(chan struct{}), err: boom}
	w := New(rec, 0)
	_, _ = w.LevelWrite(hclog.Info, []byte("a\n"))
	_, _ = w.LevelWrite(hclog.Trace, []byte("b\n"))
	close(rec.gate)
	if err := w.Close(); !errors.Is(err, boom) {
		t.Errorf("Close = %v, want %v", err, boom)
	}
	if got := rec.all(); got != "a\nb\n" {
		t.Errorf("written %q", got)
	}
	// After Close, lines are written at once.
	_, _ = w.LevelWrite(hclog.Info, []byte("c\n"))
	if got := rec.all(); got != "a\nb\nc\n" {
		t.Errorf("after Close: written %q", got)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Errorf("second Close = %v", err)
	}
}

func TestWithHclog(t *testing.T) {
	rec := &recorder{}
	w := New(rec, 0)
	l := hclog.New(&hclog.LoggerOptions{Name: "modelhost", Output: w, JSONFormat: true})
	l.Info("request", "status", 200)
	l.Error("cannot start", "error", "boom")
	// The error is out when Error returns, after the info line.
	lines := strings.Split(strings.TrimSpace(rec.all()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"request"`) || !strings.Contains(lines[1], `"cannot start"`) {
		t.Fatalf("output:\n%s", rec.all())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// BenchmarkAccessLine prices one access line through hclog, in the
// host's two formats, written at once to a pipe as the host did before
// and queued by a Writer.
func BenchmarkAccessLine(b *testing.B) {
	args := []any{"request_id", "GEQD47Y2MZPLC74WF5N2LW4RYV", "method", "POST", "path", "/api/models/iris_model/predict",
		"status", 200, "duration", 713 * time.Microsecond, "bytes", int64(75), "remote", "127.0.0.1:39098",
		"model", "iris_model", "version", "1.0.0"}
	for _, format := range []string{"text", "json"} {
		for _, sink := range []string{"direct", "queued"} {
			b.Run(format+"/"+sink, func(b *testing.B) {
				r, pw, err := os.Pipe()
				if err != nil {
					b.Fatal(err)
				}
				go func() { _, _ = io.Copy(io.Discard, r) }()
				defer pw.Close()
				var out io.Writer = pw
				var w *Writer
				if sink == "queued" {
					w = New(pw, 0)
					out = w
				}
				l := hclog.New(&hclog.LoggerOptions{Name: "modelhost.http", Output: out, JSONFormat: format == "json"})
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						l.Info("request", args...)
					}
				})
				b.StopTimer()
				if w != nil {
					_ = w.Close()
				}
			})
		}
	}
}
