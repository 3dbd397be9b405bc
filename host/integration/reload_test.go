package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// testmodelAt builds the test model at version (its main.version).
func testmodelAt(t *testing.T, version string) string {
	t.Helper()
	return builder.BuildWith(t, "./host/integration/testdata/testmodel", map[string]string{"main.version": version})
}

// install puts the binary src into dir under name as operators are told
// to: copied under a dot name (which the watcher ignores), made
// executable, and renamed into place in one atomic step.
func install(t *testing.T, src, dir, name string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	hosttest.Copy(t, src, tmp, 0o755)
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, or fails the test after timeout.
// Timeouts are generous: they bound a hang, they measure nothing.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitGone waits until the process pid has exited.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%s (pid %d) to exit", what, pid), func() bool { return hosttest.ProcessGone(pid) })
}

// sighup sends SIGHUP to the host once it serves HTTP. The modelhost
// command starts handling SIGHUP only after the server has started (after
// it logged "host ready"), and a SIGHUP before that kills it (exit status
// 129); a request that got an answer proves that the server loop, which
// starts after the signal handler, runs.
func sighup(t *testing.T, host *hosttest.Host) {
	t.Helper()
	if res := host.Get(t, "/healthz"); res.Status != http.StatusOK {
		t.Fatalf("/healthz = %d before SIGHUP", res.Status)
	}
	host.Send(t, syscall.SIGHUP)
}

// findLog returns the host's first log line that match accepts, or nil.
func findLog(host *hosttest.Host, match func(l map[string]any) bool) map[string]any {
	for _, l := range host.LogLines() {
		if match(l) {
			return l
		}
	}
	return nil
}

// waitLog waits until the host logs a line that match accepts, and
// returns it.
func waitLog(t *testing.T, host *hosttest.Host, what string, match func(l map[string]any) bool) map[string]any {
	t.Helper()
	var line map[string]any
	waitFor(t, 30*time.Second, "a log line: "+what, func() bool {
		line = findLog(host, match)
		return line != nil
	})
	return line
}

// message matches log lines with the message msg.
func message(msg string) func(map[string]any) bool {
	return func(l map[string]any) bool { return l["@message"] == msg }
}

// metadata is the part of a model's metadata (or of an item of
// GET /api/models) that these tests look at.
type metadata struct {
	Name     string `json:"qualified_name"`
	Version  string `json:"version"`
	Status   string `json:"status"`
	PID      int    `json:"pid"`
	Restarts int    `json:"restarts"`
	Default  bool   `json:"default"`
}

// metadataAt returns GET path (a metadata URL) decoded, or a zero
// metadata and the status if it is not 200.
func metadataAt(t *testing.T, host *hosttest.Host, path string) (metadata, int) {
	t.Helper()
	res := host.Get(t, path)
	var m metadata
	if res.Status == http.StatusOK {
		if err := json.Unmarshal(res.Body, &m); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, res.Body)
		}
	}
	return m, res.Status
}

// listModels returns GET /api/models.
func listModels(t *testing.T, host *hosttest.Host) []metadata {
	t.Helper()
	res := host.Get(t, "/api/models")
	wantStatus(t, res, http.StatusOK, "application/json")
	var list struct {
		Models []metadata `json:"models"`
	}
	if err := json.Unmarshal(res.Body, &list); err != nil {
		t.Fatal(err)
	}
	return list.Models
}

// predictVersion asks the test model at path for its version.
func predictVersion(t *testing.T, host *hosttest.Host, path string) (string, *hosttest.Response) {
	t.Helper()
	res := host.Post(t, path, "application/json", []byte(`{"action":"version"}`))
	if res.Status != http.StatusOK {
		return "", res
	}
	var out struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(res.Body, &out); err != nil {
		t.Fatalf("POST %s: %v\n%s", path, err, res.Body)
	}
	return out.Message, res
}

// readiness is the answer to GET /readyz.
type readiness struct {
	Ready  bool   `json:"ready"`
	Reason string `json:"reason"`
	Models []struct {
		Model   string    `json:"model"`
		Version string    `json:"version"`
		Status  string    `json:"status"`
		Since   time.Time `json:"since"`
	} `json:"models"`
	Failed []struct {
		Plugin      string    `json:"plugin"`
		Path        string    `json:"path"`
		Origin      string    `json:"origin"`
		Error       string    `json:"error"`
		KeptRunning bool      `json:"kept_running"`
		At          time.Time `json:"at"`
	} `json:"failed"`
}

func readyz(t *testing.T, host *hosttest.Host) (readiness, *hosttest.Response) {
	t.Helper()
	res := host.Get(t, "/readyz")
	var r readiness
	if err := json.Unmarshal(res.Body, &r); err != nil {
		t.Fatalf("GET /readyz: %v\n%s", err, res.Body)
	}
	if want := res.Status == http.StatusOK; r.Ready != want {
		t.Errorf("GET /readyz: status %d with ready=%v", res.Status, r.Ready)
	}
	return r, res
}

// versionLoad posts {"action":"version"} to one URL from several
// goroutines until stopped, and counts the answers by version.
type versionLoad struct {
	url    string
	client *http.Client
	stop   chan struct{}
	wg     sync.WaitGroup

	// expect, once set, is the only version that may answer requests
	// sent after since: the older process is gone by then.
	expect atomic.Pointer[expectation]

	mu        sync.Mutex
	total     int
	byVersion map[string]int
	byStatus  map[int]int // answers other than 200
	errors    int         // transport errors
	firstErr  string      // the first failure, for the report
	stale     int         // answers from a version other than expect's
	last      string      // version of the last answer recorded
	changes   []change    // when the answering version changed
}

type expectation struct {
	version string
	since   time.Time
}

type change struct {
	at      time.Time
	version string
}

func startVersionLoad(url string, workers int) *versionLoad {
	l := &versionLoad{
		url: url,
		// As many idle connections as workers: the default two would
		// make the workers dial again and again.
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: workers,
			MaxConnsPerHost:     workers,
		}},
		stop:      make(chan struct{}),
		byVersion: map[string]int{},
		byStatus:  map[int]int{},
	}
	for range workers {
		l.wg.Go(l.work)
	}
	return l
}

func (l *versionLoad) work() {
	body := []byte(`{"action":"version"}`)
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		sent := time.Now()
		res, err := l.client.Post(l.url, "application/json", bytes.NewReader(body))
		status, version := 0, ""
		if err == nil {
			b, rerr := io.ReadAll(res.Body)
			res.Body.Close()
			status = res.StatusCode
			var out struct {
				Message string `json:"message"`
			}
			switch {
			case rerr != nil:
				err = rerr
			case status == http.StatusOK && json.Unmarshal(b, &out) != nil:
				err = fmt.Errorf("200 with a body that is not the model's output: %s", b)
			case status == http.StatusOK:
				version = out.Message
			default:
				err = fmt.Errorf("status %d: %s", status, b)
			}
		}
		l.mu.Lock()
		l.total++
		switch {
		case err != nil && status == 0:
			l.errors++
		case err != nil:
			l.byStatus[status]++
		default:
			l.byVersion[version]++
			if l.last != version {
				l.changes = append(l.changes, change{at: time.Now(), version: version})
				l.last = version
			}
			if e := l.expect.Load(); e != nil && sent.After(e.since) && version != e.version {
				l.stale++
			}
		}
		if err != nil && l.firstErr == "" {
			l.firstErr = err.Error()
		}
		l.mu.Unlock()
		if err != nil {
			time.Sleep(10 * time.Millisecond) // do not spin on failures
		}
	}
}

// answered returns how many answers came back so far.
func (l *versionLoad) answered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// firstAnswerAfter returns when version first answered after since (the
// moment its answer was counted), and whether it has.
func (l *versionLoad) firstAnswerAfter(version string, since time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.changes {
		if c.version == version && c.at.After(since) {
			return c.at, true
		}
	}
	return time.Time{}, false
}

// end stops the load and waits for the workers.
func (l *versionLoad) end() {
	close(l.stop)
	l.wg.Wait()
	l.client.CloseIdleConnections()
}

// failed returns the number of requests that did not get a 200.
func (l *versionLoad) failed() int {
	n := l.errors
	for _, c := range l.byStatus {
		n += c
	}
	return n
}

// swapUnderLoad runs the test of a replacement under load: the test model
// answers at 1.0.0, swapTo(v) makes the host replace it by the binary of
// version v, and the test checks that not one request of the load fails,
// that the answers switch to v, and that each old process goes. It
// returns the summary line.
func swapUnderLoad(t *testing.T, host *hosttest.Host, how string, swapTo func(version string)) string {
	const workers = 8
	const meta = "/api/models/testmodel/metadata"
	first, status := metadataAt(t, host, meta)
	if status != http.StatusOK || first.Version != "1.0.0" || first.PID == 0 {
		t.Fatalf("before the swap: testmodel = %+v (status %d), want 1.0.0 with a PID", first, status)
	}
	load := startVersionLoad(host.URL+"/api/models/testmodel/predict", workers)
	defer func() {
		select {
		case <-load.stop:
		default:
			load.end()
		}
	}()
	waitFor(t, 30*time.Second, "the load to get answers", func() bool { return load.answered() >= 100 })

	pids := []int{first.PID}
	var visible []time.Duration
	for _, to := range []string{"2.0.0", "1.0.0"} {
		old := pids[len(pids)-1]
		load.expect.Store(nil) // both versions may answer during the swap
		swapped := time.Now()
		swapTo(to)
		var seen time.Time
		waitFor(t, 60*time.Second, "answers from "+to, func() bool {
			var ok bool
			seen, ok = load.firstAnswerAfter(to, swapped)
			return ok
		})
		visible = append(visible, seen.Sub(swapped))
		var now metadata
		waitFor(t, 30*time.Second, "the metadata to show "+to+" in a new process", func() bool {
			now, status = metadataAt(t, host, meta)
			return status == http.StatusOK && now.Version == to && now.PID != 0 && now.PID != old
		})
		pids = append(pids, now.PID)
		waitGone(t, old, "the replaced plugin")
		// Requests sent from now on can only reach the new process.
		load.expect.Store(&expectation{version: to, since: time.Now()})
		before := load.answered()
		time.Sleep(time.Second) // steady load on the new process
		waitFor(t, 30*time.Second, "answers after the swap", func() bool { return load.answered() > before+50 })
	}
	load.end()

	if !host.Running() {
		t.Fatal("the host exited")
	}
	if load.failed() != 0 {
		t.Errorf("%d of %d requests failed (%d transport errors, statuses %v); first: %s",
			load.failed(), load.total, load.errors, load.byStatus, load.firstErr)
	}
	if load.stale != 0 {
		t.Errorf("%d requests sent after the old process had exited were answered by another version than the new one", load.stale)
	}
	if load.byVersion["1.0.0"] == 0 || load.byVersion["2.0.0"] == 0 || len(load.byVersion) != 2 {
		t.Errorf("answers by version = %v, want both 1.0.0 and 2.0.0 and nothing else", load.byVersion)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(pids))); len(distinct) != 3 {
		t.Errorf("plugin PIDs %v, want three distinct processes", pids)
	}
	for _, pid := range pids[:2] {
		if !hosttest.ProcessGone(pid) {
			t.Errorf("replaced plugin %d still runs", pid)
		}
	}
	if hosttest.ProcessGone(pids[2]) {
		t.Errorf("the serving plugin %d is gone", pids[2])
	}
	if v, _ := predictVersion(t, host, "/api/models/testmodel/predict"); v != "1.0.0" {
		t.Errorf("after swapping back, testmodel answers %q, want 1.0.0", v)
	}
	return fmt.Sprintf("replace under load (%s, %d workers): %d requests, %d failed, answered by 1.0.0: %d, 2.0.0: %d; swap visible after %d ms (to 2.0.0), %d ms (back to 1.0.0)",
		how, workers, load.total, load.failed(), load.byVersion["1.0.0"], load.byVersion["2.0.0"],
		visible[0].Milliseconds(), visible[1].Milliseconds())
}

// watchConfig watches dir with a short debounce.
func watchConfig(dir, extra string) string { return watchConfigWith(dir, "", extra) }

// watchConfigWith is watchConfig with more arguments in the plugins
// block.
func watchConfigWith(dir, plugins, extra string) string {
	return fmt.Sprintf(`
plugins {
  directory      = %q
  watch          = true
  watch_debounce = "200ms"
  start_timeout  = "30s"
  %s
}
log {
  level  = "info"
  format = "json"
  access = false
}
%s`, dir, plugins, extra)
}

// TestReplaceUnderLoad replaces the test model's binary in the watched
// plugin directory, 1.0.0 by 2.0.0 and back, while 8 clients keep
// predicting: not one request may fail.
func TestReplaceUnderLoad(t *testing.T) {
	v1, v2 := testmodelAt(t, "1.0.0"), testmodelAt(t, "2.0.0")
	dir := t.TempDir()
	hosttest.Copy(t, v1, filepath.Join(dir, "testmodel"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), watchConfig(dir, ""))
	bins := map[string]string{"1.0.0": v1, "2.0.0": v2}

	summary := swapUnderLoad(t, host, "rename into the watched directory", func(version string) {
		install(t, bins[version], dir, "testmodel")
	})
	t.Log(summary)
	fmt.Println(summary)

	fams := scrape(t, host)
	if n := metricValue(t, fams, "modelhost_reloads_total", map[string]string{"trigger": "watch", "result": "success"}); n < 2 {
		t.Errorf("modelhost_reloads_total{trigger=watch,result=success} = %v, want at least 2 (one per replacement)", n)
	}
	if n := metricValue(t, fams, "modelhost_reloads_total", map[string]string{"result": "failure"}); n != 0 {
		t.Errorf("modelhost_reloads_total{result=failure} = %v, want 0", n)
	}
	replaced := 0
	for _, l := range host.LogLines() {
		if l["@message"] == "model replaced; draining the old process" && l["model"] == "testmodel" {
			replaced++
		}
	}
	if replaced != 2 {
		t.Errorf("%d \"model replaced\" log lines, want 2", replaced)
	}
}

// TestReplaceUnderLoadSIGHUP swaps a model block's command from the
// 1.0.0 binary to the 2.0.0 one and back, with SIGHUP, under load.
func TestReplaceUnderLoadSIGHUP(t *testing.T) {
	bins := map[string]string{"1.0.0": testmodelAt(t, "1.0.0"), "2.0.0": testmodelAt(t, "2.0.0")}
	config := func(version string) string {
		return fmt.Sprintf(`
plugins {
  directory     = ""
  start_timeout = "30s"
}
model "testmodel" {
  command = %q
}
log {
  level  = "info"
  format = "json"
  access = false
}
`, bins[version])
	}
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), config("1.0.0"))

	summary := swapUnderLoad(t, host, "SIGHUP with a model block's command changed", func(version string) {
		write(t, filepath.Join(host.Dir, "config.hcl"), config(version), 0o644)
		sighup(t, host)
	})
	t.Log(summary)
	fmt.Println(summary)

	fams := scrape(t, host)
	if n := metricValue(t, fams, "modelhost_reloads_total", map[string]string{"trigger": "signal", "result": "success"}); n != 2 {
		t.Errorf("modelhost_reloads_total{trigger=signal,result=success} = %v, want 2", n)
	}
}

// TestDropAndRemovePlugin deploys a model by dropping its binary into the
// watched directory, and retires it by removing the binary.
func TestDropAndRemovePlugin(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), watchConfig(dir, ""))
	iris := []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)
	irisPID := stateOf(t, host, "iris_model").PID

	if res := host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"version"}`)); res.Status != http.StatusNotFound {
		t.Fatalf("before the drop: testmodel answers %d, want 404", res.Status)
	}
	dropped := time.Now()
	install(t, testmodelAt(t, "1.0.0"), dir, "testmodel")
	waitFor(t, 60*time.Second, "testmodel in GET /api/models", func() bool {
		for _, m := range listModels(t, host) {
			if m.Name == "testmodel" && m.Status == "ready" {
				return true
			}
		}
		return false
	})
	served := time.Since(dropped)
	v, res := predictVersion(t, host, "/api/models/testmodel/predict")
	if res.Status != http.StatusOK || v != "1.0.0" {
		t.Fatalf("dropped testmodel answers %d %s, want 200 with version 1.0.0", res.Status, res.Body)
	}
	pid := stateOf(t, host, "testmodel").PID
	if pid == 0 {
		t.Fatal("dropped testmodel has no PID")
	}
	var names []string
	for _, m := range listModels(t, host) {
		names = append(names, m.Name+"@"+m.Version)
	}
	if got, want := strings.Join(names, ","), "iris_model@1.0.0,testmodel@1.0.0"; got != want {
		t.Errorf("models = %s, want %s", got, want)
	}

	removed := time.Now()
	if err := os.Remove(filepath.Join(dir, "testmodel")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "testmodel to answer 404", func() bool {
		return host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"version"}`)).Status == http.StatusNotFound
	})
	unserved := time.Since(removed)
	p := wantProblem(t, host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(`{"action":"version"}`)), http.StatusNotFound)
	if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "#model-not-found") {
		t.Errorf("problem type %q, want …#model-not-found", typ)
	}
	waitGone(t, pid, "the removed plugin")
	for _, m := range listModels(t, host) {
		if m.Name == "testmodel" {
			t.Errorf("testmodel still listed after its binary was removed: %+v", m)
		}
	}
	// iris was never touched.
	wantStatus(t, host.Post(t, "/api/models/iris_model/predict", "application/json", iris), http.StatusOK, "application/json")
	if now := stateOf(t, host, "iris_model").PID; now != irisPID {
		t.Errorf("iris_model PID %d → %d: the reloads restarted a plugin that did not change", irisPID, now)
	}
	if l := findLog(host, message("plugin removed; draining and stopping it")); l == nil || l["model"] != "testmodel" {
		t.Errorf("no log line says testmodel was removed (got %v)", l)
	}
	n := metricValue(t, scrape(t, host), "modelhost_reloads_total", map[string]string{"trigger": "watch", "result": "success"})
	if n < 2 {
		t.Errorf("modelhost_reloads_total{trigger=watch,result=success} = %v, want at least 2", n)
	}
	summary := fmt.Sprintf("drop and remove: testmodel served %d ms after the rename into the directory, 404 %d ms after its removal; %v watch reloads",
		served.Milliseconds(), unserved.Milliseconds(), n)
	t.Log(summary)
	fmt.Println(summary)
}

// TestBrokenReplacement replaces a serving binary by one that exits at
// start: the old process keeps serving and the failure is reported; a
// good binary then heals it.
func TestBrokenReplacement(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, testmodelAt(t, "1.0.0"), filepath.Join(dir, "testmodel"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), watchConfig(dir, ""))
	before := stateOf(t, host, "testmodel")
	r, res := readyz(t, host)
	if res.Status != http.StatusOK || len(r.Models) != 1 || r.Models[0].Model != "testmodel" || r.Models[0].Version != "1.0.0" || r.Models[0].Status != "ready" || len(r.Failed) != 0 {
		t.Fatalf("/readyz before the broken replacement: %d %s", res.Status, res.Body)
	}

	install(t, builder.Build(t, "./host/integration/testdata/exitatstart"), dir, "testmodel")
	line := waitLog(t, host, "the failed replacement", func(l map[string]any) bool {
		return l["@message"] == "new plugin process not started; the old one keeps serving" && l["plugin"] == "testmodel"
	})
	if l, _ := line["@level"].(string); l != "error" {
		t.Errorf("failed replacement logged at %q, want error", l)
	}
	waitFor(t, 30*time.Second, "the failure in /readyz", func() bool {
		r, _ := readyz(t, host)
		return len(r.Failed) == 1
	})
	r, res = readyz(t, host)
	f := r.Failed[0]
	if f.Plugin != "testmodel" || !f.KeptRunning || f.Error == "" || f.At.IsZero() || f.Path != filepath.Join(dir, "testmodel") {
		t.Errorf("failed = %+v, want testmodel kept running, with an error and a time", f)
	}
	// The old process serves on, so the host stays ready (docs/operations.md:
	// "A replacement that failed while the old process keeps serving never
	// makes the host unready").
	if res.Status != http.StatusOK {
		t.Errorf("/readyz = %d %s, want 200: the old process keeps serving", res.Status, res.Body)
	}
	v, pres := predictVersion(t, host, "/api/models/testmodel/predict")
	if pres.Status != http.StatusOK || v != "1.0.0" {
		t.Errorf("after the broken replacement testmodel answers %d %s, want 200 from 1.0.0", pres.Status, pres.Body)
	}
	if now := stateOf(t, host, "testmodel"); now.PID != before.PID || now.Status != "ready" {
		t.Errorf("testmodel = %+v, want still ready in process %d", now, before.PID)
	}
	failures := metricValue(t, scrape(t, host), "modelhost_reloads_total", map[string]string{"trigger": "watch", "result": "failure"})
	if failures < 1 {
		t.Errorf("modelhost_reloads_total{trigger=watch,result=failure} = %v, want at least 1", failures)
	}
	if v := metricValue(t, scrape(t, host), "modelhost_last_reload_successful", nil); v != 0 {
		t.Errorf("modelhost_last_reload_successful = %v, want 0", v)
	}

	// A good binary heals it.
	install(t, testmodelAt(t, "2.0.0"), dir, "testmodel")
	waitFor(t, 60*time.Second, "testmodel 2.0.0", func() bool {
		v, _ := predictVersion(t, host, "/api/models/testmodel/predict")
		return v == "2.0.0"
	})
	waitGone(t, before.PID, "the 1.0.0 plugin")
	waitFor(t, 30*time.Second, "an empty failed list", func() bool {
		r, res := readyz(t, host)
		return res.Status == http.StatusOK && len(r.Failed) == 0
	})
	fams := scrape(t, host)
	if v := metricValue(t, fams, "modelhost_last_reload_successful", nil); v != 1 {
		t.Errorf("after the good binary: modelhost_last_reload_successful = %v, want 1", v)
	}
	summary := fmt.Sprintf("broken replacement: /readyz %d with failed=[%s kept_running=%v: %s]; old process %d kept serving; %v watch reload failures; healed by 2.0.0",
		res.Status, f.Plugin, f.KeptRunning, f.Error, before.PID, failures)
	t.Log(summary)
	fmt.Println(summary)
}

// TestNewBrokenPlugin drops a plugin that exits at start into a running
// host: nothing older serves it, so the host is not ready, unless
// ready_with_failed_models says it may be, which a SIGHUP applies.
func TestNewBrokenPlugin(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, testmodelAt(t, "1.0.0"), filepath.Join(dir, "testmodel"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), watchConfig(dir, ""))
	install(t, builder.Build(t, "./host/integration/testdata/exitatstart"), dir, "exitatstart")
	waitFor(t, 60*time.Second, "/readyz 503", func() bool {
		_, res := readyz(t, host)
		return res.Status == http.StatusServiceUnavailable
	})
	r, _ := readyz(t, host)
	reason := r.Reason
	if len(r.Failed) != 1 || r.Failed[0].Plugin != "exitatstart" || r.Failed[0].KeptRunning {
		t.Errorf("failed = %+v, want exitatstart, not kept running", r.Failed)
	}
	if !strings.Contains(r.Reason, "exitatstart") {
		t.Errorf("reason %q does not name exitatstart", r.Reason)
	}
	wantStatus(t, host.Get(t, "/healthz"), http.StatusOK, "application/json")
	if v, res := predictVersion(t, host, "/api/models/testmodel/predict"); v != "1.0.0" {
		t.Errorf("testmodel answers %d %s while another plugin is broken", res.Status, res.Body)
	}

	write(t, filepath.Join(host.Dir, "config.hcl"), watchConfig(dir, "server {\n  ready_with_failed_models = true\n}\n"), 0o644)
	sighup(t, host)
	waitFor(t, 60*time.Second, "/readyz 200 after the SIGHUP", func() bool {
		_, res := readyz(t, host)
		return res.Status == http.StatusOK
	})
	r, _ = readyz(t, host)
	if len(r.Failed) != 1 || r.Failed[0].Plugin != "exitatstart" {
		t.Errorf("failed = %+v, want exitatstart still listed", r.Failed)
	}
	fmt.Printf("new broken plugin: /readyz 503 (%s), then 200 with ready_with_failed_models after SIGHUP, %d failed listed\n", reason, len(r.Failed))
}

// TestReadyWithFailedModels starts hosts with a plugin that cannot start:
// by default /readyz says 503, with ready_with_failed_models 200; both
// list the failure.
func TestReadyWithFailedModels(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, testmodelAt(t, "1.0.0"), filepath.Join(dir, "testmodel"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/exitatstart"), filepath.Join(dir, "exitatstart"), 0o755)
	modelhost := builder.Build(t, "./host/cmd/modelhost")
	var got []string
	for _, tc := range []struct {
		extra  string
		status int
	}{
		{"", http.StatusServiceUnavailable},
		{"server {\n  ready_with_failed_models = true\n}\n", http.StatusOK},
	} {
		host := hosttest.Start(t, modelhost, watchConfig(dir, tc.extra))
		r, res := readyz(t, host)
		if res.Status != tc.status {
			t.Errorf("config %q: /readyz = %d %s, want %d", tc.extra, res.Status, res.Body, tc.status)
		}
		if len(r.Failed) != 1 || r.Failed[0].Plugin != "exitatstart" || r.Failed[0].KeptRunning || r.Failed[0].Origin == "" {
			t.Errorf("config %q: failed = %+v, want exitatstart, not kept running, with its origin", tc.extra, r.Failed)
		}
		if len(r.Models) != 1 || r.Models[0].Status != "ready" || r.Models[0].Since.IsZero() {
			t.Errorf("config %q: models = %+v, want testmodel ready since some time", tc.extra, r.Models)
		}
		if res.Status == http.StatusServiceUnavailable && !strings.Contains(r.Reason, "exitatstart") {
			t.Errorf("reason %q does not name exitatstart", r.Reason)
		}
		if res.Status == http.StatusOK && r.Reason != "" {
			t.Errorf("ready with a reason: %q", r.Reason)
		}
		got = append(got, fmt.Sprint(res.Status))
		if err := host.Signal(t, syscall.SIGTERM, 20*time.Second); err != nil {
			t.Errorf("SIGTERM: %v", err)
		}
	}
	fmt.Printf("ready with failed models: /readyz with a plugin that failed at start: %s (default), %s (ready_with_failed_models)\n", got[0], got[1])
}

// TestReplaceDrainsSlowRequest replaces a plugin while it answers a slow
// request: the request completes on the old process, which is stopped
// only afterwards. With a drain timeout shorter than the request, the old
// process is stopped anyway, and the host says so.
func TestReplaceDrainsSlowRequest(t *testing.T) {
	v1, v2 := testmodelAt(t, "1.0.0"), testmodelAt(t, "2.0.0")
	for _, tc := range []struct {
		name         string
		drainTimeout string
		sleep        int // milliseconds
		drained      bool
	}{
		{"drained", "30s", 3000, true},
		{"drain timeout", "100ms", 20000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			hosttest.Copy(t, v1, filepath.Join(dir, "testmodel"), 0o755)
			host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), watchConfigWith(dir,
				fmt.Sprintf("drain_timeout   = %q\n  predict_timeout = \"60s\"", tc.drainTimeout), ""))
			old := stateOf(t, host, "testmodel").PID

			type result struct {
				res *hosttest.Response
				at  time.Time
			}
			slow := make(chan result, 1)
			go func() {
				res := host.Post(t, "/api/models/testmodel/predict", "application/json", []byte(fmt.Sprintf(`{"action":"sleep","millis":%d}`, tc.sleep)))
				slow <- result{res, time.Now()}
			}()
			waitFor(t, 30*time.Second, "the slow request in flight", func() bool {
				return metricValue(t, scrape(t, host), "modelhost_http_requests_in_flight", map[string]string{"route": "/api/models/:name/predict"}) == 1
			})
			install(t, v2, dir, "testmodel")
			waitFor(t, 60*time.Second, "answers from 2.0.0", func() bool {
				v, _ := predictVersion(t, host, "/api/models/testmodel/predict")
				return v == "2.0.0"
			})
			var r result
			select {
			case r = <-slow:
				if tc.drained {
					t.Logf("the slow request finished before the swap was visible; nothing learnt about the drain")
				}
			default:
				if tc.drained && hosttest.ProcessGone(old) {
					t.Errorf("the old process %d exited while it still answered a request", old)
				}
				select {
				case r = <-slow:
				case <-time.After(90 * time.Second):
					t.Fatal("the slow request never finished")
				}
			}
			waitGone(t, old, "the replaced plugin")
			if tc.drained {
				wantStatus(t, r.res, http.StatusOK, "application/json")
			} else {
				p := wantProblem(t, r.res, r.res.Status)
				if r.res.Status < 500 {
					t.Errorf("a request cut by the drain timeout answered %d %v, want a 5xx", r.res.Status, p)
				}
				l := waitLog(t, host, "the drain timeout warning", message("requests still in flight after the drain timeout; stopping the plugin anyway"))
				if l["in_flight"] != float64(1) {
					t.Errorf("warning %v, want in_flight 1", l)
				}
			}
			// Once 1.0.0 is gone, its series are too.
			waitFor(t, 30*time.Second, "the series of 1.0.0 to go", func() bool {
				return len(series(scrape(t, host), "modelhost_http_requests_total", map[string]string{"version": "1.0.0"})) == 0
			})
			fmt.Printf("replace with a slow request in flight (%s, drain_timeout %s): slow request answered %d; old process gone\n", tc.name, tc.drainTimeout, r.res.Status)
		})
	}
}

// TestSIGHUPDuringStartup sends SIGHUP while the host is still launching
// its plugins (one of them hangs until start_timeout): the host must not
// die of it, and reloads once it is up.
func TestSIGHUPDuringStartup(t *testing.T) {
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	hosttest.Copy(t, testmodelAt(t, "1.0.0"), filepath.Join(plugins, "testmodel"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/hang"), filepath.Join(plugins, "hang"), 0o755)
	cfg := strings.Replace(watchConfig(plugins, ""), `start_timeout  = "30s"`, `start_timeout  = "3s"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	host := hosttest.Launch(t, builder.Build(t, "./host/cmd/modelhost"), dir)
	waitFor(t, 30*time.Second, "the host to log that it is starting", func() bool { return findLog(host, message("starting")) != nil })
	host.Send(t, syscall.SIGHUP)
	host.WaitReady(t)
	waitLog(t, host, "a reload asked for by the signal", func(l map[string]any) bool {
		return strings.HasPrefix(fmt.Sprint(l["@message"]), "reloaded") && l["trigger"] == "signal"
	})
	if !host.Running() {
		t.Fatal("the host died of a SIGHUP sent during start-up")
	}
	if v, res := predictVersion(t, host, "/api/models/testmodel/predict"); res.Status != http.StatusOK || v != "1.0.0" {
		t.Errorf("predict after the reload: %d %q", res.Status, v)
	}
}
