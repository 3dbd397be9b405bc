// Package limit bounds the predict calls that run at once on one model:
// a fixed number of slots, a bounded queue of requests waiting for one, and
// a bound on each wait. Every served model version has its own Limiter,
// made when it is registered.
package limit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Limits bounds one model's predict calls: at most MaxConcurrency at once,
// at most MaxQueue more waiting for a turn, each for at most QueueTimeout.
// Requests beyond are answered 429 model-busy with Retry-After. It has the
// fields of config.Limits, so that one converts to the other.
type Limits struct {
	// MaxConcurrency is how many predict calls to the model run at once.
	// Zero or less means no limit (and no queue).
	MaxConcurrency int
	// MaxQueue is how many requests may wait for a free slot; zero or
	// less means none may wait.
	MaxQueue int
	// QueueTimeout is how long a request may wait for a slot. Zero or less
	// means it does not wait.
	QueueTimeout time.Duration
}

// The reasons a request is refused a slot, as BusyError.Reason says.
const (
	ReasonQueueFull    = "queue_full"
	ReasonQueueTimeout = "queue_timeout"
)

// BusyError is a request refused a slot; the problem package answers it
// with 429 model-busy.
type BusyError struct {
	// Reason is ReasonQueueFull or ReasonQueueTimeout.
	Reason string
	// Detail explains the refusal to the client.
	Detail string
}

func (e *BusyError) Error() string { return "model busy (" + e.Reason + "): " + e.Detail }

// Limiter enforces Limits for one model: a buffered channel holds a token
// per running call, and an atomic counter counts the waiting requests. The
// path of a request that finds a free slot takes no lock and allocates
// nothing. A nil *Limiter admits everything.
type Limiter struct {
	slots    chan struct{}
	waiting  atomic.Int64
	maxQueue int64
	timeout  time.Duration
}

// New returns a limiter that enforces l, or nil (no limit) if
// l.MaxConcurrency is not positive.
func New(l Limits) *Limiter {
	if l.MaxConcurrency <= 0 {
		return nil
	}
	return &Limiter{
		slots:    make(chan struct{}, l.MaxConcurrency),
		maxQueue: int64(max(l.MaxQueue, 0)),
		timeout:  l.QueueTimeout,
	}
}

// Acquire takes a slot, waiting in the queue if there is room in it, and
// returns how long it waited (0 when a slot was free). The caller must
// call Release once the call is over. Its errors are *BusyError, or ctx's
// error if ctx ends while the request waits.
func (l *Limiter) Acquire(ctx context.Context) (time.Duration, error) {
	if l == nil {
		return 0, nil
	}
	select {
	case l.slots <- struct{}{}:
		return 0, nil
	default:
	}
	if l.waiting.Add(1) > l.maxQueue || l.timeout <= 0 {
		l.waiting.Add(-1)
		return 0, &BusyError{Reason: ReasonQueueFull, Detail: fmt.Sprintf(
			"the model is answering %d requests, as many as it may at once, and %d more are waiting; try again shortly",
			cap(l.slots), l.maxQueue)}
	}
	defer l.waiting.Add(-1)
	begin := time.Now()
	timer := time.NewTimer(l.timeout)
	defer timer.Stop()
	select {
	case l.slots <- struct{}{}:
		return time.Since(begin), nil
	case <-timer.C:
		return time.Since(begin), &BusyError{Reason: ReasonQueueTimeout, Detail: fmt.Sprintf(
			"the model stayed busy for the %s that a request may wait for its turn; try again shortly", l.timeout)}
	case <-ctx.Done():
		return time.Since(begin), fmt.Errorf("waiting for a free slot: %w", context.Cause(ctx))
	}
}

// Release gives back the slot that Acquire took.
func (l *Limiter) Release() {
	if l != nil {
		<-l.slots
	}
}

// Waiting returns how many requests wait for a slot now.
func (l *Limiter) Waiting() int {
	if l == nil {
		return 0
	}
	return int(l.waiting.Load())
}
