package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/limit"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// gate is a model whose predictions wait until the test lets them go.
type gate struct {
	entered chan struct{} // one value per prediction that started
	release chan struct{} // closed to let every prediction finish
}

func newGateAPI(t *testing.T, limits limit.Limits) (*echo.Echo, *server, *gate, *recorder) {
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
		if name == "gated" {
			e.Limiter = limit.New(limits)
		}
		if err := reg.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	obs := &recorder{}
	e, s := newAPI(reg, Options{Observer: obs})
	return e, s, g, obs
}

func TestModelBusy(t *testing.T) {
	e, s, g, obs := newGateAPI(t, limit.Limits{MaxConcurrency: 2, MaxQueue: 1, QueueTimeout: 5 * time.Second})

	var wg sync.WaitGroup
	results := make(chan *httptest.ResponseRecorder, 3)
	for range 2 { // take both slots
		wg.Go(func() { results <- predict("gated", `{}`).do(e) })
	}
	<-g.entered
	<-g.entered
	wg.Go(func() { results <- predict("gated", `{}`).do(e) }) // waits in the queue
	waitFor(t, func() bool { return mustGet(t, s, "gated").Limiter.Waiting() == 1 })

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
	if got := obs.count("rejected gated 0.1.0 queue_full"); got != 1 {
		t.Errorf("queue_full rejections observed: %d, want 1", got)
	}
	if got := obs.count("wait gated 0.1.0"); got != 1 {
		t.Errorf("queue waits observed: %d, want 1", got)
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
	e, _, g, _ := newGateAPI(t, limit.Limits{MaxConcurrency: 1, MaxQueue: 10, QueueTimeout: 100 * time.Millisecond})
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
	e, _, g, _ := newGateAPI(t, limit.Limits{MaxConcurrency: 1, MaxQueue: 0, QueueTimeout: time.Minute})
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- predict("gated", `{}`).do(e) }()
	<-g.entered
	checkProblem(t, predict("gated", `{}`).do(e), "/api/models/gated/predict", http.StatusTooManyRequests, problem.TypeModelBusy)
	close(g.release)
	<-done
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

// recorder is an Observer that remembers what it was told, as lines.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *recorder) count(line string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.lines {
		if l == line {
			n++
		}
	}
	return n
}

func (r *recorder) RequestStarted(route string) func() {
	r.add("start %s", route)
	return func() { r.add("end %s", route) }
}
func (r *recorder) ObserveRequest(route, method, model, version string, code int, _ time.Duration) {
	r.add("done %s %s %s %s %d", route, method, model, version, code)
}
func (r *recorder) ObservePluginCall(model, version, method string, _ time.Duration, err error) {
	r.add("call %s %s %s %v", model, version, method, err != nil)
}
func (r *recorder) ObserveQueueWait(model, version string, _ time.Duration) {
	r.add("wait %s %s", model, version)
}
func (r *recorder) QueueRejected(model, version, reason string) {
	r.add("rejected %s %s %s", model, version, reason)
}
