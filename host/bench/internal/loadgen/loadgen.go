// Package loadgen is the benchmark's closed-loop load generator: a fixed
// number of workers, each issuing one request at a time and the next as
// soon as the previous one is answered, for a fixed duration or a fixed
// number of requests. Every latency is recorded, so percentiles are exact
// rather than estimated from histogram buckets.
//
// Run drives any Worker; HTTPWorker is an HTTP/1.1 client that keeps one
// connection open per worker and sends a pre-serialised request, so that
// the client spends as little CPU per request as possible on a machine it
// shares with the servers it measures.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Worker issues one request per call to Do. Each worker is used by one
// goroutine only.
type Worker interface {
	// Do sends one request and waits for its complete answer. A non-nil
	// error counts the request as failed, under the error's text as its
	// kind; the worker is used again afterwards.
	Do(ctx context.Context) error
	// Close releases the worker's resources.
	Close() error
}

// Config is one round of load.
type Config struct {
	// Concurrency is the number of workers, each with one request in
	// flight at a time. At least 1.
	Concurrency int
	// Duration bounds the round: workers start no request after it has
	// passed. Zero means no bound; then Requests must be set.
	Duration time.Duration
	// Requests, if positive, is the total number of requests of the round,
	// shared among the workers.
	Requests int
}

// Result is the outcome of one round.
type Result struct {
	Concurrency int `json:"concurrency"`
	// Elapsed is from the start of the first request to the end of the
	// last.
	Elapsed time.Duration `json:"elapsed_ns"`
	// OK counts the requests that succeeded; Errors those that failed, by
	// kind in ErrorKinds.
	OK         int            `json:"ok"`
	Errors     int            `json:"errors"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// Throughput is OK divided by Elapsed, in requests per second.
	Throughput float64 `json:"throughput"`
	// Latency summarises the latencies of the successful requests.
	Latency Summary `json:"latency"`
}

// maxErrorKinds bounds the distinct error texts kept in a Result.
const maxErrorKinds = 20

// Run runs one round of load: cfg.Concurrency workers made by newWorker,
// started together, each looping until the round ends (or ctx does). The
// workers are closed before Run returns. It fails if a worker cannot be
// made; failed requests are counted in the result, not returned.
func Run(ctx context.Context, cfg Config, newWorker func(i int) (Worker, error)) (*Result, error) {
	if cfg.Concurrency < 1 {
		return nil, errors.New("loadgen: concurrency must be at least 1")
	}
	if cfg.Duration <= 0 && cfg.Requests <= 0 {
		return nil, errors.New("loadgen: set a duration or a number of requests")
	}
	workers := make([]Worker, 0, cfg.Concurrency)
	defer func() {
		for _, w := range workers {
			_ = w.Close()
		}
	}()
	for i := range cfg.Concurrency {
		w, err := newWorker(i)
		if err != nil {
			return nil, fmt.Errorf("loadgen: worker %d: %w", i, err)
		}
		workers = append(workers, w)
	}

	type tally struct {
		latencies []time.Duration
		errors    int
		kinds     map[string]int
		end       time.Time
	}
	tallies := make([]tally, cfg.Concurrency)
	// remaining counts down the requests left when cfg.Requests is set.
	var mu sync.Mutex
	remaining := cfg.Requests
	take := func() bool {
		if cfg.Requests <= 0 {
			return true
		}
		mu.Lock()
		defer mu.Unlock()
		if remaining == 0 {
			return false
		}
		remaining--
		return true
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	var begin time.Time
	var deadline time.Time
	for i, w := range workers {
		wg.Go(func() {
			t := &tallies[i]
			t.latencies = make([]time.Duration, 0, 4096)
			<-start
			for ctx.Err() == nil {
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					break
				}
				if !take() {
					break
				}
				t0 := time.Now()
				err := w.Do(ctx)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						break // the round was cancelled, not failed
					}
					t.errors++
					if t.kinds == nil {
						t.kinds = map[string]int{}
					}
					if _, ok := t.kinds[err.Error()]; ok || len(t.kinds) < maxErrorKinds {
						t.kinds[err.Error()]++
					}
					continue
				}
				t.latencies = append(t.latencies, d)
			}
			t.end = time.Now()
		})
	}
	begin = time.Now()
	if cfg.Duration > 0 {
		deadline = begin.Add(cfg.Duration)
	}
	close(start)
	wg.Wait()

	res := &Result{Concurrency: cfg.Concurrency}
	var all []time.Duration
	end := begin
	for _, t := range tallies {
		all = append(all, t.latencies...)
		res.Errors += t.errors
		for k, n := range t.kinds {
			if res.ErrorKinds == nil {
				res.ErrorKinds = map[string]int{}
			}
			if _, ok := res.ErrorKinds[k]; ok || len(res.ErrorKinds) < maxErrorKinds {
				res.ErrorKinds[k] += n
			}
		}
		if t.end.After(end) {
			end = t.end
		}
	}
	res.OK = len(all)
	res.Elapsed = end.Sub(begin)
	if res.Elapsed > 0 {
		res.Throughput = float64(res.OK) / res.Elapsed.Seconds()
	}
	res.Latency = Summarize(all)
	return res, ctx.Err()
}

// Merge adds the error kinds of b to a, for totals over rounds.
func Merge(a, b map[string]int) map[string]int {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		a = map[string]int{}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; ok || len(a) < maxErrorKinds {
			a[k] += b[k]
		}
	}
	return a
}
