package supervisor

import (
	"sync/atomic"
	"time"
)

// slot is one process as predictions see it: they enter and leave it, and
// Stop drains it, waiting for those inside to leave.
type slot struct {
	inst     Instance
	inside   atomic.Int64
	draining atomic.Bool
	left     chan struct{} // signalled when the last one leaves while draining
}

func newSlot(inst Instance) *slot {
	return &slot{inst: inst, left: make(chan struct{}, 1)}
}

// enter admits a prediction; false once draining has begun.
func (s *slot) enter() bool {
	s.inside.Add(1)
	if s.draining.Load() {
		s.leave()
		return false
	}
	return true
}

func (s *slot) leave() {
	if s.inside.Add(-1) == 0 && s.draining.Load() {
		select {
		case s.left <- struct{}{}:
		default:
		}
	}
}

// drain refuses new predictions and waits up to timeout for those inside
// to leave. It returns how many are still inside and whether none is.
func (s *slot) drain(timeout time.Duration) (int64, bool) {
	s.draining.Store(true)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		n := s.inside.Load()
		if n <= 0 {
			return 0, true
		}
		select {
		case <-s.left:
		case <-deadline.C:
			return s.inside.Load(), false
		}
	}
}
