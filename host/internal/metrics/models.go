package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelhost/modelhost/host/internal/registry"
)

// modelCollector exports the served models' live state. It keeps no
// series of its own: at each scrape it lists the models and asks each for
// its health, so that a model that is no longer served disappears from the
// next scrape, and no code has to keep gauges in step with the registry.
type modelCollector struct {
	models     func() []*registry.Entry
	readMemory func(pid int) (int64, error) // nil: memory is not exported
	// statuses are the states of modelhost_model_status, exported 0 or 1
	// for every model.
	statuses []registry.Status

	count, up, status, restarts, memory *prometheus.Desc
}

func newModelCollector(models func() []*registry.Entry, readMemory func(int) (int64, error)) *modelCollector {
	mv := []string{"model", "version"}
	return &modelCollector{
		models:     models,
		readMemory: readMemory,
		statuses: []registry.Status{
			registry.StatusReady, registry.StatusStarting, registry.StatusRestarting,
			registry.StatusFailed, registry.StatusStopping,
		},
		count: prometheus.NewDesc("modelhost_models",
			"Model versions served now, whatever their state.", nil, nil),
		up: prometheus.NewDesc("modelhost_model_up",
			"1 if the model's plugin is ready to answer predictions, 0 if it is starting, restarting, failed or stopping.", mv, nil),
		status: prometheus.NewDesc("modelhost_model_status",
			"The model's state: 1 for the series whose status label is the current state, 0 for the others.",
			[]string{"model", "version", "status"}, nil),
		restarts: prometheus.NewDesc("modelhost_plugin_restarts_total",
			"Launches of the model's plugin after the first, that is, relaunches after the plugin crashed or exited.", mv, nil),
		memory: prometheus.NewDesc("modelhost_plugin_resident_memory_bytes",
			"Resident memory (RSS) of the process that runs the model's plugin; absent while no process runs.", mv, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *modelCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.count
	ch <- c.up
	ch <- c.status
	ch <- c.restarts
	ch <- c.memory
}

// Collect implements prometheus.Collector.
func (c *modelCollector) Collect(ch chan<- prometheus.Metric) {
	entries := c.models()
	// A name and version served twice would make the registry reject the
	// whole scrape for repeated series; export the first only.
	seen := make(map[modelKey]struct{}, len(entries))
	for _, e := range entries {
		k := modelKey{model: e.Info.QualifiedName, version: e.Info.Version}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		h := e.Health()
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, boolValue(h.Status == registry.StatusReady), k.model, k.version)
		known := false
		for _, s := range c.statuses {
			known = known || s == h.Status
			ch <- prometheus.MustNewConstMetric(c.status, prometheus.GaugeValue, boolValue(s == h.Status), k.model, k.version, string(s))
		}
		if !known { // a state added to the registry after this list
			s := string(h.Status)
			if s == "" {
				s = "unknown"
			}
			ch <- prometheus.MustNewConstMetric(c.status, prometheus.GaugeValue, 1, k.model, k.version, s)
		}
		ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(h.Restarts), k.model, k.version)
		if c.readMemory != nil && h.PID > 0 {
			// The process may have exited since Health; then there is
			// nothing to report.
			if rss, err := c.readMemory(h.PID); err == nil {
				ch <- prometheus.MustNewConstMetric(c.memory, prometheus.GaugeValue, float64(rss), k.model, k.version)
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(len(seen)))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
