package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// modelState is a model's status as GET /api/models/NAME/metadata shows it.
type modelState struct {
	Status    string `json:"status"`
	LastError string `json:"last_error"`
	Restarts  int    `json:"restarts"`
	PID       int    `json:"pid"`
}

func stateOf(t *testing.T, host *hosttest.Host, model string) modelState {
	t.Helper()
	res := host.Get(t, "/api/models/"+model+"/metadata")
	if res.Status != http.StatusOK {
		t.Fatalf("metadata of %s: status %d: %s", model, res.Status, res.Body)
	}
	var s modelState
	if err := json.Unmarshal(res.Body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitState polls the model's status until ok accepts it, and returns the
// statuses seen on the way, in order, without repeats.
func waitState(t *testing.T, host *hosttest.Host, model string, timeout time.Duration, ok func(modelState) bool) (modelState, []string) {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(timeout)
	for {
		s := stateOf(t, host, model)
		if len(seen) == 0 || seen[len(seen)-1] != s.Status {
			seen = append(seen, s.Status)
		}
		if ok(s) {
			return s, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("model %s: gave up after %v; last state %+v, statuses seen %v", model, timeout, s, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// misbehaveConfig serves several models of the misbehave plugin, each
// misbehaving in its own way, with a fast restart policy.
func misbehaveConfig(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "misbehave")
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/misbehave"), bin, 0o755)
	return fmt.Sprintf(`
plugins {
  directory               = ""
  start_timeout           = "3s"
  predict_timeout         = "1s"
  max_response_bytes      = 1048576
  restart_max             = 3
  restart_backoff_initial = "100ms"
  restart_backoff_max     = "400ms"
}
model "stdout" {
  command = %[1]q
  args    = ["--name", "stdout_model"]
}
model "printfirst" {
  command = %[1]q
  args    = ["--name", "printfirst_model", "--print-before-serve"]
}
model "hang" {
  command = %[1]q
  args    = ["--name", "hang_model"]
}
model "slow" {
  command = %[1]q
  args    = ["--name", "slow_model", "--start-delay", "1.5s"]
}
model "crashloop" {
  command = %[1]q
  args    = ["--name", "crashloop_model", "--exit-after", "1s"]
}
log {
  level  = "debug"
  format = "json"
}
`, bin)
}

func TestMisbehavingPlugins(t *testing.T) {
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), misbehaveConfig(t))
	post := func(t *testing.T, model, body string) *hosttest.Response {
		t.Helper()
		return host.Post(t, "/api/models/"+model+"/predict", "application/json", []byte(body))
	}

	t.Run("stdout is logged, not fatal", func(t *testing.T) {
		res := post(t, "stdout_model", `{"action":"print","message":"marker-4417"}`)
		wantStatus(t, res, http.StatusOK, "application/json")
		eventually(t, 5*time.Second, func() bool {
			var stdout, partial, stderr bool
			for _, l := range host.LogLines() {
				if !strings.Contains(fmt.Sprint(l["@module"]), "stdout") {
					continue
				}
				line := fmt.Sprint(l["line"], l["@message"])
				stdout = stdout || (l["@message"] == "plugin wrote to stdout" && l["line"] == "stdout-line marker-4417")
				partial = partial || l["line"] == "partial line marker-4417"
				stderr = stderr || strings.Contains(line, "stderr-line marker-4417")
			}
			return stdout && partial && stderr
		}, "the plugin's stdout and stderr lines in the host log")
		wantStatus(t, post(t, "stdout_model", `{"action":"ok"}`), http.StatusOK, "application/json")
		if s := stateOf(t, host, "stdout_model"); s.Status != "ready" || s.Restarts != 0 {
			t.Errorf("state = %+v, want ready and never restarted", s)
		}
	})

	t.Run("stdout before the handshake refuses the plugin with the reason", func(t *testing.T) {
		found := false
		for _, l := range host.LogLines() {
			if l["plugin"] == "printfirst" && strings.Contains(fmt.Sprint(l["reason"]), "not a modelhost plugin: it wrote something other than the go-plugin handshake") {
				found = true
			}
		}
		if !found {
			t.Error("no log line says why printfirst was not started")
		}
		wantProblem(t, host.Get(t, "/api/models/printfirst_model/metadata"), http.StatusNotFound)
	})

	t.Run("output that fails the output schema is a 502", func(t *testing.T) {
		p := wantProblem(t, post(t, "stdout_model", `{"action":"bad"}`), http.StatusBadGateway)
		if !strings.HasSuffix(fmt.Sprint(p["type"]), "#bad-plugin-response") || !strings.Contains(fmt.Sprint(p["detail"]), "output schema") {
			t.Errorf("problem = %v", p)
		}
		wantStatus(t, post(t, "stdout_model", `{"action":"ok"}`), http.StatusOK, "application/json")
	})

	t.Run("answers beyond max_response_bytes are refused", func(t *testing.T) {
		// 2 MiB is received and refused; 8 MiB is refused by gRPC unread.
		for _, size := range []int{1<<20 + 1, 2 << 20, 8 << 20} {
			p := wantProblem(t, post(t, "stdout_model", fmt.Sprintf(`{"action":"big","size":%d}`, size)), http.StatusBadGateway)
			if d := fmt.Sprint(p["detail"]); !strings.Contains(d, "larger than 1048576 bytes") {
				t.Errorf("size %d: detail = %q", size, d)
			}
		}
		// Just under the limit: {"result":"xxx…"} is the size plus 13 bytes.
		res := post(t, "stdout_model", fmt.Sprintf(`{"action":"big","size":%d}`, 1<<20-13))
		wantStatus(t, res, http.StatusOK, "application/json")
		if len(res.Body) != 1<<20 {
			t.Errorf("answer of %d bytes, want 1048576", len(res.Body))
		}
		if s := stateOf(t, host, "stdout_model"); s.Restarts != 0 {
			t.Errorf("state = %+v: the plugin restarted", s)
		}
	})

	t.Run("a hung call times out without blocking the model", func(t *testing.T) {
		type result struct {
			status int
			took   time.Duration
		}
		hung := make(chan result, 1)
		go func() {
			begin := time.Now()
			res, err := http.Post(host.URL+"/api/models/hang_model/predict", "application/json", strings.NewReader(`{"action":"hang"}`))
			if err != nil {
				hung <- result{0, time.Since(begin)}
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			hung <- result{res.StatusCode, time.Since(begin)}
		}()
		time.Sleep(100 * time.Millisecond) // the hung call is in flight
		var slowest time.Duration
		for range 20 {
			begin := time.Now()
			wantStatus(t, post(t, "hang_model", `{"action":"ok"}`), http.StatusOK, "application/json")
			slowest = max(slowest, time.Since(begin))
		}
		r := <-hung
		t.Logf("hung call: %d after %v; slowest of 20 concurrent fast calls: %v", r.status, r.took.Round(time.Millisecond), slowest.Round(time.Millisecond))
		if r.status != http.StatusGatewayTimeout || r.took > 2*time.Second {
			t.Errorf("hung call: status %d after %v, want 504 within the 1s predict timeout and a margin", r.status, r.took)
		}
		if slowest > 500*time.Millisecond {
			t.Errorf("a fast call took %v while another call hung", slowest)
		}
	})

	t.Run("a slow start shows starting, then ready", func(t *testing.T) {
		before := stateOf(t, host, "slow_model")
		if before.Status != "ready" || before.PID == 0 {
			t.Fatalf("slow_model = %+v, want ready after its 1.5s start", before)
		}
		if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		after, seen := waitState(t, host, "slow_model", 10*time.Second, func(s modelState) bool {
			return s.Status == "ready" && s.PID != before.PID
		})
		t.Logf("slow_model after SIGKILL: statuses %v, ready again after %v", seen, time.Since(killed).Round(time.Millisecond))
		if !slices.Contains(seen, "starting") {
			t.Errorf("statuses %v, want starting before ready", seen)
		}
		if after.Restarts != 1 || !strings.Contains(after.LastError, "signal: killed") {
			t.Errorf("state = %+v, want 1 restart and the signal in last_error", after)
		}
		wantStatus(t, post(t, "slow_model", `{"action":"ok"}`), http.StatusOK, "application/json")
	})

	// The crash loop has run while the other subtests did.
	t.Run("crash loop ends in failed", func(t *testing.T) {
		s, seen := waitState(t, host, "crashloop_model", 30*time.Second, func(s modelState) bool { return s.Status == "failed" })
		t.Logf("crashloop_model: statuses %v, final %+v", seen, s)
		if s.Restarts != 3 || s.PID != 0 {
			t.Errorf("state = %+v, want 3 restarts (restart_max) and no PID", s)
		}
		for _, want := range []string{"4 failures within 1m0s", "restart_max = 3", "not relaunched until the host restarts"} {
			if !strings.Contains(s.LastError, want) {
				t.Errorf("last_error %q does not say %q", s.LastError, want)
			}
		}
		// Usually the last failure is an exit; on a loaded machine the
		// plugin may exit before its relaunch completes.
		if !strings.Contains(s.LastError, "exited unexpectedly (exit status 1)") && !strings.Contains(s.LastError, "relaunch failed") {
			t.Errorf("last_error %q gives neither the exit status nor a failed relaunch", s.LastError)
		}
		begin := time.Now()
		res := post(t, "crashloop_model", `{"action":"ok"}`)
		if d := time.Since(begin); d > time.Second {
			t.Errorf("predict on a failed model took %v, want an immediate answer", d)
		}
		p := wantProblem(t, res, http.StatusServiceUnavailable)
		if got := res.Header.Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After = %q, want 60 (the restart window)", got)
		}
		if d, _ := p["detail"].(string); !strings.Contains(d, "kept failing") {
			t.Errorf("detail = %q", d)
		}
		// The others are untouched.
		wantStatus(t, post(t, "stdout_model", `{"action":"ok"}`), http.StatusOK, "application/json")
	})
}

// TestChaos kills one model's plugin again and again under steady load on
// two models: the other model must not notice, the killed one must answer
// again within 2 seconds each time, and the host must survive.
func TestChaos(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./plugins/sentiment"), filepath.Join(dir, "sentiment"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), fmt.Sprintf(`
plugins {
  directory               = %q
  restart_max             = 10
  restart_backoff_initial = "100ms"
  restart_backoff_max     = "500ms"
}
log {
  level  = "info"
  format = "json"
}
`, dir))

	const kills, workers = 5, 8
	requests := map[string][]byte{
		"iris_model": []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`),
		"sentiment":  []byte(`{"documents":[{"id":"a","text":"I love this, it is wonderful"}]}`),
	}
	type counts struct {
		ok       int
		byStatus map[int]int
		errors   int // transport errors
	}
	var mu sync.Mutex
	tally := map[string]*counts{"iris_model": {byStatus: map[int]int{}}, "sentiment": {byStatus: map[int]int{}}}
	client := &http.Client{Timeout: 10 * time.Second}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		model := "iris_model"
		if i%2 == 1 {
			model = "sentiment"
		}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := client.Post(host.URL+"/api/models/"+model+"/predict", "application/json", bytes.NewReader(requests[model]))
				status := 0
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				mu.Lock()
				c := tally[model]
				switch {
				case err != nil:
					c.errors++
				case status == http.StatusOK:
					c.ok++
				default:
					c.byStatus[status]++
				}
				mu.Unlock()
				if status != http.StatusOK {
					time.Sleep(10 * time.Millisecond) // do not spin on 503s
				}
			}
		})
	}

	time.Sleep(300 * time.Millisecond) // steady load first
	var recoveries []time.Duration
	for k := range kills {
		before := stateOf(t, host, "iris_model")
		if before.Status != "ready" || before.PID == 0 {
			t.Fatalf("kill %d: iris_model = %+v, want ready with a PID", k+1, before)
		}
		if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", k+1, err)
		}
		killed := time.Now()
		// The process is gone (SIGKILL is not instant); then a prediction
		// must succeed within 2 seconds.
		for !hosttest.ProcessGone(before.PID) && time.Since(killed) < time.Second {
			time.Sleep(5 * time.Millisecond)
		}
		var recovered time.Duration
		for {
			res, err := client.Post(host.URL+"/api/models/iris_model/predict", "application/json", bytes.NewReader(requests["iris_model"]))
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK && stateOf(t, host, "iris_model").PID != before.PID {
					recovered = time.Since(killed)
					break
				}
			}
			if time.Since(killed) > 5*time.Second {
				t.Fatalf("kill %d: iris_model not answering 5s after SIGKILL; state %+v", k+1, stateOf(t, host, "iris_model"))
			}
			time.Sleep(10 * time.Millisecond)
		}
		recoveries = append(recoveries, recovered)
		if recovered > 2*time.Second {
			t.Errorf("kill %d: iris_model answered again after %v, want within 2s", k+1, recovered)
		}
		time.Sleep(500 * time.Millisecond) // steady load between kills
	}
	close(stop)
	wg.Wait()

	if !host.Running() {
		t.Fatal("the host exited")
	}
	final := stateOf(t, host, "iris_model")
	if final.Status != "ready" || final.Restarts != kills {
		t.Errorf("iris_model = %+v, want ready after %d restarts", final, kills)
	}
	iris, sentiment := tally["iris_model"], tally["sentiment"]
	failed := func(c *counts) int {
		n := c.errors
		for _, v := range c.byStatus {
			n += v
		}
		return n
	}
	if failed(sentiment) != 0 || sentiment.ok == 0 {
		t.Errorf("sentiment: %d ok, %d failed (%v, %d transport errors); want no failure", sentiment.ok, failed(sentiment), sentiment.byStatus, sentiment.errors)
	}
	for status := range iris.byStatus {
		if status != http.StatusServiceUnavailable {
			t.Errorf("iris_model answered %d %d times; while its plugin is down it must answer 503", status, iris.byStatus[status])
		}
	}
	if iris.errors != 0 {
		t.Errorf("iris_model: %d transport errors", iris.errors)
	}
	var rs []string
	for _, r := range recoveries {
		rs = append(rs, r.Round(time.Millisecond).String())
	}
	summary := fmt.Sprintf("chaos: %d SIGKILLs of iris_model under %d workers: iris_model %d ok, %d failed (%v); sentiment %d ok, %d failed; answering again after %s",
		kills, workers, iris.ok, failed(iris), iris.byStatus, sentiment.ok, failed(sentiment), strings.Join(rs, ", "))
	t.Log(summary)
	fmt.Println(summary)
}

// TestSIGKILLHost kills the host with SIGKILL, which it cannot catch: its
// plugins must notice and exit on their own, and the next host must clean
// up the runtime directory the dead one left.
func TestSIGKILLHost(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the hosts' os.TempDir(), for their runtime directories
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./plugins/sentiment"), filepath.Join(dir, "sentiment"), 0o755)
	modelhost := builder.Build(t, "./host/cmd/modelhost")
	host := hosttest.Start(t, modelhost, hostConfig(dir))

	var pids []int
	for _, m := range []string{"iris_model", "sentiment"} {
		pids = append(pids, stateOf(t, host, m).PID)
	}
	runtimeDirs, _ := filepath.Glob(filepath.Join(tmp, "modelhost-*"))
	if len(runtimeDirs) != 1 {
		t.Fatalf("runtime directories %v, want one", runtimeDirs)
	}
	sockets, _ := filepath.Glob(filepath.Join(runtimeDirs[0], "*", "plugin*"))
	if len(sockets) != 2 {
		t.Errorf("sockets %v, want the two plugins' in the runtime directory", sockets)
	}

	_ = host.Signal(t, syscall.SIGKILL, 5*time.Second)
	killed := time.Now()
	for _, pid := range pids {
		for !hosttest.ProcessGone(pid) {
			if time.Since(killed) > 5*time.Second {
				t.Fatalf("plugin %d still running 5s after the host was killed", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	gone := time.Since(killed)
	t.Logf("every plugin exited %v after the host's SIGKILL", gone.Round(time.Millisecond))
	fmt.Printf("SIGKILL host: %d plugins gone %v after it\n", len(pids), gone.Round(time.Millisecond))
	if _, err := os.Stat(runtimeDirs[0]); err != nil {
		t.Fatalf("the killed host's runtime directory: %v", err)
	}

	// The next host removes what the dead one left.
	next := hosttest.Start(t, modelhost, hostConfig(dir))
	if _, err := os.Stat(runtimeDirs[0]); !os.IsNotExist(err) {
		t.Errorf("the dead host's runtime directory %s is still there (%v)", runtimeDirs[0], err)
	}
	found := false
	for _, l := range next.LogLines() {
		if l["@message"] == "removed the runtime directory of a host that is gone" && l["dir"] == runtimeDirs[0] {
			found = true
		}
	}
	if !found {
		t.Error("the new host did not log the removal")
	}
	if err := next.Signal(t, syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "modelhost-*")); len(left) != 0 {
		t.Errorf("runtime directories left after a clean stop: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "plugin*")); len(left) != 0 {
		t.Errorf("go-plugin files left in TMPDIR: %v", left)
	}
}

// TestChecksums pins binaries in model blocks and with SHA256SUMS.
func TestChecksums(t *testing.T) {
	dir := t.TempDir()
	iris, sentiment := builder.Build(t, "./plugins/iris"), builder.Build(t, "./plugins/sentiment")
	hosttest.Copy(t, iris, filepath.Join(dir, "iris"), 0o755)
	hosttest.Copy(t, sentiment, filepath.Join(dir, "sentiment"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/testmodel"), filepath.Join(dir, "testmodel"), 0o755)
	misbehave := filepath.Join(t.TempDir(), "misbehave")
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/misbehave"), misbehave, 0o755)
	modelhost := builder.Build(t, "./host/cmd/modelhost")

	// The lines to paste, as an operator gets them.
	sums := run(t, modelhost, "checksum", filepath.Join(dir, "iris"))
	wrong := strings.Repeat("0", 64)
	write(t, filepath.Join(dir, "SHA256SUMS"), sums+wrong+"  sentiment\n", 0o644)
	pin := strings.TrimSpace(run(t, modelhost, "checksum", "--hcl", misbehave))
	actualSentiment := strings.Fields(run(t, modelhost, "checksum", filepath.Join(dir, "sentiment")))[0]
	actualMisbehave := strings.Fields(run(t, modelhost, "checksum", misbehave))[0]

	host := hosttest.Start(t, modelhost, fmt.Sprintf(`
plugins {
  directory               = %q
  require_checksums       = true
  restart_backoff_initial = "100ms"
}
model "pinned" {
  command = %q
  args    = ["--name", "pinned_model"]
  %s
}
model "mismatch" {
  command = %q
  args    = ["--name", "mismatch_model"]
  sha256  = %q
}
log {
  level  = "debug"
  format = "json"
}
`, dir, misbehave, pin, misbehave, wrong))

	res := host.Get(t, "/api/models")
	wantStatus(t, res, http.StatusOK, "application/json")
	var list struct {
		Models []struct {
			Name string `json:"qualified_name"`
		} `json:"models"`
	}
	if err := json.Unmarshal(res.Body, &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range list.Models {
		names = append(names, m.Name)
	}
	if got, want := strings.Join(names, ","), "iris_model,pinned_model"; got != want {
		t.Errorf("models = %s, want %s", got, want)
	}
	for plugin, want := range map[string][]string{
		"mismatch":  {"its SHA-256 digest is " + actualMisbehave, "pins " + wrong, `model "mismatch"`},
		"sentiment": {"its SHA-256 digest is " + actualSentiment, "pins " + wrong, "SHA256SUMS"},
		"testmodel": {"not listed in", "modelhost checksum"},
	} {
		found := false
		for _, l := range host.LogLines() {
			text := fmt.Sprint(l["plugin"], " ", l["path"], " ", l["reason"])
			if !strings.Contains(text, plugin) {
				continue
			}
			all := true
			for _, w := range want {
				all = all && strings.Contains(text, w)
			}
			found = found || all
		}
		if !found {
			t.Errorf("no log line says why %s was not launched, with %q", plugin, want)
		}
	}

	// A binary replaced while it runs is refused at its relaunch: the
	// digest is checked at every launch.
	replacement := filepath.Join(dir, ".iris.new")
	hosttest.Copy(t, sentiment, replacement, 0o755)
	if err := os.Rename(replacement, filepath.Join(dir, "iris")); err != nil {
		t.Fatal(err)
	}
	before := stateOf(t, host, "iris_model")
	if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s, _ := waitState(t, host, "iris_model", 10*time.Second, func(s modelState) bool { return s.Status == "failed" })
	if !strings.Contains(s.LastError, "its SHA-256 digest is "+actualSentiment) || s.Restarts != 1 {
		t.Errorf("iris_model after its binary was replaced = %+v, want failed at the first relaunch with the digests", s)
	}
	wantStatus(t, host.Post(t, "/api/models/pinned_model/predict", "application/json", []byte(`{"action":"ok"}`)), http.StatusOK, "application/json")
}

// run runs a command and returns its standard output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return stdout.String()
}
