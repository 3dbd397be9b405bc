package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// scrape reads GET /metrics and parses it.
func scrape(t *testing.T, host *hosttest.Host) map[string]*dto.MetricFamily {
	t.Helper()
	res := host.Get(t, "/metrics")
	if res.Status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET /metrics: Content-Type %q, want Prometheus text", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatalf("GET /metrics: not Prometheus text: %v\n%s", err, res.Body)
	}
	return fams
}

// series returns the series of the metric name whose labels have the
// values in labels (a label the series lacks has the value "").
func series(fams map[string]*dto.MetricFamily, name string, labels map[string]string) []*dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if match {
			out = append(out, m)
		}
	}
	return out
}

// value is the value of a counter, gauge or untyped series, or the count
// of a histogram or summary.
func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Summary != nil:
		return float64(m.Summary.GetSampleCount())
	default:
		return m.GetUntyped().GetValue()
	}
}

// metricValue sums the values of the series that series selects: 0 when
// there is none, as Prometheus reads an absent counter.
func metricValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	var sum float64
	for _, m := range series(fams, name, labels) {
		sum += value(m)
	}
	return sum
}

// TestMetricsMatchTraffic sends a known mix of requests and checks that
// /metrics counts exactly those.
func TestMetricsMatchTraffic(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	hosttest.Copy(t, testmodelAt(t, "1.0.0"), filepath.Join(dir, "testmodel"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), fmt.Sprintf(`
plugins {
  directory               = %q
  watch                   = false
  restart_backoff_initial = "100ms"
}
log {
  level  = "info"
  format = "json"
}
`, dir))

	const ok, invalid, unknown, testOK, testFail = 37, 5, 3, 4, 2
	valid := []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)
	bad := []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":-3}`)
	send := func(n int, path string, body []byte, status int) {
		t.Helper()
		for range n {
			if res := host.Post(t, path, "application/json", body); res.Status != status {
				t.Fatalf("POST %s %s: %d %s, want %d", path, body, res.Status, res.Body, status)
			}
		}
	}
	send(ok, "/api/models/iris_model/predict", valid, http.StatusOK)
	send(invalid, "/api/models/iris_model/predict", bad, http.StatusUnprocessableEntity)
	send(unknown, "/api/models/no_such_model/predict", valid, http.StatusNotFound)
	send(testOK, "/api/models/testmodel/predict", []byte(`{"action":"echo","message":"hi"}`), http.StatusOK)
	send(testFail, "/api/models/testmodel/predict", []byte(`{"action":"fail"}`), http.StatusInternalServerError)

	fams := scrape(t, host)
	const predict = "/api/models/:name/predict"
	iris := map[string]string{"model": "iris_model", "version": "1.0.0"}
	test := map[string]string{"model": "testmodel", "version": "1.0.0"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	checks := []struct {
		what   string
		name   string
		labels map[string]string
		want   float64
	}{
		{"iris 200", "modelhost_http_requests_total", with(iris, "route", predict, "method", "POST", "code", "200"), ok},
		{"iris 422", "modelhost_http_requests_total", with(iris, "route", predict, "method", "POST", "code", "422"), invalid},
		{"unknown 404", "modelhost_http_requests_total", map[string]string{"route": predict, "method": "POST", "code": "404", "model": "", "version": ""}, unknown},
		{"testmodel 200", "modelhost_http_requests_total", with(test, "route", predict, "code", "200"), testOK},
		{"testmodel 500", "modelhost_http_requests_total", with(test, "route", predict, "code", "500"), testFail},
		{"iris request durations", "modelhost_http_request_duration_seconds", with(iris, "route", predict, "method", "POST"), ok + invalid},
		{"iris plugin calls", "modelhost_plugin_call_duration_seconds", with(iris, "method", "predict"), ok},
		{"iris plugin errors", "modelhost_plugin_call_errors_total", iris, 0},
		{"testmodel plugin calls", "modelhost_plugin_call_duration_seconds", with(test, "method", "predict"), testOK + testFail},
		{"testmodel plugin errors", "modelhost_plugin_call_errors_total", with(test, "method", "predict"), testFail},
		{"models", "modelhost_models", nil, 2},
		{"iris up", "modelhost_model_up", iris, 1},
		{"testmodel up", "modelhost_model_up", test, 1},
		{"iris ready", "modelhost_model_status", with(iris, "status", "ready"), 1},
		{"iris failed", "modelhost_model_status", with(iris, "status", "failed"), 0},
		{"iris restarts", "modelhost_plugin_restarts_total", iris, 0},
		{"testmodel restarts", "modelhost_plugin_restarts_total", test, 0},
		{"reloads", "modelhost_reloads_total", nil, 0},
		{"last reload ok", "modelhost_last_reload_successful", nil, 1},
		{"build info", "modelhost_build_info", nil, 1},
	}
	for _, c := range checks {
		if got := metricValue(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s: %s%v = %v, want %v", c.what, c.name, c.labels, got, c.want)
		}
	}
	// Series that must exist, whatever their value.
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"modelhost_model_up", iris},
		{"modelhost_plugin_restarts_total", iris},
		{"modelhost_build_info", nil},
		{"modelhost_last_reload_success_timestamp_seconds", nil},
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
	} {
		if len(series(fams, c.name, c.labels)) == 0 {
			t.Errorf("no series %s%v", c.name, c.labels)
		}
	}
	if bi := series(fams, "modelhost_build_info", nil); len(bi) == 1 {
		for _, l := range bi[0].GetLabel() {
			if l.GetName() == "goversion" && !strings.HasPrefix(l.GetValue(), "go") {
				t.Errorf("modelhost_build_info goversion = %q", l.GetValue())
			}
		}
	}
	rss := map[string]float64{}
	for _, labels := range []map[string]string{iris, test} {
		s := series(fams, "modelhost_plugin_resident_memory_bytes", labels)
		if len(s) != 1 || value(s[0]) <= 0 {
			t.Errorf("modelhost_plugin_resident_memory_bytes%v = %v, want one series > 0", labels, s)
			continue
		}
		rss[labels["model"]] = value(s[0])
	}
	// A model name a client invents makes no series.
	if s := series(fams, "modelhost_http_requests_total", map[string]string{"model": "no_such_model"}); len(s) != 0 {
		t.Errorf("series for a model that is not served: %v", s)
	}
	summary := fmt.Sprintf("metrics: sent iris %d×200 %d×422, unknown model %d×404, testmodel %d×200 %d×500; scraped http_requests_total %v/%v/%v/%v/%v, iris plugin calls %v, testmodel plugin calls %v (errors %v), model_up iris %v testmodel %v, restarts %v/%v, plugin RSS iris %.1f MiB testmodel %.1f MiB",
		ok, invalid, unknown, testOK, testFail,
		metricValue(t, fams, "modelhost_http_requests_total", with(iris, "route", predict, "code", "200")),
		metricValue(t, fams, "modelhost_http_requests_total", with(iris, "route", predict, "code", "422")),
		metricValue(t, fams, "modelhost_http_requests_total", map[string]string{"route": predict, "code": "404", "model": ""}),
		metricValue(t, fams, "modelhost_http_requests_total", with(test, "route", predict, "code", "200")),
		metricValue(t, fams, "modelhost_http_requests_total", with(test, "route", predict, "code", "500")),
		metricValue(t, fams, "modelhost_plugin_call_duration_seconds", iris),
		metricValue(t, fams, "modelhost_plugin_call_duration_seconds", test),
		metricValue(t, fams, "modelhost_plugin_call_errors_total", test),
		metricValue(t, fams, "modelhost_model_up", iris), metricValue(t, fams, "modelhost_model_up", test),
		metricValue(t, fams, "modelhost_plugin_restarts_total", iris), metricValue(t, fams, "modelhost_plugin_restarts_total", test),
		rss["iris_model"]/(1<<20), rss["testmodel"]/(1<<20))
	t.Log(summary)
	fmt.Println(summary)

	// A crash shows in the restarts and, once relaunched, the model is
	// up again.
	if res := host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"exit"}`)); res.Status < 500 {
		t.Fatalf("exit: %d %s", res.Status, res.Body)
	}
	waitState(t, host, "testmodel", 30*time.Second, func(s modelState) bool { return s.Status == "ready" && s.Restarts == 1 })
	fams = scrape(t, host)
	if got := metricValue(t, fams, "modelhost_plugin_restarts_total", test); got != 1 {
		t.Errorf("after a crash: restarts of testmodel = %v, want 1", got)
	}
	if got := metricValue(t, fams, "modelhost_model_up", test); got != 1 {
		t.Errorf("after the relaunch: model_up of testmodel = %v, want 1", got)
	}
	if got := metricValue(t, fams, "modelhost_plugin_restarts_total", iris); got != 0 {
		t.Errorf("after testmodel's crash: restarts of iris = %v, want 0", got)
	}
}
