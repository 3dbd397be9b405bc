// Package supervisor keeps a model's plugin running: it notices when the
// plugin process exits, relaunches it with capped, jittered exponential
// backoff, gives up when it crashes too often, and stops it without
// aborting the predictions in flight.
//
// A [Supervisor] is itself an sdk.MLModel: the registry serves it in place
// of the plugin's model, and it forwards each prediction to the process
// that runs now. While there is none (the plugin is restarting, failed or
// stopping), Predict fails at once with an [*UnavailableError], which
// matches plugin.ErrUnavailable and carries a Retry-After hint, so that no
// request waits for a process that is not there. A prediction in flight
// when the process dies fails with the same error.
//
// The supervisor launches processes through a [LaunchFunc] and watches
// them through the [Instance] interface, so that its policy can be tested
// without processes; launcher.Plugin is the real Instance. It learns of an
// exit from Instance.Done: launcher.Plugin closes that channel when
// go-plugin reports the process exited (Client.Exited, polled every 100ms).
// A go-plugin Client cannot be started twice, so every relaunch is a new
// Client and a new exec.Cmd, made by the LaunchFunc.
package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/modelhost/modelhost/host/internal/launcher"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// Instance is one running process of a plugin.
type Instance interface {
	// Model is the process's model.
	Model() sdk.MLModel
	// Done is closed once the process has exited, for whatever reason.
	Done() <-chan struct{}
	// ExitReason says how the process ended, such as "exit status 1";
	// "" while it runs or when unknown.
	ExitReason() string
	// PID is the process ID, 0 if unknown.
	PID() int
	// Stop ends the process and releases what it holds; it returns once
	// the process is gone. It may be called more than once.
	Stop()
}

// LaunchFunc starts a new process of the plugin and returns it once it
// serves its model. It should give up when ctx is canceled.
type LaunchFunc func(ctx context.Context) (Instance, error)

// Options configures a Supervisor.
type Options struct {
	// Name identifies the plugin in logs (the model block's label or the
	// binary's file name).
	Name string
	// Policy is the restart policy.
	Policy Policy
	// Logger receives the plugin's crashes, relaunches and failure.
	Logger hclog.Logger
	// Rand returns numbers in [0, 1) for the backoff's jitter; nil means
	// math/rand/v2.
	Rand func() float64
	// OnChange, if not nil, is called after each change of the model's
	// health, with the new health. It must not block.
	OnChange func(registry.Health)
}

// Supervisor keeps one model's plugin running. It implements sdk.MLModel
// and registry.Monitor. Create it with New; stop it with Stop.
type Supervisor struct {
	opts   Options
	launch LaunchFunc
	logger hclog.Logger
	info   sdk.Info
	in     json.RawMessage
	out    json.RawMessage

	// cur is the slot of the process that answers predictions; nil while
	// there is none. Predict reads it without a lock.
	cur atomic.Pointer[slot]

	mu       sync.Mutex
	status   registry.Status
	since    time.Time
	lastErr  string
	restarts int
	crashes  []time.Time // within the restart window
	retryAt  time.Time   // when the next launch begins, while restarting
	stopped  bool

	stop     chan struct{} // closed by Stop
	cancel   context.CancelFunc
	ctx      context.Context
	loopDone chan struct{}
}

var (
	_ sdk.MLModel      = (*Supervisor)(nil)
	_ registry.Monitor = (*Supervisor)(nil)
)

// New supervises first, a process launched and found serving, and
// relaunches the plugin with launch when it exits. The model's metadata and
// schemas are first's, for good: a relaunched process that serves other
// ones is stopped, and the model failed.
func New(first Instance, launch LaunchFunc, opts Options) *Supervisor {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	opts.Policy = opts.Policy.withDefaults()
	m := first.Model()
	s := &Supervisor{
		opts:     opts,
		launch:   launch,
		info:     m.Info(),
		in:       m.InputSchema(),
		out:      m.OutputSchema(),
		status:   registry.StatusReady,
		since:    time.Now(),
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	s.logger = opts.Logger.With("model", s.info.QualifiedName)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.cur.Store(newSlot(first))
	go s.run(first)
	return s
}

// Info implements sdk.MLModel.
func (s *Supervisor) Info() sdk.Info { return s.info }

// InputSchema implements sdk.MLModel.
func (s *Supervisor) InputSchema() json.RawMessage { return s.in }

// OutputSchema implements sdk.MLModel.
func (s *Supervisor) OutputSchema() json.RawMessage { return s.out }

// Predict implements sdk.MLModel: it calls the running process, or fails at
// once with an *UnavailableError when there is none.
func (s *Supervisor) Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	sl := s.cur.Load()
	if sl == nil || !sl.enter() {
		return nil, s.unavailable(nil)
	}
	defer sl.leave()
	out, err := sl.inst.Model().Predict(ctx, input)
	if err != nil && errors.Is(err, plugin.ErrUnavailable) && ctx.Err() == nil {
		// The process died under the call, or its connection broke.
		return nil, s.unavailable(err)
	}
	return out, err
}

// PredictBatch implements registry.BatchModel: it calls the running
// process once for all inputs (or once per input, if its model cannot take
// a batch), or fails at once with an *UnavailableError when there is none.
func (s *Supervisor) PredictBatch(ctx context.Context, inputs []json.RawMessage) ([]json.RawMessage, []error, error) {
	sl := s.cur.Load()
	if sl == nil || !sl.enter() {
		return nil, nil, s.unavailable(nil)
	}
	defer sl.leave()
	outs, errs, err := registry.PredictBatch(ctx, sl.inst.Model(), inputs)
	if err != nil && errors.Is(err, plugin.ErrUnavailable) && ctx.Err() == nil {
		return nil, nil, s.unavailable(err)
	}
	return outs, errs, err
}

// Health implements registry.Monitor.
func (s *Supervisor) Health() registry.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.healthLocked()
}

func (s *Supervisor) healthLocked() registry.Health {
	h := registry.Health{Status: s.status, LastError: s.lastErr, Restarts: s.restarts, Since: s.since}
	if sl := s.cur.Load(); sl != nil && s.status == registry.StatusReady {
		h.PID = sl.inst.PID()
	}
	return h
}

// Stop stops supervising: new predictions fail at once, those in flight
// may finish within the policy's drain timeout, then the process is
// stopped. A launch in progress is abandoned. Stop returns once the
// process is gone; later calls return at once.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		<-s.loopDone
		return
	}
	s.stopped = true
	sl := s.cur.Load()
	if sl != nil {
		sl.draining.Store(true) // new predictions are refused from now on
	}
	s.setStatusLocked(registry.StatusStopping)
	h := s.healthLocked()
	s.mu.Unlock()
	s.notify(h)

	close(s.stop)
	s.cancel()
	if sl != nil {
		begin := time.Now()
		if n, ok := sl.drain(s.opts.Policy.DrainTimeout); !ok {
			s.logger.Warn("predictions still in flight after the drain timeout; stopping the plugin anyway",
				"plugin", s.opts.Name, "in_flight", n, "drain_timeout", s.opts.Policy.DrainTimeout)
		} else if d := time.Since(begin); d > 10*time.Millisecond {
			s.logger.Debug("in-flight predictions finished", "plugin", s.opts.Name, "waited", d.Round(time.Millisecond))
		}
	}
	<-s.loopDone
	if sl != nil {
		s.cur.CompareAndSwap(sl, nil)
		sl.inst.Stop()
	}
}

// run watches inst and its successors until Stop or failure.
func (s *Supervisor) run(inst Instance) {
	defer close(s.loopDone)
	for {
		select {
		case <-inst.Done():
		case <-s.stop:
			return // Stop stops inst.
		}
		reason := "plugin process exited unexpectedly"
		if r := inst.ExitReason(); r != "" {
			reason += " (" + r + ")"
		}
		s.logger.Warn("plugin process exited unexpectedly", "plugin", s.opts.Name, "pid", inst.PID(), "exit", inst.ExitReason())
		delay, failed := s.recordFailure(reason, false, inst)
		inst.Stop() // reap it, kill its process group, remove its socket
		if failed {
			return
		}
		if inst = s.relaunch(delay); inst == nil {
			return
		}
	}
}

// relaunch launches the plugin again after delay, and again after each
// failed launch and its backoff, until a launch succeeds, the policy gives
// up or Stop is called. It returns the new current process, or nil.
func (s *Supervisor) relaunch(delay time.Duration) Instance {
	for {
		select {
		case <-time.After(delay):
		case <-s.stop:
			return nil
		}
		if !s.beginLaunch() {
			return nil
		}
		begin := time.Now()
		inst, err := s.launch(s.ctx)
		if err == nil {
			if err = s.sameModel(inst.Model()); err != nil {
				inst.Stop()
			}
		}
		if err != nil {
			s.logger.Warn("plugin relaunch failed", "plugin", s.opts.Name, "error", err)
			var failed bool
			delay, failed = s.recordFailure("relaunch failed: "+launcher.Reason(err), launcher.Permanent(err), nil)
			if failed {
				return nil
			}
			continue
		}
		if !s.publish(inst) {
			inst.Stop()
			return nil
		}
		s.logger.Info("model restarted", "plugin", s.opts.Name, "pid", inst.PID(),
			"restarts", s.Health().Restarts, "startup", time.Since(begin).Round(time.Millisecond))
		return inst
	}
}

// recordFailure counts a crash or failed launch in the restart window and
// decides: the delay before the next launch, or failed (also once Stop has
// begun). dead, if not nil, is the process that exited; it stops being
// current.
func (s *Supervisor) recordFailure(reason string, permanent bool, dead Instance) (time.Duration, bool) {
	now := time.Now()
	p := s.opts.Policy
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return 0, true // Stop stops the current process
	}
	if sl := s.cur.Load(); sl != nil && sl.inst == dead {
		s.cur.Store(nil)
	}
	s.crashes = pruneBefore(append(s.crashes, now), now.Add(-p.RestartWindow))
	n := len(s.crashes)
	var delay time.Duration
	failed := permanent || n > p.RestartMax
	if failed {
		switch {
		case permanent:
			s.lastErr = reason + "; not relaunched until the host restarts"
		case p.RestartMax == 0:
			s.lastErr = reason + "; not relaunched (plugins.restart_max is 0)"
		default:
			s.lastErr = fmt.Sprintf("%s; %d failures within %s (plugins.restart_max = %d): not relaunched until the host restarts",
				reason, n, p.RestartWindow, p.RestartMax)
		}
		s.setStatusLocked(registry.StatusFailed)
	} else {
		s.lastErr = reason
		delay = p.Backoff(n, s.opts.Rand())
		s.retryAt = now.Add(delay)
		s.setStatusLocked(registry.StatusRestarting)
	}
	h := s.healthLocked()
	s.mu.Unlock()
	if failed {
		s.logger.Error("model failed; its plugin is not relaunched until the host restarts", "plugin", s.opts.Name,
			"reason", h.LastError, "restarts", h.Restarts)
	} else {
		s.logger.Info("relaunching the plugin after a delay", "plugin", s.opts.Name, "delay", delay.Round(time.Millisecond),
			"failures_in_window", n, "restarts", h.Restarts)
	}
	s.notify(h)
	return delay, failed
}

// beginLaunch marks the model starting. It reports false if Stop has
// begun.
func (s *Supervisor) beginLaunch() bool {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return false
	}
	s.restarts++
	s.setStatusLocked(registry.StatusStarting)
	h := s.healthLocked()
	s.mu.Unlock()
	s.notify(h)
	return true
}

// publish makes inst the current process. It reports false if Stop has
// begun, in which case the caller stops inst.
func (s *Supervisor) publish(inst Instance) bool {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return false
	}
	s.cur.Store(newSlot(inst))
	s.setStatusLocked(registry.StatusReady)
	h := s.healthLocked()
	s.mu.Unlock()
	s.notify(h)
	return true
}

func (s *Supervisor) setStatusLocked(st registry.Status) {
	if s.status != st {
		s.status = st
		s.since = time.Now()
	}
}

func (s *Supervisor) notify(h registry.Health) {
	if s.opts.OnChange != nil {
		s.opts.OnChange(h)
	}
}

// sameModel checks that a relaunched process serves the model that was
// registered: the registry and the API hold its metadata and compiled
// schemas.
func (s *Supervisor) sameModel(m sdk.MLModel) error {
	info := m.Info()
	var what string
	switch {
	case info != s.info:
		what = fmt.Sprintf("metadata (was %s %s, now %s %s)", s.info.QualifiedName, s.info.Version, info.QualifiedName, info.Version)
	case !bytes.Equal(m.InputSchema(), s.in):
		what = "input schema"
	case !bytes.Equal(m.OutputSchema(), s.out):
		what = "output schema"
	default:
		return nil
	}
	return &changedError{what: what}
}

// changedError is a relaunched plugin that serves another model than the
// one registered: its binary was replaced. Relaunching again does not help.
type changedError struct{ what string }

func (e *changedError) Error() string {
	return "the relaunched plugin changed its " + e.what + "; restart the host to serve the new version"
}

func (e *changedError) Permanent() bool { return true }

// unavailable returns the error of a prediction made while no process
// answers; callErr is the call's error when the process died under it.
func (s *Supervisor) unavailable(callErr error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &UnavailableError{Model: s.info.QualifiedName, Status: s.status, LastError: s.lastErr, Err: callErr}
	switch s.status {
	case registry.StatusRestarting:
		e.Retry = time.Until(s.retryAt) + time.Second // the launch itself takes time
	case registry.StatusFailed:
		e.Retry = s.opts.Policy.RestartWindow
	}
	e.Retry = max(e.Retry, time.Second)
	return e
}

// UnavailableError is a prediction that found no running process of the
// model's plugin, or whose process exited under it. It matches
// plugin.ErrUnavailable: the host answers 503, with a Retry-After of
// RetryAfter.
type UnavailableError struct {
	// Model is the model's qualified name.
	Model string
	// Status is the model's state at the time.
	Status registry.Status
	// LastError is why the plugin last exited or failed to start.
	LastError string
	// Retry is when to try again.
	Retry time.Duration
	// Err is the call's error when the process exited during the call.
	Err error
}

func (e *UnavailableError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("the plugin of model %s exited or broke its connection during the call: %v", e.Model, e.Err)
	}
	msg := fmt.Sprintf("model %s is %s", e.Model, e.Status)
	if e.LastError != "" {
		msg += ": " + e.LastError
	}
	return msg
}

// Unwrap returns plugin.ErrUnavailable.
func (e *UnavailableError) Unwrap() error { return plugin.ErrUnavailable }

// RetryAfter is how long the client should wait before trying again.
func (e *UnavailableError) RetryAfter() time.Duration { return e.Retry }

// PublicDetail is what a client may be told: the state, never the error.
func (e *UnavailableError) PublicDetail() string {
	switch {
	case e.Err != nil:
		return "the model's plugin process stopped or lost its connection while answering this request; try again shortly"
	case e.Status == registry.StatusFailed:
		return "the model's plugin kept failing and is stopped until the server restarts; the model's metadata says why"
	case e.Status == registry.StatusStopping:
		return "the server is shutting down"
	default:
		return "the model's plugin is restarting; try again shortly"
	}
}

func pruneBefore(times []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(times) && times[i].Before(cutoff) {
		i++
	}
	return append(times[:0], times[i:]...)
}
