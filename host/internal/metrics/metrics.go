// Package metrics exports the host's Prometheus metrics: what the HTTP
// layer observes about each request, the time spent in plugins and in the
// concurrency limiter's queue, reloads, and, read at each scrape, the
// state, restarts and resident memory of every served model's plugin.
//
// Each [Metrics] has its own *prometheus.Registry, never the global one,
// so that tests, and several hosts in one process, do not share series.
// Its observe methods are made for the request path: after the first use
// of a label combination they take no lock and allocate nothing, because
// the metrics that each combination selects are cached in a copy-on-write
// map read through an atomic pointer. (A vector's WithLabelValues hashes
// and validates the values and takes a read lock on every call.)
//
// Label values must come from small, bounded sets, since every combination
// is a series that Prometheus stores: routes are Echo route patterns, never
// raw paths; models and versions are those the registry resolved, never
// names a client sent; HTTP methods outside the standard ones are counted
// as "OTHER".
//
// docs/metrics.md is the reference for operators.
package metrics

import (
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modelhost/modelhost/host/internal/procstat"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// The plugin methods that ObservePluginCall times.
const (
	// PluginPredict is one sdk.MLModel Predict call.
	PluginPredict = "predict"
	// PluginPredictBatch is one registry.BatchModel PredictBatch call.
	PluginPredictBatch = "predict_batch"
)

// The reasons for which the concurrency limiter turns a request away,
// for QueueRejected.
const (
	// RejectQueueFull: every slot was taken and the queue was full.
	RejectQueueFull = "queue_full"
	// RejectQueueTimeout: the request waited in the queue for the longest
	// it may and got no slot.
	RejectQueueTimeout = "queue_timeout"
)

// What starts a reload, for ReloadDone.
const (
	// TriggerSignal: the host received SIGHUP.
	TriggerSignal = "signal"
	// TriggerAPI: a client called POST /admin/reload.
	TriggerAPI = "api"
	// TriggerWatch: the plugin directory changed.
	TriggerWatch = "watch"
)

// How a reload ended, for ReloadDone.
const (
	// ReloadSuccess: the host serves the new set of models.
	ReloadSuccess = "success"
	// ReloadFailure: the reload was abandoned; the host serves the models
	// it served before.
	ReloadFailure = "failure"
)

// maxScrapes bounds the scrapes served at once; more are answered 503.
// /metrics needs no token, so this keeps a flood of scrapes from
// gathering the metrics more than a few times over.
const maxScrapes = 4

// BuildInfo identifies the running binary in modelhost_build_info.
type BuildInfo struct {
	// Version is the host's version, such as "v1.4.0"; "" means "unknown".
	Version string
	// Revision is the VCS revision the binary was built from; "" means
	// "unknown".
	Revision string
	// GoVersion is the Go release that built the binary; "" means
	// runtime.Version().
	GoVersion string
}

// Options configures Metrics.
type Options struct {
	// Models returns the served models; it is called at each scrape, and
	// must be cheap and safe to call from any goroutine, as
	// (*registry.Registry).List is. Nil means no models.
	Models func() []*registry.Entry
	// Build identifies the binary.
	Build BuildInfo
	// ReadMemory returns the resident memory of process pid in bytes. Nil
	// means procstat.ResidentMemory on Linux; elsewhere the metric is not
	// exported.
	ReadMemory func(pid int) (int64, error)
	// Logger, if not nil, receives the errors met while serving a scrape.
	Logger hclog.Logger
}

// Metrics holds the host's metrics and the registry that exports them.
// Its methods are safe for concurrent use. Create it with New.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	requests          *prometheus.CounterVec
	requestDuration   *prometheus.HistogramVec
	inFlight          *prometheus.GaugeVec
	pluginDuration    *prometheus.HistogramVec
	pluginErrors      *prometheus.CounterVec
	queueWait         *prometheus.HistogramVec
	queueRejections   *prometheus.CounterVec
	reloads           *prometheus.CounterVec
	lastReloadSuccess prometheus.Gauge
	lastReloadOK      prometheus.Gauge

	requestCache  cache[requestKey, requestMetrics]
	inFlightCache cache[string, inFlightMetric]
	pluginCache   cache[pluginKey, pluginMetrics]
	queueCache    cache[modelKey, prometheus.Observer]
	rejectCache   cache[rejectKey, prometheus.Counter]
}

type requestKey struct {
	route, method, model, version string
	code                          int
}

type requestMetrics struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

type inFlightMetric struct {
	gauge prometheus.Gauge
	done  func() // gauge.Dec, made once so that RequestStarted allocates nothing
}

type pluginKey struct{ model, version, method string }

type pluginMetrics struct {
	duration prometheus.Observer
	errors   prometheus.Counter
}

type modelKey struct{ model, version string }

type rejectKey struct{ model, version, reason string }

// New returns Metrics with every metric registered on a registry of its
// own, together with the Go runtime's and the host process's metrics.
func New(opts Options) *Metrics {
	return newMetrics(opts, prometheus.NewRegistry())
}

// newMetrics is New with the registry to use; tests pass a pedantic one.
func newMetrics(opts Options, reg *prometheus.Registry) *Metrics {
	// From 100µs, a prediction answered from memory, to 30s, the default
	// predict timeout, in 1-2.5-5 steps so that the le labels read well.
	buckets := []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelhost_http_requests_total",
			Help: "HTTP requests answered, by Echo route pattern, method, status code, and the model and version they resolved to (empty if none).",
		}, []string{"route", "method", "code", "model", "version"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "modelhost_http_request_duration_seconds",
			Help:    "Time from receiving an HTTP request to finishing its response, by route pattern, method, model and version.",
			Buckets: buckets,
		}, []string{"route", "method", "model", "version"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "modelhost_http_requests_in_flight",
			Help: "HTTP requests being answered now, by route pattern.",
		}, []string{"route"}),
		pluginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "modelhost_plugin_call_duration_seconds",
			Help:    "Time of one call into a model's plugin process (method predict or predict_batch), failed calls included.",
			Buckets: buckets,
		}, []string{"model", "version", "method"}),
		pluginErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelhost_plugin_call_errors_total",
			Help: "Calls into a model's plugin process that failed: the model's error, a timeout, or the plugin unavailable or crashing.",
		}, []string{"model", "version", "method"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "modelhost_queue_wait_seconds",
			Help:    "Time a prediction request waited for one of its model's concurrency slots before it got one (near zero when a slot was free).",
			Buckets: buckets,
		}, []string{"model", "version"}),
		queueRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelhost_queue_rejections_total",
			Help: "Prediction requests answered 429 by the concurrency limiter: reason queue_full when all slots and the queue were taken, queue_timeout when the wait for a slot ran out.",
		}, []string{"model", "version", "reason"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelhost_reloads_total",
			Help: "Reloads of the served models, by trigger (signal for SIGHUP, api for POST /admin/reload, watch for a plugin directory change) and result (success or failure).",
		}, []string{"trigger", "result"}),
		lastReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "modelhost_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful reload, or of start-up if there was none.",
		}),
		lastReloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "modelhost_last_reload_successful",
			Help: "1 if the last reload succeeded (or there was none), 0 if it failed and the host still serves the models it served before.",
		}),
	}
	m.lastReloadSuccess.SetToCurrentTime()
	m.lastReloadOK.Set(1)
	for _, trigger := range []string{TriggerSignal, TriggerAPI, TriggerWatch} {
		for _, result := range []string{ReloadSuccess, ReloadFailure} {
			m.reloads.WithLabelValues(trigger, result) // exported as 0 from the start, so that increase() sees the first one
		}
	}

	m.requestCache.newValue = func(k requestKey) requestMetrics {
		return requestMetrics{
			count:    m.requests.WithLabelValues(k.route, k.method, codeLabel(k.code), k.model, k.version),
			duration: m.requestDuration.WithLabelValues(k.route, k.method, k.model, k.version),
		}
	}
	m.inFlightCache.newValue = func(route string) inFlightMetric {
		g := m.inFlight.WithLabelValues(route)
		return inFlightMetric{gauge: g, done: g.Dec}
	}
	m.pluginCache.newValue = func(k pluginKey) pluginMetrics {
		return pluginMetrics{
			duration: m.pluginDuration.WithLabelValues(k.model, k.version, k.method),
			errors:   m.pluginErrors.WithLabelValues(k.model, k.version, k.method), // exported as 0 until the first error
		}
	}
	m.queueCache.newValue = func(k modelKey) prometheus.Observer {
		return m.queueWait.WithLabelValues(k.model, k.version)
	}
	m.rejectCache.newValue = func(k rejectKey) prometheus.Counter {
		return m.queueRejections.WithLabelValues(k.model, k.version, k.reason)
	}

	build := opts.Build
	if build.Version == "" {
		build.Version = "unknown"
	}
	if build.Revision == "" {
		build.Revision = "unknown"
	}
	if build.GoVersion == "" {
		build.GoVersion = runtime.Version()
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "modelhost_build_info",
		Help:        "Always 1; its labels say which build of modelhost runs.",
		ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "goversion": build.GoVersion},
	})
	buildInfo.Set(1)

	readMemory := opts.ReadMemory
	if readMemory == nil && runtime.GOOS == "linux" {
		readMemory = procstat.ResidentMemory
	}
	models := opts.Models
	if models == nil {
		models = func() []*registry.Entry { return nil }
	}

	reg.MustRegister(
		m.requests, m.requestDuration, m.inFlight,
		m.pluginDuration, m.pluginErrors,
		m.queueWait, m.queueRejections,
		m.reloads, m.lastReloadSuccess, m.lastReloadOK,
		buildInfo,
		newModelCollector(models, readMemory),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	var errorLog promhttp.Logger
	if opts.Logger != nil {
		errorLog = hclogErrors{opts.Logger}
	}
	m.handler = promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            errorLog,
		ErrorHandling:       promhttp.ContinueOnError, // a failing collector costs its metrics, not the scrape
		Registry:            reg,
		MaxRequestsInFlight: maxScrapes,
	}))
	return m
}

// hclogErrors logs the errors of promhttp's handler to an hclog.Logger.
type hclogErrors struct{ l hclog.Logger }

func (h hclogErrors) Println(v ...any) {
	h.l.Error("serving metrics", "error", fmt.Sprint(v...))
}

// Handler serves the metrics in Prometheus's text format (or protobuf if
// the scraper asks for it), gzip-compressed if the scraper accepts it. It
// serves at most a few scrapes at once and answers 503 beyond, and it
// counts its own scrapes in promhttp_metric_handler_requests_total.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Registry returns the registry that holds the metrics, for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest records one answered HTTP request: route is the Echo
// route pattern that matched (c.Path(), such as
// "/api/models/:name/predict"; "" if none did), model and version are
// those of the served model the request resolved to, or "" if it resolved
// to none (never a name the client sent that matches no model), code is
// the response's status and d is the time from receiving the request to
// finishing its response. The HTTP layer calls it once per request.
func (m *Metrics) ObserveRequest(route, method, model, version string, code int, d time.Duration) {
	if code < 100 || code > 999 {
		code = 0
	}
	r := m.requestCache.get(requestKey{route: route, method: methodLabel(method), model: model, version: version, code: code})
	r.count.Inc()
	r.duration.Observe(d.Seconds())
}

// RequestStarted counts a request to route (the Echo route pattern) as in
// flight until the returned done is called, which must happen exactly
// once, when its response is finished.
func (m *Metrics) RequestStarted(route string) (done func()) {
	r := m.inFlightCache.get(route)
	r.gauge.Inc()
	return r.done
}

// ObservePluginCall records one call into a model's plugin: method is
// PluginPredict or PluginPredictBatch, d is how long the call took, and
// err is what it returned; a non-nil err counts as a plugin call error.
func (m *Metrics) ObservePluginCall(model, version, method string, d time.Duration, err error) {
	p := m.pluginCache.get(pluginKey{model: model, version: version, method: method})
	p.duration.Observe(d.Seconds())
	if err != nil {
		p.errors.Inc()
	}
}

// ObserveQueueWait records that a prediction request for the model got a
// concurrency slot after waiting d for it. Call it for every request that
// passes through a limiter, with the wait near zero when a slot was free,
// so that the histogram also tells which share of requests waited.
func (m *Metrics) ObserveQueueWait(model, version string, d time.Duration) {
	m.queueCache.get(modelKey{model: model, version: version}).Observe(d.Seconds())
}

// QueueRejected records that the concurrency limiter turned a prediction
// request for the model away; reason is RejectQueueFull or
// RejectQueueTimeout.
func (m *Metrics) QueueRejected(model, version, reason string) {
	m.rejectCache.get(rejectKey{model: model, version: version, reason: reason}).Inc()
}

// ReloadDone records the end of a reload of the served models: trigger
// is TriggerSignal, TriggerAPI or TriggerWatch, and result is
// ReloadSuccess or ReloadFailure.
func (m *Metrics) ReloadDone(trigger, result string) {
	m.reloads.WithLabelValues(trigger, result).Inc()
	switch result {
	case ReloadSuccess:
		m.lastReloadSuccess.SetToCurrentTime()
		m.lastReloadOK.Set(1)
	case ReloadFailure:
		m.lastReloadOK.Set(0)
	}
}

// ForgetModel deletes the series of a model version that is no longer
// served, so that they stop being exported; the reload calls it for each
// model it removed. The model's state, restarts and memory need no such
// call: they are read from Options.Models at each scrape. An observation
// made while ForgetModel runs may be lost; any later one is exported again.
func (m *Metrics) ForgetModel(model, version string) {
	labels := prometheus.Labels{"model": model, "version": version}
	m.requestCache.forget(func(k requestKey) bool { return k.model == model && k.version == version }, func() {
		m.requests.DeletePartialMatch(labels)
		m.requestDuration.DeletePartialMatch(labels)
	})
	m.pluginCache.forget(func(k pluginKey) bool { return k.model == model && k.version == version }, func() {
		m.pluginDuration.DeletePartialMatch(labels)
		m.pluginErrors.DeletePartialMatch(labels)
	})
	m.queueCache.forget(func(k modelKey) bool { return k.model == model && k.version == version }, func() {
		m.queueWait.DeletePartialMatch(labels)
	})
	m.rejectCache.forget(func(k rejectKey) bool { return k.model == model && k.version == version }, func() {
		m.queueRejections.DeletePartialMatch(labels)
	})
}

// methodLabel returns method if it is a standard HTTP method, else
// "OTHER": a client may send any token as its method.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// codeLabel returns the status code as a label value; 0 stands for a code
// that is not one.
func codeLabel(code int) string {
	if code == 0 {
		return "unknown"
	}
	return strconv.Itoa(code)
}
