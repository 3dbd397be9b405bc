package problem

import (
	"errors"
	"strconv"
	"time"
)

// PublicDetailer is implemented by errors that know what a client may be
// told about them. FromError uses PublicDetail as the detail of a 502 or
// 503 (model unavailable, bad plugin response) in place of the generic
// one; it must never hold internal details (paths, plugin output, stack
// traces).
type PublicDetailer interface {
	PublicDetail() string
}

// RetryAfterer is implemented by errors that know when the client should
// try again. FromError copies RetryAfter into Details.RetryAfter for a 503.
type RetryAfterer interface {
	RetryAfter() time.Duration
}

// withHints applies what err says about itself through PublicDetailer and
// RetryAfterer to d.
func withHints(d *Details, err error) *Details {
	var pd PublicDetailer
	if errors.As(err, &pd) {
		if detail := pd.PublicDetail(); detail != "" {
			d.Detail = detail
		}
	}
	var ra RetryAfterer
	if errors.As(err, &ra) {
		d.RetryAfter = ra.RetryAfter()
	}
	return d
}

// retryAfterSeconds formats d as a Retry-After value: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}
