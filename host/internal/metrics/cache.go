package metrics

import (
	"maps"
	"sync"
	"sync/atomic"
)

// maxCached bounds the entries of each cache. Past it, the metrics of a
// new label combination are looked up in their vector at every call
// instead: slower, but a flood of combinations (a label fed with values it
// should not get) then costs no more copying.
const maxCached = 1024

// cache maps a label combination to the metrics it selects. Reads load an
// immutable map through an atomic pointer: no lock, no allocation, and no
// cache line written, so they scale across cores. A miss copies the map
// with the new entry under a mutex; label combinations are few and each
// misses once, so the copies stay cheap.
type cache[K comparable, V any] struct {
	entries atomic.Pointer[map[K]V]
	mu      sync.Mutex // serialises writers
	// newValue returns the metrics of a combination seen for the first time.
	newValue func(K) V
}

// get returns the metrics of k.
func (c *cache[K, V]) get(k K) V {
	if m := c.entries.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	return c.add(k)
}

// add makes the metrics of k and, unless the cache is full, keeps them.
func (c *cache[K, V]) add(k K) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	v := c.newValue(k)
	if old != nil && len(*old) >= maxCached {
		return v
	}
	next := make(map[K]V, lenOf(old)+1)
	if old != nil {
		maps.Copy(next, *old)
	}
	next[k] = v
	c.entries.Store(&next)
	return v
}

// forget drops the entries whose key matches, and calls deleteSeries to
// delete their series from the vectors. Both happen under the writers'
// mutex, so that no miss can meanwhile put back an entry holding a series
// that deleteSeries then detaches from its vector: observations made
// through it would never be exported.
func (c *cache[K, V]) forget(match func(K) bool, deleteSeries func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	deleteSeries()
	old := c.entries.Load()
	if old == nil {
		return
	}
	next := maps.Clone(*old)
	maps.DeleteFunc(next, func(k K, _ V) bool { return match(k) })
	c.entries.Store(&next)
}

func lenOf[K comparable, V any](m *map[K]V) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
