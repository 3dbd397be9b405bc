package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

type echoVersion struct {
	X float64 `json:"x"`
}

type versionAnswer struct {
	Version string `json:"version"`
}

// versionedAPI serves the model "m" at the given versions; each answers
// with its own version.
func versionedAPI(t *testing.T, opts Options, versions ...string) (*registry.Registry, *echo.Echo) {
	t.Helper()
	reg := registry.New()
	for _, v := range versions {
		m := sdk.NewModel(sdk.Info{QualifiedName: "m", DisplayName: "M", Version: v},
			func(context.Context, echoVersion) (versionAnswer, error) { return versionAnswer{Version: v}, nil })
		e, err := registry.NewEntry(m, "/plugins/m-"+v, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	return reg, New(reg, opts)
}

func answeredBy(t *testing.T, h *echo.Echo, path string) string {
	t.Helper()
	rec := request{http.MethodPost, path, "application/json", `{"x":1}`}.do(h)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST %s: status %d, body %s", path, rec.Code, rec.Body)
	}
	var a versionAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	return a.Version
}

func TestVersionedRoutes(t *testing.T) {
	reg, h := versionedAPI(t, Options{}, "1.0.0", "1.10.0", "1.9.0")

	if got := answeredBy(t, h, "/api/models/m/predict"); got != "1.10.0" {
		t.Errorf("/predict answered by %s, want the highest version 1.10.0", got)
	}
	for _, v := range []string{"1.0.0", "1.9.0", "1.10.0"} {
		if got := answeredBy(t, h, "/api/models/m/versions/"+v+"/predict"); got != v {
			t.Errorf("/versions/%s/predict answered by %s", v, got)
		}
	}
	reg.SetPins(map[string]string{"m": "1.0.0"})
	if got := answeredBy(t, h, "/api/models/m/predict"); got != "1.0.0" {
		t.Errorf("/predict with a pin answered by %s, want the pinned 1.0.0", got)
	}

	rec := request{http.MethodPost, "/api/models/m/versions/1.9.0/predict/batch", "application/json", `{"inputs":[{"x":1},{"x":2}]}`}.do(h)
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `"version":"1.9.0"`) != 2 {
		t.Errorf("batch on 1.9.0: status %d, body %s", rec.Code, rec.Body)
	}

	rec = request{method: http.MethodGet, path: "/api/models/m/versions/1.9.0/metadata"}.do(h)
	var meta ModelMetadata
	if err := json.Unmarshal(rec.Body.Bytes(), &meta); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("metadata: status %d, %v", rec.Code, err)
	}
	if meta.Version != "1.9.0" || meta.Default {
		t.Errorf("metadata of 1.9.0: version %s default %v", meta.Version, meta.Default)
	}

	rec = request{method: http.MethodGet, path: "/api/models"}.do(h)
	var list ModelList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range list.Models {
		s := m.QualifiedName + "@" + m.Version
		if m.Default {
			s += "*"
		}
		got = append(got, s)
	}
	if want := "m@1.10.0 m@1.9.0 m@1.0.0*"; strings.Join(got, " ") != want {
		t.Errorf("GET /api/models lists %v, want %s", got, want)
	}
}

func TestVersionNotFound(t *testing.T) {
	_, h := versionedAPI(t, Options{}, "1.0.0", "2.0.0")
	for _, path := range []string{
		"/api/models/m/versions/3.0.0/predict",
		"/api/models/m/versions/3.0.0/predict/batch",
	} {
		rec := request{http.MethodPost, path, "application/json", `{"x":1}`}.do(h)
		d := checkProblem(t, rec, path, http.StatusNotFound, problem.TypeModelVersionNotFound)
		if !strings.Contains(d.Detail, "2.0.0, 1.0.0") {
			t.Errorf("detail %q does not list the served versions", d.Detail)
		}
	}
	path := "/api/models/m/versions/3.0.0/metadata"
	checkProblem(t, request{method: http.MethodGet, path: path}.do(h), path, http.StatusNotFound, problem.TypeModelVersionNotFound)
	path = "/api/models/nope/versions/1.0.0/predict"
	checkProblem(t, request{http.MethodPost, path, "application/json", `{"x":1}`}.do(h), path, http.StatusNotFound, problem.TypeModelNotFound)
}

// TestRequestFollowsASwap: a request that looked the model up before a
// reload swapped it, and takes its lease after, goes to the new model.
func TestSwappedModelAnswers(t *testing.T) {
	reg, h := versionedAPI(t, Options{}, "1.0.0")
	old, _ := reg.Get("m")
	m := sdk.NewModel(sdk.Info{QualifiedName: "m", DisplayName: "M", Version: "1.0.0"},
		func(context.Context, echoVersion) (versionAnswer, error) { return versionAnswer{Version: "new"}, nil })
	next, err := registry.NewEntry(m, "/plugins/m-new", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Update([]*registry.Entry{old}, []*registry.Entry{next}); err != nil {
		t.Fatal(err)
	}
	if got := answeredBy(t, h, "/api/models/m/predict"); got != "new" {
		t.Errorf("answered by %s, want the new model", got)
	}
	if n := old.Leases(); n != 0 {
		t.Errorf("old entry has %d leases", n)
	}
	if n := next.Leases(); n != 0 {
		t.Errorf("new entry has %d leases after the request, want 0 (released)", n)
	}
}

func TestObserverAndAccessLog(t *testing.T) {
	obs := &recorder{}
	var logs strings.Builder
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info, JSONFormat: true})
	_, h := versionedAPI(t, Options{Observer: obs, AccessLog: true, Logger: logger}, "1.0.0")
	answeredBy(t, h, "/api/models/m/predict")
	request{http.MethodPost, "/api/models/unknown/predict", "application/json", `{}`}.do(h)

	if n := obs.count("start /api/models/:name/predict"); n != 2 {
		t.Errorf("observer told of %d request starts, want 2", n)
	}
	for _, line := range []string{
		"call m 1.0.0 predict false",
		"done /api/models/:name/predict POST m 1.0.0 200",
		// An unknown model is not a label value: clients choose names.
		"done /api/models/:name/predict POST   404",
	} {
		if obs.count(line) != 1 {
			t.Errorf("observer was not told %q once; it was told %q", line, obs.lines)
		}
	}
	var found bool
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["@message"] == "request" && rec["model"] == "m" {
			found = true
			for _, k := range []string{"method", "path", "status", "duration", "request_id", "version"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("access log line lacks %q: %s", k, l)
				}
			}
		}
	}
	if !found {
		t.Errorf("no access log line for the prediction in:\n%s", logs.String())
	}
}

// leaseChecker is an Observer that records, when it is told of a request,
// how many leases the model version it names holds.
type leaseChecker struct {
	nopObserver
	reg    *registry.Registry
	mu     sync.Mutex
	leases []string
}

func (l *leaseChecker) ObserveRequest(route, method, model, version string, code int, _ time.Duration) {
	n := -1
	if e, err := l.reg.GetVersion(model, version); err == nil {
		n = e.Leases()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leases = append(l.leases, fmt.Sprintf("%s %s %d: %d", method, route, code, n))
}

// TestLeaseOutlivesObservation: a request keeps its lease on the model it
// reached until it has been counted, so that a reload, which forgets the
// metrics of a retired version once its leases end, cannot count it after
// that and export the version's series again.
func TestLeaseOutlivesObservation(t *testing.T) {
	obs := &leaseChecker{}
	reg, h := versionedAPI(t, Options{Observer: obs}, "1.0.0")
	obs.reg = reg
	request{http.MethodPost, "/api/models/m/predict", "application/json", `{"x":1}`}.do(h)
	request{http.MethodPost, "/api/models/m/predict", "application/json", `{"x":"not a number"}`}.do(h)
	request{http.MethodPost, "/api/models/m/predict/batch", "application/json", `{"inputs":[{"x":1}]}`}.do(h)
	request{method: http.MethodGet, path: "/api/models/m/metadata"}.do(h)
	want := []string{
		"POST /api/models/:name/predict 200: 1",
		"POST /api/models/:name/predict 422: 1",
		"POST /api/models/:name/predict/batch 200: 1",
		"GET /api/models/:name/metadata 200: 1",
	}
	if got := strings.Join(obs.leases, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("leases held while each request was counted:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	e, _ := reg.GetVersion("m", "1.0.0")
	if n := e.Leases(); n != 0 {
		t.Errorf("%d leases left after the requests, want 0", n)
	}
}
