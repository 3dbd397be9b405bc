package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

func TestBackoff(t *testing.T) {
	p := Policy{BackoffInitial: 200 * time.Millisecond, BackoffMax: 10 * time.Second}
	for _, tt := range []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 0.5, 200 * time.Millisecond},
		{2, 0.5, 400 * time.Millisecond},
		{3, 0.5, 800 * time.Millisecond},
		{6, 0.5, 6400 * time.Millisecond},
		{7, 0.5, 10 * time.Second}, // 12.8s capped
		{50, 0.5, 10 * time.Second},
		{1, 0, 160 * time.Millisecond}, // -20%
		{1, 0.75, 220 * time.Millisecond},
		{3, 0, 640 * time.Millisecond},
		{7, 0, 8 * time.Second},     // the cap, less 20%
		{7, 0.99, 10 * time.Second}, // jitter never exceeds the cap
	} {
		if got := p.Backoff(tt.n, tt.r); got != tt.want {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tt.n, tt.r, got, tt.want)
		}
	}
	// Jitter spreads the delays of plugins that crash together.
	seen := map[time.Duration]bool{}
	for i := range 100 {
		d := p.Backoff(2, float64(i)/100)
		if d < 320*time.Millisecond || d > 480*time.Millisecond {
			t.Fatalf("Backoff(2, %v) = %v, want within 400ms ±20%%", float64(i)/100, d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("100 jittered delays take %d distinct values", len(seen))
	}
}

func TestPruneBefore(t *testing.T) {
	base := time.Unix(1000, 0)
	times := []time.Time{base, base.Add(time.Second), base.Add(2 * time.Second)}
	got := pruneBefore(times, base.Add(1500*time.Millisecond))
	if len(got) != 1 || !got[0].Equal(base.Add(2*time.Second)) {
		t.Errorf("pruneBefore = %v", got)
	}
}

// fakeModel answers through fakeInstance.
type fakeModel struct {
	info    sdk.Info
	in, out json.RawMessage
	inst    *fakeInstance
}

func (m *fakeModel) Info() sdk.Info                { return m.info }
func (m *fakeModel) InputSchema() json.RawMessage  { return m.in }
func (m *fakeModel) OutputSchema() json.RawMessage { return m.out }

// Predict answers {"pid":N}; {"block":true} waits until release is closed
// or the process "dies".
func (m *fakeModel) Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	select {
	case <-m.inst.done:
		return nil, fmt.Errorf("%w: connection refused", plugin.ErrUnavailable)
	default:
	}
	if string(input) == `{"block":true}` {
		select {
		case <-m.inst.release:
		case <-m.inst.done:
			return nil, fmt.Errorf("%w: error reading from server: EOF", plugin.ErrUnavailable)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return json.RawMessage(fmt.Sprintf(`{"pid":%d}`, m.inst.pid)), nil
}

type fakeInstance struct {
	model   *fakeModel
	pid     int
	done    chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	reason  string
	stopped atomic.Bool
}

var nextPID atomic.Int64

func newFake(info sdk.Info) *fakeInstance {
	f := &fakeInstance{pid: int(nextPID.Add(1)) + 1000, done: make(chan struct{}), release: make(chan struct{})}
	f.model = &fakeModel{info: info, in: json.RawMessage(`{"type":"object"}`), out: json.RawMessage(`{"type":"object"}`), inst: f}
	return f
}

func (f *fakeInstance) Model() sdk.MLModel    { return f.model }
func (f *fakeInstance) Done() <-chan struct{} { return f.done }
func (f *fakeInstance) PID() int              { return f.pid }
func (f *fakeInstance) ExitReason() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reason
}
func (f *fakeInstance) Stop() {
	f.stopped.Store(true)
	f.exit("signal: killed")
}

// crash makes the process exit on its own.
func (f *fakeInstance) crash() { f.exit("exit status 1") }

func (f *fakeInstance) exit(reason string) {
	f.once.Do(func() {
		f.mu.Lock()
		f.reason = reason
		f.mu.Unlock()
		close(f.done)
	})
}

var testInfo = sdk.Info{QualifiedName: "m", DisplayName: "M", Version: "1.0.0"}

// harness is a supervisor with a fake launch function and a record of its
// health changes.
type harness struct {
	t        *testing.T
	sup      *Supervisor
	first    *fakeInstance
	mu       sync.Mutex
	launched []*fakeInstance
	statuses []registry.Status
	changed  chan registry.Health
	// launch decides what each launch returns; nil launches a healthy
	// fake.
	launch func(n int) (Instance, error)
}

func newHarness(t *testing.T, p Policy, launch func(n int) (Instance, error)) *harness {
	t.Helper()
	h := &harness{t: t, first: newFake(testInfo), launch: launch, changed: make(chan registry.Health, 100)}
	var n atomic.Int64
	h.sup = New(h.first, func(ctx context.Context) (Instance, error) {
		i := int(n.Add(1))
		if h.launch != nil {
			inst, err := h.launch(i)
			if f, ok := inst.(*fakeInstance); ok {
				h.mu.Lock()
				h.launched = append(h.launched, f)
				h.mu.Unlock()
			}
			return inst, err
		}
		f := newFake(testInfo)
		h.mu.Lock()
		h.launched = append(h.launched, f)
		h.mu.Unlock()
		return f, nil
	}, Options{
		Name:   "m-plugin",
		Policy: p,
		Rand:   func() float64 { return 0.5 }, // no jitter
		OnChange: func(hl registry.Health) {
			h.mu.Lock()
			h.statuses = append(h.statuses, hl.Status)
			h.mu.Unlock()
			h.changed <- hl
		},
	})
	t.Cleanup(h.sup.Stop)
	return h
}

// waitFor waits for a health change to status.
func (h *harness) waitFor(status registry.Status) registry.Health {
	h.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case hl := <-h.changed:
			if hl.Status == status {
				return hl
			}
		case <-timeout:
			h.t.Fatalf("no change to %s within 5s; statuses so far %v; health %+v", status, h.seen(), h.sup.Health())
		}
	}
}

func (h *harness) seen() []registry.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]registry.Status(nil), h.statuses...)
}

func (h *harness) last() *fakeInstance {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.launched[len(h.launched)-1]
}

func fastPolicy() Policy {
	return Policy{RestartMax: 3, RestartWindow: time.Minute, BackoffInitial: 10 * time.Millisecond,
		BackoffMax: 40 * time.Millisecond, DrainTimeout: time.Second}
}

func predict(s *Supervisor, input string) (string, error) {
	out, err := s.Predict(context.Background(), json.RawMessage(input))
	return string(out), err
}

func TestCrashIsRelaunched(t *testing.T) {
	h := newHarness(t, fastPolicy(), nil)
	if hl := h.sup.Health(); hl.Status != registry.StatusReady || hl.PID != h.first.pid || hl.Restarts != 0 || hl.LastError != "" {
		t.Fatalf("initial health = %+v", hl)
	}
	if out, err := predict(h.sup, `{}`); err != nil || out != fmt.Sprintf(`{"pid":%d}`, h.first.pid) {
		t.Fatalf("Predict = %s, %v", out, err)
	}

	h.first.crash()
	hl := h.waitFor(registry.StatusReady)
	if diff := cmp.Diff([]registry.Status{registry.StatusRestarting, registry.StatusStarting, registry.StatusReady}, h.seen()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	second := h.last()
	if hl.PID != second.pid || hl.Restarts != 1 || !strings.Contains(hl.LastError, "exited unexpectedly (exit status 1)") {
		t.Errorf("health after the relaunch = %+v, want pid %d, 1 restart and the exit in last error", hl, second.pid)
	}
	if !h.first.stopped.Load() {
		t.Error("the crashed instance was not stopped (reaped, process group killed)")
	}
	if out, err := predict(h.sup, `{}`); err != nil || out != fmt.Sprintf(`{"pid":%d}`, second.pid) {
		t.Errorf("Predict after the relaunch = %s, %v; want the new process's answer", out, err)
	}
}

func TestUnavailableAtOnceWhileRestarting(t *testing.T) {
	p := fastPolicy()
	p.BackoffInitial, p.BackoffMax = 2*time.Second, 2*time.Second
	h := newHarness(t, p, nil)
	h.first.crash()
	h.waitFor(registry.StatusRestarting)

	begin := time.Now()
	_, err := predict(h.sup, `{}`)
	if d := time.Since(begin); d > 100*time.Millisecond {
		t.Errorf("Predict while restarting took %v, want an immediate answer", d)
	}
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, plugin.ErrUnavailable) {
		t.Fatalf("Predict while restarting: error %v, want an *UnavailableError matching plugin.ErrUnavailable", err)
	}
	if ue.Status != registry.StatusRestarting || ue.RetryAfter() < 2*time.Second || ue.RetryAfter() > 3*time.Second {
		t.Errorf("error = %+v, RetryAfter %v; want restarting, about the 2s backoff plus 1s", ue, ue.RetryAfter())
	}
	if d := ue.PublicDetail(); strings.Contains(d, "exit status") {
		t.Errorf("public detail %q shows the error", d)
	}
}

func TestCrashLoopFails(t *testing.T) {
	// Every relaunched process crashes at once.
	h := newHarness(t, fastPolicy(), func(int) (Instance, error) {
		f := newFake(testInfo)
		f.crash()
		return f, nil
	})
	h.first.crash()
	hl := h.waitFor(registry.StatusFailed)
	// Failures 1, 2 and 3 are followed by a relaunch; the 4th fails it.
	if hl.Restarts != 3 || hl.PID != 0 {
		t.Errorf("health = %+v, want 3 restarts and no PID", hl)
	}
	for _, want := range []string{"exited unexpectedly (exit status 1)", "4 failures within 1m0s", "restart_max = 3", "not relaunched"} {
		if !strings.Contains(hl.LastError, want) {
			t.Errorf("last error %q does not say %q", hl.LastError, want)
		}
	}
	_, err := predict(h.sup, `{}`)
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Status != registry.StatusFailed || ue.RetryAfter() != time.Minute {
		t.Errorf("Predict when failed: %v; want unavailable, failed, retry after the window", err)
	}
	time.Sleep(100 * time.Millisecond)
	h.mu.Lock()
	n := len(h.launched)
	h.mu.Unlock()
	if n != 3 {
		t.Errorf("%d launches, want 3 and none after failing", n)
	}
}

func TestRestartMaxZeroNeverRelaunches(t *testing.T) {
	p := fastPolicy()
	p.RestartMax = 0
	h := newHarness(t, p, nil)
	h.first.crash()
	hl := h.waitFor(registry.StatusFailed)
	if hl.Restarts != 0 || !strings.Contains(hl.LastError, "restart_max is 0") {
		t.Errorf("health = %+v", hl)
	}
}

func TestWindowForgetsOldFailures(t *testing.T) {
	p := fastPolicy()
	p.RestartMax, p.RestartWindow = 1, 150*time.Millisecond
	h := newHarness(t, p, nil)
	inst := h.first
	for range 3 {
		inst.crash()
		h.waitFor(registry.StatusReady)
		inst = h.last()
		time.Sleep(200 * time.Millisecond) // the failure leaves the window
	}
	if hl := h.sup.Health(); hl.Status != registry.StatusReady || hl.Restarts != 3 {
		t.Errorf("health = %+v, want ready after 3 spaced crashes with restart_max 1", hl)
	}
}

func TestFailedLaunchesCountAndRecover(t *testing.T) {
	h := newHarness(t, fastPolicy(), func(n int) (Instance, error) {
		if n < 3 {
			return nil, errors.New("plugin exited during start-up")
		}
		return newFake(testInfo), nil
	})
	h.first.crash()
	hl := h.waitFor(registry.StatusReady)
	if hl.Restarts != 3 || !strings.Contains(hl.LastError, "relaunch failed: plugin exited during start-up") {
		t.Errorf("health = %+v, want 3 restarts and the launch error", hl)
	}
}

type permanentError struct{}

func (permanentError) Error() string   { return "its SHA-256 digest is abc, but the config pins def" }
func (permanentError) Permanent() bool { return true }

func TestPermanentLaunchErrorFailsAtOnce(t *testing.T) {
	h := newHarness(t, fastPolicy(), func(int) (Instance, error) { return nil, permanentError{} })
	h.first.crash()
	hl := h.waitFor(registry.StatusFailed)
	if hl.Restarts != 1 || !strings.Contains(hl.LastError, "digest is abc") || !strings.Contains(hl.LastError, "until the host restarts") {
		t.Errorf("health = %+v", hl)
	}
}

func TestChangedModelFails(t *testing.T) {
	h := newHarness(t, fastPolicy(), func(int) (Instance, error) {
		return newFake(sdk.Info{QualifiedName: "m", DisplayName: "M", Version: "2.0.0"}), nil
	})
	h.first.crash()
	hl := h.waitFor(registry.StatusFailed)
	if !strings.Contains(hl.LastError, "changed its metadata (was m 1.0.0, now m 2.0.0)") {
		t.Errorf("last error = %q", hl.LastError)
	}
	if !h.last().stopped.Load() {
		t.Error("the process serving another model was left running")
	}
}

func TestInFlightCallWhenProcessDies(t *testing.T) {
	h := newHarness(t, fastPolicy(), nil)
	errc := make(chan error, 1)
	go func() {
		_, err := predict(h.sup, `{"block":true}`)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	h.first.crash()
	err := <-errc
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Err == nil || !strings.Contains(ue.PublicDetail(), "while answering this request") {
		t.Errorf("in-flight Predict error = %v, want an *UnavailableError with the call's error", err)
	}
	h.waitFor(registry.StatusReady)
}

func TestStopDrainsInFlightPredictions(t *testing.T) {
	h := newHarness(t, fastPolicy(), nil)
	type result struct {
		out string
		err error
	}
	resc := make(chan result, 1)
	go func() {
		out, err := predict(h.sup, `{"block":true}`)
		resc <- result{out, err}
	}()
	time.Sleep(20 * time.Millisecond)

	stopped := make(chan struct{})
	go func() {
		h.sup.Stop()
		close(stopped)
	}()
	h.waitFor(registry.StatusStopping)
	// New predictions are refused at once while draining.
	if _, err := predict(h.sup, `{}`); !errors.Is(err, plugin.ErrUnavailable) {
		t.Errorf("Predict while draining: %v, want unavailable", err)
	}
	select {
	case <-stopped:
		t.Fatal("Stop returned while a prediction was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	if h.first.stopped.Load() {
		t.Fatal("the process was stopped while a prediction was in flight")
	}
	close(h.first.release)
	r := <-resc
	if r.err != nil {
		t.Errorf("in-flight prediction: %v, want it to finish", r.err)
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return after the prediction finished")
	}
	if !h.first.stopped.Load() {
		t.Error("Stop returned without stopping the process")
	}
}

func TestStopDrainTimeout(t *testing.T) {
	p := fastPolicy()
	p.DrainTimeout = 100 * time.Millisecond
	h := newHarness(t, p, nil)
	go func() { _, _ = predict(h.sup, `{"block":true}`) }()
	time.Sleep(20 * time.Millisecond)
	begin := time.Now()
	h.sup.Stop()
	if d := time.Since(begin); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("Stop took %v, want about the 100ms drain timeout", d)
	}
	if !h.first.stopped.Load() {
		t.Error("the process is still running")
	}
}

func TestStopDuringBackoff(t *testing.T) {
	p := fastPolicy()
	p.BackoffInitial, p.BackoffMax = time.Hour, time.Hour
	h := newHarness(t, p, nil)
	h.first.crash()
	h.waitFor(registry.StatusRestarting)
	begin := time.Now()
	h.sup.Stop()
	h.sup.Stop() // twice is fine
	if d := time.Since(begin); d > time.Second {
		t.Errorf("Stop during the backoff took %v", d)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.launched) != 0 {
		t.Errorf("%d launches after Stop", len(h.launched))
	}
}

func TestStopDuringLaunch(t *testing.T) {
	launching := make(chan struct{})
	var late *fakeInstance
	h := newHarness(t, fastPolicy(), func(int) (Instance, error) {
		close(launching)
		time.Sleep(100 * time.Millisecond) // Stop arrives meanwhile
		late = newFake(testInfo)
		return late, nil
	})
	h.first.crash()
	<-launching
	h.sup.Stop()
	if late == nil || !late.stopped.Load() {
		t.Error("a process launched while stopping was left running")
	}
	if st := h.sup.Health().Status; st != registry.StatusStopping {
		t.Errorf("status after Stop = %s", st)
	}
}

func TestConcurrentPredictionsAndCrashes(t *testing.T) {
	// Run with -race: predictions, crashes, relaunches and health reads at
	// once.
	h := newHarness(t, Policy{RestartMax: 100, RestartWindow: time.Minute, BackoffInitial: time.Millisecond,
		BackoffMax: 2 * time.Millisecond, DrainTimeout: time.Second}, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, unavailable atomic.Int64
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := predict(h.sup, `{}`)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, plugin.ErrUnavailable):
					unavailable.Add(1)
				default:
					t.Errorf("Predict: %v", err)
				}
				_ = h.sup.Health()
			}
		})
	}
	go func() {
		for {
			select {
			case <-h.changed:
			case <-stop:
				return
			}
		}
	}()
	inst := h.first
	for range 10 {
		inst.crash()
		deadline := time.Now().Add(5 * time.Second)
		for {
			hl := h.sup.Health()
			if hl.Status == registry.StatusReady && hl.PID != inst.pid {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not ready again: %+v", hl)
			}
			time.Sleep(time.Millisecond)
		}
		inst = h.last()
	}
	close(stop)
	wg.Wait()
	if ok.Load() == 0 {
		t.Error("no prediction succeeded")
	}
	t.Logf("%d predictions answered, %d unavailable", ok.Load(), unavailable.Load())
}
