package metrics

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// newTest returns Metrics on a pedantic registry, which also checks that
// what the collectors collect matches what they describe.
func newTest(t testing.TB, opts Options) *Metrics {
	t.Helper()
	return newMetrics(opts, prometheus.NewPedanticRegistry())
}

type fakeMonitor struct{ h registry.Health }

func (f fakeMonitor) Health() registry.Health { return f.h }

func entry(name, version string, h registry.Health) *registry.Entry {
	return &registry.Entry{
		Info:    sdk.Info{QualifiedName: name, Version: version},
		Monitor: fakeMonitor{h},
	}
}

func compare(t *testing.T, m *Metrics, want string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func TestRequests(t *testing.T) {
	m := newTest(t, Options{})
	const predict = "/api/models/:name/predict"
	m.ObserveRequest(predict, "POST", "iris", "1.0.0", 200, 3*time.Millisecond)
	m.ObserveRequest(predict, "POST", "iris", "1.0.0", 200, 40*time.Millisecond)
	m.ObserveRequest(predict, "POST", "iris", "1.0.0", 422, 200*time.Microsecond)
	m.ObserveRequest(predict, "POST", "", "", 404, 50*time.Microsecond) // unknown model: no name in the labels
	m.ObserveRequest("", "BREW", "", "", 404, 50*time.Microsecond)      // no route, a method of the client's invention

	compare(t, m, `
# HELP modelhost_http_requests_total HTTP requests answered, by Echo route pattern, method, status code, and the model and version they resolved to (empty if none).
# TYPE modelhost_http_requests_total counter
modelhost_http_requests_total{code="200",method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0"} 2
modelhost_http_requests_total{code="422",method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0"} 1
modelhost_http_requests_total{code="404",method="POST",model="",route="/api/models/:name/predict",version=""} 1
modelhost_http_requests_total{code="404",method="OTHER",model="",route="",version=""} 1
`, "modelhost_http_requests_total")

	compare(t, m, `
# HELP modelhost_http_request_duration_seconds Time from receiving an HTTP request to finishing its response, by route pattern, method, model and version.
# TYPE modelhost_http_request_duration_seconds histogram
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.0001"} 0
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.00025"} 1
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.0005"} 1
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.001"} 1
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.0025"} 1
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.005"} 2
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.01"} 2
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.025"} 2
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.05"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.1"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.25"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="0.5"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="1"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="2.5"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="5"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="10"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="30"} 3
modelhost_http_request_duration_seconds_bucket{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0",le="+Inf"} 3
modelhost_http_request_duration_seconds_sum{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0"} 0.0432
modelhost_http_request_duration_seconds_count{method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0"} 3
`+emptyHistogram("modelhost_http_request_duration_seconds", `method="POST",model="",route="/api/models/:name/predict",version=""`, 1, 0.00005)+
		emptyHistogram("modelhost_http_request_duration_seconds", `method="OTHER",model="",route="",version=""`, 1, 0.00005),
		"modelhost_http_request_duration_seconds")
}

// emptyHistogram returns the series of a histogram holding count
// observations below the smallest bucket, summing to sum.
func emptyHistogram(name, labels string, count int, sum float64) string {
	var b strings.Builder
	for _, le := range []string{"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "+Inf"} {
		fmt.Fprintf(&b, "%s_bucket{%s,le=%q} %d\n", name, labels, le, count)
	}
	fmt.Fprintf(&b, "%s_sum{%s} %g\n%s_count{%s} %d\n", name, labels, sum, name, labels, count)
	return b.String()
}

func TestInFlight(t *testing.T) {
	m := newTest(t, Options{})
	done1 := m.RequestStarted("/api/models/:name/predict")
	done2 := m.RequestStarted("/api/models/:name/predict")
	done3 := m.RequestStarted("/api/models")
	done1()
	compare(t, m, `
# HELP modelhost_http_requests_in_flight HTTP requests being answered now, by route pattern.
# TYPE modelhost_http_requests_in_flight gauge
modelhost_http_requests_in_flight{route="/api/models"} 1
modelhost_http_requests_in_flight{route="/api/models/:name/predict"} 1
`, "modelhost_http_requests_in_flight")
	done2()
	done3()
	if got := testutil.ToFloat64(m.inFlight.WithLabelValues("/api/models/:name/predict")); got != 0 {
		t.Errorf("in flight after done = %v, want 0", got)
	}
}

func TestPluginCalls(t *testing.T) {
	m := newTest(t, Options{})
	m.ObservePluginCall("iris", "1.0.0", PluginPredict, 2*time.Millisecond, nil)
	m.ObservePluginCall("iris", "1.0.0", PluginPredict, time.Second, errors.New("deadline exceeded"))
	m.ObservePluginCall("iris", "1.0.0", PluginPredictBatch, 30*time.Microsecond, nil)

	compare(t, m, `
# HELP modelhost_plugin_call_errors_total Calls into a model's plugin process that failed: the model's error, a timeout, or the plugin unavailable or crashing.
# TYPE modelhost_plugin_call_errors_total counter
modelhost_plugin_call_errors_total{method="predict",model="iris",version="1.0.0"} 1
modelhost_plugin_call_errors_total{method="predict_batch",model="iris",version="1.0.0"} 0
`, "modelhost_plugin_call_errors_total")
	checkHistogram(t, m, "modelhost_plugin_call_duration_seconds", prometheus.Labels{"model": "iris", "version": "1.0.0", "method": "predict"}, 2, 1.002)
	checkHistogram(t, m, "modelhost_plugin_call_duration_seconds", prometheus.Labels{"model": "iris", "version": "1.0.0", "method": "predict_batch"}, 1, 0.00003)
}

// checkHistogram checks the count and sum of the series of histogram name
// that has labels.
func checkHistogram(t *testing.T, m *Metrics, name string, labels prometheus.Labels, count uint64, sum float64) {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, s := range mf.GetMetric() {
			if len(s.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range s.GetLabel() {
				if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
					continue series
				}
			}
			h := s.GetHistogram()
			if h.GetSampleCount() != count || math.Abs(h.GetSampleSum()-sum) > 1e-9 {
				t.Errorf("%s%v: count %d, sum %g; want %d, %g", name, labels, h.GetSampleCount(), h.GetSampleSum(), count, sum)
			}
			return
		}
	}
	t.Errorf("%s%v: no such series", name, labels)
}

func TestQueue(t *testing.T) {
	m := newTest(t, Options{})
	m.ObserveQueueWait("iris", "1.0.0", 0)
	m.ObserveQueueWait("iris", "1.0.0", 300*time.Millisecond)
	m.QueueRejected("iris", "1.0.0", RejectQueueFull)
	m.QueueRejected("iris", "1.0.0", RejectQueueFull)
	m.QueueRejected("iris", "2.0.0", RejectQueueTimeout)

	checkHistogram(t, m, "modelhost_queue_wait_seconds", prometheus.Labels{"model": "iris", "version": "1.0.0"}, 2, 0.3)
	compare(t, m, `
# HELP modelhost_queue_rejections_total Prediction requests answered 429 by the concurrency limiter: reason queue_full when all slots and the queue were taken, queue_timeout when the wait for a slot ran out.
# TYPE modelhost_queue_rejections_total counter
modelhost_queue_rejections_total{model="iris",reason="queue_full",version="1.0.0"} 2
modelhost_queue_rejections_total{model="iris",reason="queue_timeout",version="2.0.0"} 1
`, "modelhost_queue_rejections_total")
}

func TestReloads(t *testing.T) {
	start := float64(time.Now().Unix())
	m := newTest(t, Options{})
	if got := testutil.ToFloat64(m.lastReloadSuccess); got < start {
		t.Errorf("last reload success before any = %v, want start-up time >= %v", got, start)
	}
	m.ReloadDone(TriggerSignal, ReloadSuccess)
	m.ReloadDone(TriggerAPI, ReloadSuccess)
	m.ReloadDone(TriggerWatch, ReloadFailure)
	compare(t, m, `
# HELP modelhost_reloads_total Reloads of the served models, by trigger (signal for SIGHUP, api for POST /admin/reload, watch for a plugin directory change) and result (success or failure).
# TYPE modelhost_reloads_total counter
modelhost_reloads_total{result="failure",trigger="api"} 0
modelhost_reloads_total{result="failure",trigger="signal"} 0
modelhost_reloads_total{result="failure",trigger="watch"} 1
modelhost_reloads_total{result="success",trigger="api"} 1
modelhost_reloads_total{result="success",trigger="signal"} 1
modelhost_reloads_total{result="success",trigger="watch"} 0
# HELP modelhost_last_reload_successful 1 if the last reload succeeded (or there was none), 0 if it failed and the host still serves the models it served before.
# TYPE modelhost_last_reload_successful gauge
modelhost_last_reload_successful 0
`, "modelhost_reloads_total", "modelhost_last_reload_successful")

	before := float64(time.Now().UnixNano()) / 1e9
	m.ReloadDone(TriggerWatch, ReloadSuccess)
	after := float64(time.Now().UnixNano()) / 1e9
	if got := testutil.ToFloat64(m.lastReloadSuccess); got < before || got > after {
		t.Errorf("last reload success = %v, want within [%v, %v]", got, before, after)
	}
	if got := testutil.ToFloat64(m.lastReloadOK); got != 1 {
		t.Errorf("last reload successful after a success = %v, want 1", got)
	}
}

func TestBuildInfo(t *testing.T) {
	m := newTest(t, Options{Build: BuildInfo{Version: "v1.4.0", Revision: "abc123", GoVersion: "go1.26.0"}})
	compare(t, m, `
# HELP modelhost_build_info Always 1; its labels say which build of modelhost runs.
# TYPE modelhost_build_info gauge
modelhost_build_info{goversion="go1.26.0",revision="abc123",version="v1.4.0"} 1
`, "modelhost_build_info")

	m = newTest(t, Options{})
	compare(t, m, fmt.Sprintf(`
# HELP modelhost_build_info Always 1; its labels say which build of modelhost runs.
# TYPE modelhost_build_info gauge
modelhost_build_info{goversion=%q,revision="unknown",version="unknown"} 1
`, runtime.Version()), "modelhost_build_info")
}

func TestModels(t *testing.T) {
	entries := []*registry.Entry{
		entry("iris", "1.0.0", registry.Health{Status: registry.StatusReady, PID: 101, Restarts: 0}),
		entry("iris", "2.0.0", registry.Health{Status: registry.StatusRestarting, Restarts: 3}),            // no process: no memory
		entry("sentiment", "0.3.1", registry.Health{Status: registry.StatusFailed, PID: 102, Restarts: 5}), // process gone: memory skipped
		{Info: sdk.Info{QualifiedName: "echo", Version: "0.1.0"}, Status: registry.StatusReady},            // no monitor
		entry("iris", "1.0.0", registry.Health{Status: registry.StatusFailed}),                             // served twice: ignored
	}
	var readPIDs []int
	readMemory := func(pid int) (int64, error) {
		readPIDs = append(readPIDs, pid)
		if pid == 101 {
			return 50 << 20, nil
		}
		return 0, os.ErrNotExist
	}
	m := newTest(t, Options{Models: func() []*registry.Entry { return entries }, ReadMemory: readMemory})
	compare(t, m, `
# HELP modelhost_models Model versions served now, whatever their state.
# TYPE modelhost_models gauge
modelhost_models 4
# HELP modelhost_model_up 1 if the model's plugin is ready to answer predictions, 0 if it is starting, restarting, failed or stopping.
# TYPE modelhost_model_up gauge
modelhost_model_up{model="echo",version="0.1.0"} 1
modelhost_model_up{model="iris",version="1.0.0"} 1
modelhost_model_up{model="iris",version="2.0.0"} 0
modelhost_model_up{model="sentiment",version="0.3.1"} 0
# HELP modelhost_model_status The model's state: 1 for the series whose status label is the current state, 0 for the others.
# TYPE modelhost_model_status gauge
modelhost_model_status{model="echo",status="failed",version="0.1.0"} 0
modelhost_model_status{model="echo",status="ready",version="0.1.0"} 1
modelhost_model_status{model="echo",status="restarting",version="0.1.0"} 0
modelhost_model_status{model="echo",status="starting",version="0.1.0"} 0
modelhost_model_status{model="echo",status="stopping",version="0.1.0"} 0
modelhost_model_status{model="iris",status="failed",version="1.0.0"} 0
modelhost_model_status{model="iris",status="ready",version="1.0.0"} 1
modelhost_model_status{model="iris",status="restarting",version="1.0.0"} 0
modelhost_model_status{model="iris",status="starting",version="1.0.0"} 0
modelhost_model_status{model="iris",status="stopping",version="1.0.0"} 0
modelhost_model_status{model="iris",status="failed",version="2.0.0"} 0
modelhost_model_status{model="iris",status="ready",version="2.0.0"} 0
modelhost_model_status{model="iris",status="restarting",version="2.0.0"} 1
modelhost_model_status{model="iris",status="starting",version="2.0.0"} 0
modelhost_model_status{model="iris",status="stopping",version="2.0.0"} 0
modelhost_model_status{model="sentiment",status="failed",version="0.3.1"} 1
modelhost_model_status{model="sentiment",status="ready",version="0.3.1"} 0
modelhost_model_status{model="sentiment",status="restarting",version="0.3.1"} 0
modelhost_model_status{model="sentiment",status="starting",version="0.3.1"} 0
modelhost_model_status{model="sentiment",status="stopping",version="0.3.1"} 0
# HELP modelhost_plugin_restarts_total Launches of the model's plugin after the first, that is, relaunches after the plugin crashed or exited.
# TYPE modelhost_plugin_restarts_total counter
modelhost_plugin_restarts_total{model="echo",version="0.1.0"} 0
modelhost_plugin_restarts_total{model="iris",version="1.0.0"} 0
modelhost_plugin_restarts_total{model="iris",version="2.0.0"} 3
modelhost_plugin_restarts_total{model="sentiment",version="0.3.1"} 5
# HELP modelhost_plugin_resident_memory_bytes Resident memory (RSS) of the process that runs the model's plugin; absent while no process runs.
# TYPE modelhost_plugin_resident_memory_bytes gauge
modelhost_plugin_resident_memory_bytes{model="iris",version="1.0.0"} 5.24288e+07
`, "modelhost_models", "modelhost_model_up", "modelhost_model_status", "modelhost_plugin_restarts_total", "modelhost_plugin_resident_memory_bytes")
	if want := []int{101, 102}; !slices.Equal(readPIDs, want) {
		t.Errorf("ReadMemory read PIDs %v, want %v", readPIDs, want)
	}

	// A model no longer served disappears from the next scrape.
	entries = entries[:1]
	if n, err := testutil.GatherAndCount(m.Registry(), "modelhost_model_up"); err != nil || n != 1 {
		t.Errorf("model_up series after removing models = %d, %v; want 1", n, err)
	}
}

func TestModelStatusUnknown(t *testing.T) {
	entries := []*registry.Entry{entry("iris", "1.0.0", registry.Health{Status: "draining"})}
	m := newTest(t, Options{Models: func() []*registry.Entry { return entries }})
	if n, err := testutil.GatherAndCount(m.Registry(), "modelhost_model_status"); err != nil || n != 6 {
		t.Errorf("model_status series = %d, %v; want the 5 known states and draining", n, err)
	}
}

func TestDefaultReadMemory(t *testing.T) {
	entries := []*registry.Entry{entry("self", "1.0.0", registry.Health{Status: registry.StatusReady, PID: os.Getpid()})}
	m := newTest(t, Options{Models: func() []*registry.Entry { return entries }})
	n, err := testutil.GatherAndCount(m.Registry(), "modelhost_plugin_resident_memory_bytes")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	if runtime.GOOS == "linux" {
		want = 1
	}
	if n != want {
		t.Errorf("resident memory series on %s = %d, want %d", runtime.GOOS, n, want)
	}
}

func TestForgetModel(t *testing.T) {
	m := newTest(t, Options{})
	for _, v := range []string{"1.0.0", "2.0.0"} {
		m.ObserveRequest("/api/models/:name/predict", "POST", "iris", v, 200, time.Millisecond)
		m.ObservePluginCall("iris", v, PluginPredict, time.Millisecond, nil)
		m.ObserveQueueWait("iris", v, 0)
		m.QueueRejected("iris", v, RejectQueueFull)
	}
	m.ForgetModel("iris", "1.0.0")
	for name, want := range map[string]int{
		"modelhost_http_requests_total":           1,
		"modelhost_http_request_duration_seconds": 1,
		"modelhost_plugin_call_duration_seconds":  1,
		"modelhost_plugin_call_errors_total":      1,
		"modelhost_queue_wait_seconds":            1,
		"modelhost_queue_rejections_total":        1,
	} {
		if n, err := testutil.GatherAndCount(m.Registry(), name); err != nil || n != want {
			t.Errorf("%s series after ForgetModel = %d, %v; want %d", name, n, err, want)
		}
	}
	// Observing the forgotten version again brings its series back rather
	// than counting into series no longer exported.
	m.ObserveRequest("/api/models/:name/predict", "POST", "iris", "1.0.0", 200, time.Millisecond)
	compare(t, m, `
# HELP modelhost_http_requests_total HTTP requests answered, by Echo route pattern, method, status code, and the model and version they resolved to (empty if none).
# TYPE modelhost_http_requests_total counter
modelhost_http_requests_total{code="200",method="POST",model="iris",route="/api/models/:name/predict",version="1.0.0"} 1
modelhost_http_requests_total{code="200",method="POST",model="iris",route="/api/models/:name/predict",version="2.0.0"} 1
`, "modelhost_http_requests_total")
}

func TestCacheFull(t *testing.T) {
	m := newTest(t, Options{})
	for i := range maxCached + 10 {
		m.ObserveQueueWait("m", strconv.Itoa(i), time.Millisecond)
	}
	m.ObserveQueueWait("m", strconv.Itoa(maxCached+5), time.Millisecond) // not cached: looked up in the vector
	if got := len(*m.queueCache.entries.Load()); got != maxCached {
		t.Errorf("cache holds %d entries, want %d", got, maxCached)
	}
	checkHistogram(t, m, "modelhost_queue_wait_seconds", prometheus.Labels{"model": "m", "version": strconv.Itoa(maxCached + 5)}, 2, 0.002)
	if n, _ := testutil.GatherAndCount(m.Registry(), "modelhost_queue_wait_seconds"); n != maxCached+10 {
		t.Errorf("queue wait series = %d, want %d", n, maxCached+10)
	}
}

// TestHandler scrapes the handler as Prometheus would and checks that it
// serves every metric of the package, the Go runtime's and the process's.
func TestHandler(t *testing.T) {
	entries := []*registry.Entry{entry("iris", "1.0.0", registry.Health{Status: registry.StatusReady, PID: 7})}
	m := newTest(t, Options{
		Models:     func() []*registry.Entry { return entries },
		ReadMemory: func(int) (int64, error) { return 1 << 20, nil },
	})
	m.ObserveRequest("/api/models/:name/predict", "POST", "iris", "1.0.0", 200, time.Millisecond)
	m.RequestStarted("/api/models/:name/predict")
	m.ObservePluginCall("iris", "1.0.0", PluginPredict, time.Millisecond, errors.New("boom"))
	m.ObserveQueueWait("iris", "1.0.0", 0)
	m.QueueRejected("iris", "1.0.0", RejectQueueTimeout)
	m.ReloadDone(TriggerAPI, ReloadSuccess)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, body)
	}
	want := []string{
		"modelhost_http_requests_total",
		"modelhost_http_request_duration_seconds",
		"modelhost_http_requests_in_flight",
		"modelhost_plugin_call_duration_seconds",
		"modelhost_plugin_call_errors_total",
		"modelhost_queue_wait_seconds",
		"modelhost_queue_rejections_total",
		"modelhost_reloads_total",
		"modelhost_last_reload_success_timestamp_seconds",
		"modelhost_last_reload_successful",
		"modelhost_build_info",
		"modelhost_models",
		"modelhost_model_up",
		"modelhost_model_status",
		"modelhost_plugin_restarts_total",
		"modelhost_plugin_resident_memory_bytes",
		"go_goroutines",
		"go_memstats_alloc_bytes",
	}
	if runtime.GOOS == "linux" {
		want = append(want, "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds")
	}
	for _, name := range want {
		if _, ok := families[name]; !ok {
			t.Errorf("scrape has no %s", name)
		}
	}
	if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(`
# HELP modelhost_plugin_call_errors_total Calls into a model's plugin process that failed: the model's error, a timeout, or the plugin unavailable or crashing.
# TYPE modelhost_plugin_call_errors_total counter
modelhost_plugin_call_errors_total{method="predict",model="iris",version="1.0.0"} 1
# HELP modelhost_plugin_resident_memory_bytes Resident memory (RSS) of the process that runs the model's plugin; absent while no process runs.
# TYPE modelhost_plugin_resident_memory_bytes gauge
modelhost_plugin_resident_memory_bytes{model="iris",version="1.0.0"} 1.048576e+06
`), "modelhost_plugin_call_errors_total", "modelhost_plugin_resident_memory_bytes"); err != nil {
		t.Error(err)
	}
}

// TestLint runs promlint, Prometheus's own checks of names, units, types
// and help, over everything the registry exports.
func TestLint(t *testing.T) {
	entries := []*registry.Entry{entry("iris", "1.0.0", registry.Health{Status: registry.StatusReady, PID: 7})}
	m := newTest(t, Options{
		Models:     func() []*registry.Entry { return entries },
		ReadMemory: func(int) (int64, error) { return 1 << 20, nil },
	})
	m.ObserveRequest("/api/models/:name/predict", "POST", "iris", "1.0.0", 200, time.Millisecond)
	m.RequestStarted("/api/models/:name/predict")
	m.ObservePluginCall("iris", "1.0.0", PluginPredict, time.Millisecond, nil)
	m.ObserveQueueWait("iris", "1.0.0", 0)
	m.QueueRejected("iris", "1.0.0", RejectQueueFull)
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// TestConcurrent observes from many goroutines while scraping, for the
// race detector, and checks that no observation is lost.
func TestConcurrent(t *testing.T) {
	entries := []*registry.Entry{entry("iris", "1.0.0", registry.Health{Status: registry.StatusReady})}
	m := newTest(t, Options{Models: func() []*registry.Entry { return entries }})
	const workers, perWorker = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			version := strconv.Itoa(w % 3)
			for range perWorker {
				done := m.RequestStarted("/api/models/:name/predict")
				m.ObserveQueueWait("iris", version, 0)
				m.ObservePluginCall("iris", version, PluginPredict, time.Millisecond, nil)
				m.ObserveRequest("/api/models/:name/predict", "POST", "iris", version, 200, time.Millisecond)
				done()
			}
			if w == 0 {
				m.ForgetModel("iris", "unused")
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := m.Registry().Gather(); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	var total float64
	for v := range 3 {
		total += testutil.ToFloat64(m.requests.WithLabelValues("/api/models/:name/predict", "POST", "200", "iris", strconv.Itoa(v)))
	}
	if total != workers*perWorker {
		t.Errorf("requests counted = %v, want %d", total, workers*perWorker)
	}
	if got := testutil.ToFloat64(m.inFlight.WithLabelValues("/api/models/:name/predict")); got != 0 {
		t.Errorf("in flight after all done = %v, want 0", got)
	}
}

func TestLogger(t *testing.T) {
	var buf strings.Builder
	logger := hclog.New(&hclog.LoggerOptions{Output: &syncWriter{w: &buf}, Level: hclog.Error})
	m := newTest(t, Options{Logger: logger})
	if err := m.Registry().Register(failingCollector{prometheus.NewDesc("test_failing", "Fails.", nil, nil)}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("scrape with a failing collector: %d, want 200 with the other metrics", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "modelhost_build_info") {
		t.Error("scrape with a failing collector lacks the other metrics")
	}
	if !strings.Contains(buf.String(), "serving metrics") || !strings.Contains(buf.String(), "collector broke") {
		t.Errorf("log = %q, want the collector's error", buf.String())
	}
}

// failingCollector's metric cannot be collected.
type failingCollector struct{ desc *prometheus.Desc }

func (f failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }
func (f failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(f.desc, errors.New("collector broke"))
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestForgetWhileObserving checks that ForgetModel racing with the first
// observations of a model never leaves a cached series that is no longer
// exported: once both are over, every observation counts again.
func TestForgetWhileObserving(t *testing.T) {
	m := newTest(t, Options{})
	const route = "/api/models/:name/predict"
	exported := func() float64 {
		mfs, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "modelhost_http_requests_total" {
				for _, s := range mf.GetMetric() {
					return s.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	for range 50 {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				m.ObserveRequest(route, "POST", "iris", "1.0.0", 200, time.Millisecond)
			})
		}
		wg.Go(func() { m.ForgetModel("iris", "1.0.0") })
		wg.Wait()
		before := exported()
		m.ObserveRequest(route, "POST", "iris", "1.0.0", 200, time.Millisecond)
		if after := exported(); after != before+1 {
			t.Fatalf("exported requests went from %v to %v after one more, want +1", before, after)
		}
		m.ForgetModel("iris", "1.0.0")
	}
}
