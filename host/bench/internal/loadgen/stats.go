package loadgen

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of latencies. Percentiles are exact: they are
// elements of the recorded set (nearest rank), not interpolations.
type Summary struct {
	Count int           `json:"count"`
	Min   time.Duration `json:"min_ns"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p999_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Summarize sorts latencies in place and summarises them. An empty set
// gives the zero Summary.
func Summarize(latencies []time.Duration) Summary {
	if len(latencies) == 0 {
		return Summary{}
	}
	slices.Sort(latencies)
	var sum time.Duration
	for _, d := range latencies {
		sum += d
	}
	return Summary{
		Count: len(latencies),
		Min:   latencies[0],
		Mean:  sum / time.Duration(len(latencies)),
		P50:   Percentile(latencies, 50),
		P90:   Percentile(latencies, 90),
		P99:   Percentile(latencies, 99),
		P999:  Percentile(latencies, 99.9),
		Max:   latencies[len(latencies)-1],
	}
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest element such that at least p percent of
// the elements are less than or equal to it. It returns 0 for an empty
// slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The rank is computed in integer thousandths of a percent, so that
	// for example p = 99.9 over 1000 elements is rank 999 exactly rather
	// than 999.0000000000001 rounded up to 1000.
	milli := int64(math.Round(p * 1000))
	rank := int((milli*int64(n) + 100_000 - 1) / 100_000) // ceil(p/100 * n)
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// Median returns the median of xs (the mean of the two middle values when
// there is an even number of them), or 0 for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// MedianDuration is Median for durations.
func MedianDuration(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(math.Round(Median(xs)))
}
