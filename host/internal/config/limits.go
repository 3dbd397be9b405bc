package config

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Defaults of the request limits. They are applied by [Default], [Load] and
// [Parse] like the other defaults.
const (
	// DefaultMaxHeaderBytes is the default of server.max_header_bytes:
	// 64 KiB.
	DefaultMaxHeaderBytes = 64 << 10

	DefaultMaxConcurrency = 64
	DefaultMaxQueue       = 256
	DefaultQueueTimeout   = 5 * time.Second

	// MaxHeaderBytesLimit is the largest server.max_header_bytes accepted
	// (16 MiB): more is a mistake, not a need.
	MaxHeaderBytesLimit = 16 << 20
	// MaxConcurrencyLimit is the largest max_concurrency or max_queue
	// accepted.
	MaxConcurrencyLimit = 1 << 20
)

// Limits bounds how many predictions one model works on at once and how
// many wait for their turn. A request that finds MaxConcurrency predictions
// running waits in the model's queue, at most QueueTimeout; a request that
// finds MaxQueue requests already waiting is refused at once. Refused
// requests are answered 429 with Retry-After.
//
// In the plugins block the arguments set the default of every model; in a
// model block they override it for that model.
type Limits struct {
	// MaxConcurrency is how many predict calls the model runs at once; at
	// least 1. Argument: max_concurrency. Default: 64.
	MaxConcurrency int

	// MaxQueue is how many requests may wait for one of the model's slots;
	// 0 refuses every request that finds no free slot. Argument:
	// max_queue. Default: 256.
	MaxQueue int

	// QueueTimeout is how long a request waits in the queue before it is
	// refused. Argument: queue_timeout. Default: 5s.
	QueueTimeout time.Duration
}

// DefaultLimits returns the default Limits: 64 at once, 256 waiting, for
// at most 5s.
func DefaultLimits() Limits {
	return Limits{
		MaxConcurrency: DefaultMaxConcurrency,
		MaxQueue:       DefaultMaxQueue,
		QueueTimeout:   DefaultQueueTimeout,
	}
}

// LimitsFor returns the limits of the plugin at command, an absolute path
// as in Model.Command: those of the model block that names it, or
// Plugins.Limits for a plugin found in Plugins.Directory.
func (c *Config) LimitsFor(command string) Limits {
	for _, m := range c.Models {
		if m.Command == command {
			return m.Limits
		}
	}
	return c.Plugins.Limits
}

// decodeLimits returns defaults overridden by the max_concurrency,
// max_queue and queue_timeout arguments of a plugins or model block.
func decodeLimits(maxConcurrency, maxQueue, queueTimeout *hcl.Attribute, defaults Limits, diags *hcl.Diagnostics) Limits {
	l := defaults
	if n, ok := decodeValue[int](maxConcurrency, diags); ok {
		if n < 1 || n > MaxConcurrencyLimit {
			*diags = append(*diags, attrError(maxConcurrency, "Invalid max_concurrency",
				fmt.Sprintf("max_concurrency must be a whole number from 1 to %d, got %d.", MaxConcurrencyLimit, n)))
		} else {
			l.MaxConcurrency = n
		}
	}
	if n, ok := decodeValue[int](maxQueue, diags); ok {
		if n < 0 || n > MaxConcurrencyLimit {
			*diags = append(*diags, attrError(maxQueue, "Invalid max_queue",
				fmt.Sprintf("max_queue must be a whole number from 0 to %d, got %d.", MaxConcurrencyLimit, n)))
		} else {
			l.MaxQueue = n
		}
	}
	decodeDuration(queueTimeout, &l.QueueTimeout, diags)
	return l
}

// decodeMaxHeaderBytes sets *dst from server.max_header_bytes.
func decodeMaxHeaderBytes(attr *hcl.Attribute, dst *int, diags *hcl.Diagnostics) {
	n, ok := decodeValue[int64](attr, diags)
	if !ok {
		return
	}
	if n < 1024 || n > MaxHeaderBytesLimit {
		*diags = append(*diags, attrError(attr, "Invalid max_header_bytes",
			fmt.Sprintf("max_header_bytes must be a number of bytes from 1024 to %d, got %d.", MaxHeaderBytesLimit, n)))
		return
	}
	*dst = int(n)
}
