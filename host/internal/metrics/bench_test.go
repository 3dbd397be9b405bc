package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/registry"
)

// What the HTTP layer records for one prediction: the plugin call and the
// request. Run with -benchmem; the cached path allocates nothing.
func BenchmarkObserve(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		m.ObservePluginCall("iris_model", "1.0.0", PluginPredict, 800*time.Microsecond, nil)
		m.ObserveRequest("/api/models/:name/predict", "POST", "iris_model", "1.0.0", 200, time.Millisecond)
	}
}

// The same from every core at once, several models and codes mixed.
func BenchmarkObserveParallel(b *testing.B) {
	m := New(Options{})
	models := []string{"model_0", "model_1", "model_2", "model_3"}
	codes := []int{200, 200, 200, 422, 200, 429}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			model := models[i%len(models)]
			m.ObservePluginCall(model, "1.0.0", PluginPredict, 800*time.Microsecond, nil)
			m.ObserveRequest("/api/models/:name/predict", "POST", model, "1.0.0", codes[i%len(codes)], time.Millisecond)
			i++
		}
	})
}

// BenchmarkObserveVec makes the same observations through the vectors'
// WithLabelValues at every call, as the package would without its caches.
func BenchmarkObserveVec(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		m.pluginDuration.WithLabelValues("iris_model", "1.0.0", PluginPredict).Observe(0.0008)
		m.requests.WithLabelValues("/api/models/:name/predict", "POST", "200", "iris_model", "1.0.0").Inc()
		m.requestDuration.WithLabelValues("/api/models/:name/predict", "POST", "iris_model", "1.0.0").Observe(0.001)
	}
}

func BenchmarkObserveVecParallel(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.pluginDuration.WithLabelValues("iris_model", "1.0.0", PluginPredict).Observe(0.0008)
			m.requests.WithLabelValues("/api/models/:name/predict", "POST", "200", "iris_model", "1.0.0").Inc()
			m.requestDuration.WithLabelValues("/api/models/:name/predict", "POST", "iris_model", "1.0.0").Observe(0.001)
		}
	})
}

// Everything the HTTP layer records for one prediction through a
// concurrency limiter: in flight, queue wait, plugin call, request.
func BenchmarkObserveAll(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		done := m.RequestStarted("/api/models/:name/predict")
		m.ObserveQueueWait("iris_model", "1.0.0", 0)
		m.ObservePluginCall("iris_model", "1.0.0", PluginPredict, 800*time.Microsecond, nil)
		m.ObserveRequest("/api/models/:name/predict", "POST", "iris_model", "1.0.0", 200, time.Millisecond)
		done()
	}
}

// One scrape of a host serving 20 models that have seen traffic.
func BenchmarkScrape(b *testing.B) {
	var entries []*registry.Entry
	for i := range 20 {
		entries = append(entries, entry(fmt.Sprintf("model_%d", i), "1.0.0", registry.Health{Status: registry.StatusReady, PID: 1}))
	}
	m := New(Options{
		Models:     func() []*registry.Entry { return entries },
		ReadMemory: func(int) (int64, error) { return 1 << 20, nil },
	})
	for _, e := range entries {
		for _, code := range []int{200, 422, 429} {
			m.ObserveRequest("/api/models/:name/predict", "POST", e.Info.QualifiedName, e.Info.Version, code, time.Millisecond)
		}
		m.ObservePluginCall(e.Info.QualifiedName, e.Info.Version, PluginPredict, time.Millisecond, nil)
		m.ObserveQueueWait(e.Info.QualifiedName, e.Info.Version, 0)
	}
	h := m.Handler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
