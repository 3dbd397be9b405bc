package api

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
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

// limiter enforces Limits for one model: a buffered channel holds a token
// per running call, and an atomic counter counts the waiting requests. The
// path of a request that finds a free slot takes no lock and allocates
// nothing.
type limiter struct {
	slots    chan struct{}
	waiting  atomic.Int64
	maxQueue int64
	timeout  time.Duration
}

func newLimiter(l Limits) *limiter {
	if l.MaxConcurrency <= 0 {
		return nil
	}
	return &limiter{
		slots:    make(chan struct{}, l.MaxConcurrency),
		maxQueue: int64(max(l.MaxQueue, 0)),
		timeout:  l.QueueTimeout,
	}
}

// acquire takes a slot, waiting in the queue if there is room in it. The
// caller must call release once the call is over. A nil limiter admits
// everything. Its errors are 429 problems, or ctx's error if ctx ends
// while the request waits.
func (l *limiter) acquire(ctx context.Context) error {
	if l == nil {
		return nil
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	if l.waiting.Add(1) > l.maxQueue || l.timeout <= 0 {
		l.waiting.Add(-1)
		return problem.ModelBusy(fmt.Sprintf("the model is answering %d requests, as many as it may at once, and %d more are waiting; try again shortly",
			cap(l.slots), l.maxQueue))
	}
	defer l.waiting.Add(-1)
	timer := time.NewTimer(l.timeout)
	defer timer.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return problem.ModelBusy(fmt.Sprintf("the model stayed busy for the %s that a request may wait for its turn; try again shortly", l.timeout))
	case <-ctx.Done():
		return fmt.Errorf("waiting for a free slot: %w", context.Cause(ctx))
	}
}

// release gives back the slot that acquire took.
func (l *limiter) release() {
	if l != nil {
		<-l.slots
	}
}

// limiters holds one limiter per qualified name, created at a model's
// first prediction, so that a model that is registered again (a plugin
// restarted) keeps its limiter and the calls it has in flight count.
type limiters struct {
	limits func(*registry.Entry) Limits // nil: no limits
	m      sync.Map                     // qualified name → *limiter
	mu     sync.Mutex                   // serialises creating limiters
}

// get returns the limiter of e's model, nil if it has no limit.
func (ls *limiters) get(e *registry.Entry) *limiter {
	if ls.limits == nil {
		return nil
	}
	name := e.Info.QualifiedName
	if l, ok := ls.m.Load(name); ok {
		return l.(*limiter)
	}
	// First prediction of this model: create its limiter once, even when
	// many requests arrive together.
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l, ok := ls.m.Load(name); ok {
		return l.(*limiter)
	}
	l := newLimiter(ls.limits(e))
	ls.m.Store(name, l)
	return l
}
