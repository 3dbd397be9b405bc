package supervisor

import (
	"time"

	"github.com/modelhost/modelhost/host/internal/config"
)

// Policy is when and how fast a crashed plugin is relaunched.
type Policy struct {
	// RestartMax is how many failures (crashes and failed relaunches) are
	// followed by a relaunch within RestartWindow; the next one fails the
	// model. 0 never relaunches.
	RestartMax int
	// RestartWindow is the sliding window failures are counted in.
	RestartWindow time.Duration
	// BackoffInitial is the delay after the first failure in the window.
	BackoffInitial time.Duration
	// BackoffMax caps the delay.
	BackoffMax time.Duration
	// DrainTimeout bounds Stop's wait for predictions in flight.
	DrainTimeout time.Duration
}

// PolicyFromConfig returns the restart policy of the plugins block.
func PolicyFromConfig(p config.Plugins) Policy {
	return Policy{
		RestartMax:     p.RestartMax,
		RestartWindow:  p.RestartWindow,
		BackoffInitial: p.RestartBackoffInitial,
		BackoffMax:     p.RestartBackoffMax,
		DrainTimeout:   p.DrainTimeout,
	}
}

// withDefaults fills the durations left zero with the configuration's
// defaults.
func (p Policy) withDefaults() Policy {
	if p.RestartWindow <= 0 {
		p.RestartWindow = config.DefaultRestartWindow
	}
	if p.BackoffInitial <= 0 {
		p.BackoffInitial = config.DefaultRestartBackoffInitial
	}
	if p.BackoffMax <= 0 {
		p.BackoffMax = max(config.DefaultRestartBackoffMax, p.BackoffInitial)
	}
	if p.DrainTimeout <= 0 {
		p.DrainTimeout = config.DefaultDrainTimeout
	}
	return p
}

// jitter is the relative spread of a backoff delay: ±20%.
const jitter = 0.2

// Backoff returns the delay before the launch that follows the nth failure
// in the window (n ≥ 1): BackoffInitial doubled n-1 times up to
// BackoffMax, spread by ±20% with r in [0, 1), and never more than
// BackoffMax.
func (p Policy) Backoff(n int, r float64) time.Duration {
	d := p.BackoffInitial
	for i := 1; i < n && d < p.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, p.BackoffMax)
	d = time.Duration(float64(d) * (1 - jitter + 2*jitter*r))
	return max(0, min(d, p.BackoffMax))
}
