package plugin

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHostGone(t *testing.T) {
	var ppid atomic.Int64
	ppid.Store(100)
	alive := map[int]bool{100: true, 200: true}
	procs := processInfo{
		getppid: func() int { return int(ppid.Load()) },
		alive:   func(pid int) bool { return alive[pid] },
	}

	// The host is the parent.
	gone := hostGone(100, procs)
	if g, why := gone(); g {
		t.Fatalf("gone = true (%s) while the parent runs", why)
	}
	ppid.Store(1)
	if g, why := gone(); !g || !strings.Contains(why, "parent process 100 is gone") {
		t.Errorf("after reparenting: gone = %t, %q; want true, parent gone", g, why)
	}

	// A wrapper (PID 100) sits between the host (PID 200) and the plugin.
	ppid.Store(100)
	gone = hostGone(200, procs)
	if g, _ := gone(); g {
		t.Fatal("gone = true while wrapper and host run")
	}
	alive[200] = false
	if g, why := gone(); !g || !strings.Contains(why, "host process 200 is gone") {
		t.Errorf("after the host died: gone = %t, %q; want true, host gone", g, why)
	}

	// Started by hand: no host PID, the parent is watched.
	gone = hostGone(0, procs)
	if g, _ := gone(); g {
		t.Fatal("gone = true without a host PID while the parent runs")
	}
	ppid.Store(300)
	if g, _ := gone(); !g {
		t.Error("gone = false after the parent changed")
	}
}

func TestWatchHostExits(t *testing.T) {
	var calls atomic.Int64
	gone := func() (bool, string) {
		if calls.Add(1) < 3 {
			return false, ""
		}
		return true, "test says so"
	}
	var out bytes.Buffer
	code := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		watchHost(gone, time.Millisecond, &out, func(c int) { code <- c })
		close(done)
	}()
	select {
	case c := <-code:
		if c != 1 {
			t.Errorf("exit code = %d, want 1", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watchHost did not exit")
	}
	<-done
	if !strings.Contains(out.String(), "modelhost plugin exiting: test says so") {
		t.Errorf("output = %q", out.String())
	}
}
