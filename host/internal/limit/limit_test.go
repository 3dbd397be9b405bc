package limit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestQueueFull(t *testing.T) {
	l := New(Limits{MaxConcurrency: 1, MaxQueue: 0, QueueTimeout: time.Minute})
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := l.Acquire(context.Background())
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Reason != ReasonQueueFull {
		t.Fatalf("second Acquire = %v, want a BusyError with reason %s", err, ReasonQueueFull)
	}
	if busy.Detail == "" {
		t.Error("BusyError has no detail")
	}
}

func TestQueueTimeout(t *testing.T) {
	l := New(Limits{MaxConcurrency: 1, MaxQueue: 1, QueueTimeout: 20 * time.Millisecond})
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	waited, err := l.Acquire(context.Background())
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Reason != ReasonQueueTimeout {
		t.Fatalf("Acquire = %v, want a BusyError with reason %s", err, ReasonQueueTimeout)
	}
	if waited < 20*time.Millisecond {
		t.Errorf("waited %s, want at least the queue timeout", waited)
	}
}

func TestWaitEndsWithTheClient(t *testing.T) {
	l := New(Limits{MaxConcurrency: 1, MaxQueue: 1, QueueTimeout: time.Minute})
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx)
		errc <- err
	}()
	waitFor(t, func() bool { return l.Waiting() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire after cancel = %v, want context.Canceled", err)
	}
	if n := l.Waiting(); n != 0 {
		t.Errorf("waiting = %d after the client left, want 0", n)
	}
	l.Release()
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Errorf("Acquire after Release = %v", err)
	}
}

func TestQueuedRequestGetsTheFreedSlot(t *testing.T) {
	l := New(Limits{MaxConcurrency: 1, MaxQueue: 1, QueueTimeout: time.Minute})
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan time.Duration, 1)
	go func() {
		waited, err := l.Acquire(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- waited
	}()
	waitFor(t, func() bool { return l.Waiting() == 1 })
	l.Release()
	if waited := <-done; waited <= 0 {
		t.Errorf("waited %s, want a positive wait", waited)
	}
}

func TestNilLimiterAdmitsAll(t *testing.T) {
	var l *Limiter
	for range 1000 {
		if _, err := l.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	l.Release()
	if New(Limits{}) != nil {
		t.Error("New with MaxConcurrency 0 is not nil")
	}
}

// TestLimiterUnderLoad lets the race detector watch many requests share
// one limiter, and checks that it never admits more than its limit.
func TestLimiterUnderLoad(t *testing.T) {
	const limit = 4
	l := New(Limits{MaxConcurrency: limit, MaxQueue: 1000, QueueTimeout: 10 * time.Second})
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if _, err := l.Acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			defer l.Release()
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
			running.Add(-1)
		})
	}
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Errorf("peak concurrency %d, want at most %d", p, limit)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
