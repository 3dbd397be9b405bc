package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// gate is a model whose predictions wait until the test lets them go.
type gate struct {
	entered chan struct{} // one value per prediction that started
	release chan struct{} // closed to let every prediction finish
}

func newGateAPI(t *testing.T, limits Limits) (*echo.Echo, *server, *gate, *atomic.Int32) {
	t.Helper()
	g := &gate{entered: make(chan struct{}, 100), release: make(chan struct{})}
	reg := registry.New()
	for _, name := range []string{"gated", "other"} {
		m := &fakeModel{name: name, predict: func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			if name == "other" {
				return json.RawMessage(`{}`), nil
			}
			g.entered <- struct{}{}
			select {
			case <-g.release:
				return json.RawMessage(`{"done":true}`), nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}}
		e, err := registry.NewEntry(m, "/plugins/"+name, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	var asked atomic.Int32
	e, s := newAPI(reg, Options{Limits: func(e *registry.Entry) Limits {
		asked.Add(1)
		return limits
	}})
	return e, s, g, &asked
}

func TestModelBusy(t *testing.T) {
	e, s, g, asked := newGateAPI(t, Limits{MaxConcurrency: 2, MaxQueue: 1, QueueTimeout: 5 * time.Second})

	var wg sync.WaitGroup
	results := make(chan *httptest.ResponseRecorder, 3)
	for range 2 { // take both slots
		wg.Go(func() { results <- predict("gated", `{}`).do(e) })
	}
	<-g.entered
	<-g.entered
	wg.Go(func() { results <- predict("gated", `{}`).do(e) }) // waits in the queue
	waitFor(t, func() bool { return s.limiters.get(mustGet(t, s, "gated")).waiting.Load() == 1 })

	// The queue is full: refused at once.
	start := time.Now()
	rec := predict("gated", `{}`).do(e)
	checkProblem(t, rec, "/api/models/gated/predict", http.StatusTooManyRequests, problem.TypeModelBusy)
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusal took %v, want it at once", d)
	}
	// Other models are not limited by this one's load.
	if rec := predict("other", `{}`).do(e); rec.Code != http.StatusOK {
		t.Errorf("other model: status %d, want 200", rec.Code)
	}
	// Requests that fail before the model is called take no slot.
	if rec := predict("gated", `{`).do(e); rec.Code != http.StatusBadRequest {
		t.Errorf("malformed input to a busy model: status %d, want 400", rec.Code)
	}

	close(g.release)
	wg.Wait()
	close(results)
	for rec := range results {
		if rec.Code != http.StatusOK {
			t.Errorf("admitted request: status %d, want 200; body %s", rec.Code, rec.Body)
		}
	}
	// The slots are free again.
	if rec := predict("gated", `{}`).do(e); rec.Code != http.StatusOK {
		t.Errorf("after the load: status %d, want 200", rec.Code)
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("Limits asked %d times, want once per model (2)", n)
	}
}

func mustGet(t *testing.T, s *server, name string) *registry.Entry {
	t.Helper()
	e, err := s.reg.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestQueueTimeout(t *testing.T) {
	e, _, g, _ := newGateAPI(t, Limits{MaxConcurrency: 1, MaxQueue: 10, QueueTimeout: 100 * time.Millisecond})
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- predict("gated", `{}`).do(e) }()
	<-g.entered

	start := time.Now()
	rec := predict("gated", `{}`).do(e)
	d := checkProblem(t, rec, "/api/models/gated/predict", http.StatusTooManyRequests, problem.TypeModelBusy)
	if waited := time.Since(start); waited < 100*time.Millisecond || waited > 5*time.Second {
		t.Errorf("waited %v, want about the queue timeout of 100ms", waited)
	}
	if !strings.Contains(d.Detail, "100ms") {
		t.Errorf("detail %q does not name the queue timeout", d.Detail)
	}
	close(g.release)
	if rec := <-done; rec.Code != http.StatusOK {
		t.Errorf("first request: status %d, want 200", rec.Code)
	}
}

func TestNoQueue(t *testing.T) {
	e, _, g, _ := newGateAPI(t, Limits{MaxConcurrency: 1, MaxQueue: 0, QueueTimeout: time.Minute})
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- predict("gated", `{}`).do(e) }()
	<-g.entered
	checkProblem(t, predict("gated", `{}`).do(e), "/api/models/gated/predict", http.StatusTooManyRequests, problem.TypeModelBusy)
	close(g.release)
	<-done
}

func TestLimiterWaitEndsWithTheClient(t *testing.T) {
	l := newLimiter(Limits{MaxConcurrency: 1, MaxQueue: 1, QueueTimeout: time.Minute})
	if err := l.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.acquire(ctx) }()
	waitFor(t, func() bool { return l.waiting.Load() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("acquire after cancel = %v, want context.Canceled", err)
	}
	if n := l.waiting.Load(); n != 0 {
		t.Errorf("waiting = %d after the client left, want 0", n)
	}
	l.release()
	if err := l.acquire(context.Background()); err != nil {
		t.Errorf("acquire after release = %v", err)
	}
}

func TestNilLimiterAdmitsAll(t *testing.T) {
	var l *limiter
	for range 1000 {
		if err := l.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	l.release()
	if newLimiter(Limits{}) != nil {
		t.Error("newLimiter with MaxConcurrency 0 is not nil")
	}
}

// TestLimiterUnderLoad lets the race detector watch many requests share
// one limiter, and checks that it never admits more than its limit.
func TestLimiterUnderLoad(t *testing.T) {
	const limit = 4
	l := newLimiter(Limits{MaxConcurrency: limit, MaxQueue: 1000, QueueTimeout: 10 * time.Second})
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if err := l.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			defer l.release()
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
