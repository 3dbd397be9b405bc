package integration

// End-to-end tests of the prediction stream: the host sends a plugin's
// single predictions on one long-lived gRPC stream (sdk/plugin/stream.go),
// so a mix-up of answers, a stream that breaks, or a cancel that does not
// travel would show here as wrong HTTP answers.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// streamClient is the HTTP client of the stream tests: enough idle
// connections for their workers, and a timeout that only a hung host hits.
var streamClient = &http.Client{
	Timeout:   60 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
}

// asyncResult is the answer to a request sent in the background.
type asyncResult struct {
	res  *hosttest.Response
	err  error
	took time.Duration
}

// postJSON posts body to path and reads the whole answer. It may be called
// from any goroutine: it reports failures as errors.
func postJSON(ctx context.Context, host *hosttest.Host, path, body string) (*hosttest.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, host.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := streamClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &hosttest.Response{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// postAsync posts body to path in the background.
func postAsync(ctx context.Context, host *hosttest.Host, path, body string) chan asyncResult {
	done := make(chan asyncResult, 1)
	go func() {
		begin := time.Now()
		res, err := postJSON(ctx, host, path, body)
		done <- asyncResult{res, err, time.Since(begin)}
	}()
	return done
}

// await waits for a request sent with postAsync; a request still
// unanswered after timeout fails the test: the host left it hanging.
func await(t *testing.T, what string, done <-chan asyncResult, timeout time.Duration) asyncResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(timeout):
		t.Fatalf("%s: no answer after %v", what, timeout)
		return asyncResult{}
	}
}

// answered reports whether a request sent with postAsync has been answered,
// without waiting; it puts the answer back for await.
func answered(done chan asyncResult) bool {
	select {
	case r := <-done:
		done <- r
		return true
	default:
		return false
	}
}

// pluginLogged reports whether the host's log holds a line the plugin
// logged with the message and marker (testmodel's "sleep started", "sleep
// interrupted", misbehave's "hang started"), and returns it.
func pluginLogged(host *hosttest.Host, message, marker string) map[string]any {
	for _, l := range host.LogLines() {
		if l["@message"] == message && l["marker"] == marker {
			return l
		}
	}
	return nil
}

// waitPluginLog waits until the plugin has logged message with each of the
// markers.
func waitPluginLog(t *testing.T, host *hosttest.Host, message string, markers ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var missing []string
		for _, m := range markers {
			if pluginLogged(host, message, m) == nil {
				missing = append(missing, m)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin did not log %q for %v within 20s", message, missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantProblemType checks that res is a problem of the status whose type is
// the fragment of docs/http-api.md, and returns it.
func wantProblemType(t *testing.T, what string, res *hosttest.Response, status int, fragment string) map[string]any {
	t.Helper()
	p := wantProblem(t, res, status)
	if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "#"+fragment) {
		t.Errorf("%s: problem type %q, want …#%s", what, typ, fragment)
	}
	return p
}

// streamTestModel returns the path of a fresh copy of the test model.
func streamTestModel(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "testmodel")
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/testmodel"), bin, 0o755)
	return bin
}

// TestStreamConcurrentPredictions sends many predictions at once to one
// plugin, so that they share its stream: each must get its own answer. Half
// of them sleep a little, so that the answers come back out of order.
func TestStreamConcurrentPredictions(t *testing.T) {
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), fmt.Sprintf(`
plugins {
  directory       = ""
  predict_timeout = "30s"
}
model "testmodel" {
  command         = %q
  max_concurrency = 64
  max_queue       = 256
  queue_timeout   = "30s"
}
log {
  level  = "info"
  format = "json"
}
`, streamTestModel(t)))

	const workers, each = 32, 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []string
		ok       int
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				msg := fmt.Sprintf("worker-%d-request-%d", w, i)
				body := fmt.Sprintf(`{"action":"echo","message":%q}`, msg)
				if (w+i)%2 == 0 {
					body = fmt.Sprintf(`{"action":"sleep","millis":%d,"message":%q}`, (w+i)%7, msg)
				}
				res, err := postJSON(context.Background(), host, "/api/models/testmodel/predict", body)
				want := fmt.Sprintf(`{"message":%q}`, msg)
				mu.Lock()
				switch {
				case err != nil:
					failures = append(failures, fmt.Sprintf("%s: %v", msg, err))
				case res.Status != http.StatusOK || strings.TrimSpace(string(res.Body)) != want:
					failures = append(failures, fmt.Sprintf("%s: status %d, body %.200s; want 200 %s", msg, res.Status, res.Body, want))
				default:
					ok++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d predictions failed or got another's answer; the first ones:\n%s",
			len(failures), workers*each, strings.Join(failures[:min(len(failures), 10)], "\n"))
	}
	if ok != workers*each {
		t.Errorf("%d correct answers, want %d", ok, workers*each)
	}
	if s := stateOf(t, host, "testmodel"); s.Status != "ready" || s.Restarts != 0 {
		t.Errorf("testmodel = %+v, want ready and never restarted", s)
	}
}

// TestStreamPluginGoneFailsInFlight makes the plugin process go away while
// several slow predictions wait on its stream: each must be answered 503
// model-unavailable at once rather than left hanging, and once the plugin
// has been relaunched, predictions (on a new stream) succeed again.
func TestStreamPluginGoneFailsInFlight(t *testing.T) {
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), fmt.Sprintf(`
plugins {
  directory               = ""
  predict_timeout         = "60s"
  restart_backoff_initial = "100ms"
  restart_backoff_max     = "200ms"
}
model "testmodel" {
  command = %q
}
log {
  level  = "debug"
  format = "json"
}
`, streamTestModel(t)))
	const path = "/api/models/testmodel/predict"

	for _, tc := range []struct {
		name string
		// kill makes the plugin go away; it returns the request that did
		// it, if any.
		kill func(t *testing.T, pid int) <-chan asyncResult
	}{
		{"the plugin exits", func(t *testing.T, pid int) <-chan asyncResult {
			return postAsync(context.Background(), host, path, `{"action":"exit"}`)
		}},
		{"the plugin is killed", func(t *testing.T, pid int) <-chan asyncResult {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := waitState(t, host, "testmodel", 10*time.Second, func(s modelState) bool { return s.Status == "ready" && s.PID != 0 })
			// Predictions that would take a minute: only the plugin's end
			// can end them within the test.
			const inFlight = 4
			var waiting []<-chan asyncResult
			var markers []string
			for i := range inFlight {
				marker := fmt.Sprintf("gone-%d-%d", before.Restarts, i)
				markers = append(markers, marker)
				waiting = append(waiting, postAsync(context.Background(), host, path, fmt.Sprintf(`{"action":"sleep","millis":60000,"message":%q}`, marker)))
			}
			waitPluginLog(t, host, "sleep started", markers...) // all on the stream
			killer := tc.kill(t, before.PID)

			for i, w := range waiting {
				r := await(t, markers[i], w, 20*time.Second)
				if r.err != nil {
					t.Fatalf("%s: %v", markers[i], r.err)
				}
				p := wantProblemType(t, markers[i], r.res, http.StatusServiceUnavailable, "model-unavailable")
				if r.res.Header.Get("Retry-After") == "" {
					t.Errorf("%s: 503 without Retry-After", markers[i])
				}
				t.Logf("%s: %d after %v: %v", markers[i], r.res.Status, r.took.Round(time.Millisecond), p["detail"])
			}
			if killer != nil {
				r := await(t, "the exit request", killer, 20*time.Second)
				if r.err != nil {
					t.Fatal(r.err)
				}
				wantProblemType(t, "the exit request", r.res, http.StatusServiceUnavailable, "model-unavailable")
			}

			after, seen := waitState(t, host, "testmodel", 20*time.Second, func(s modelState) bool {
				return s.Status == "ready" && s.PID != 0 && s.PID != before.PID
			})
			t.Logf("statuses after the plugin went: %v; now %+v", seen, after)
			if after.Restarts != before.Restarts+1 {
				t.Errorf("restarts = %d, want %d", after.Restarts, before.Restarts+1)
			}
			for i := range 5 {
				msg := fmt.Sprintf("back-%d-%d", after.Restarts, i)
				res, err := postJSON(context.Background(), host, path, fmt.Sprintf(`{"action":"echo","message":%q}`, msg))
				if err != nil {
					t.Fatal(err)
				}
				wantStatus(t, res, http.StatusOK, "application/json")
				if want := fmt.Sprintf(`{"message":%q}`, msg); strings.TrimSpace(string(res.Body)) != want {
					t.Errorf("body %s, want %s", res.Body, want)
				}
			}
		})
	}
}

// TestStreamOversizedAnswer sends, while calls hang on the plugin's
// stream, answers over plugins.max_response_bytes: 2 MiB, below gRPC's
// receive limit (max_response_bytes + 1 KiB, at least 4 MiB), and 8 MiB,
// above it, which would break the stream if it were sent. The plugin,
// told the limit with each prediction, sends neither: each is answered
// 502 bad-plugin-response on its own, and the stream and the calls
// waiting on it go on.
func TestStreamOversizedAnswer(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "misbehave")
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/misbehave"), bin, 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), fmt.Sprintf(`
plugins {
  directory          = ""
  predict_timeout    = "30s"
  max_response_bytes = 1048576
}
model "misbehave" {
  command = %q
}
log {
  level  = "debug"
  format = "json"
}
`, bin))
	const path = "/api/models/misbehave/predict"
	before := stateOf(t, host, "misbehave")

	// Calls that hang until their deadline, half a minute away; the test
	// gives up on them (its client goes away) at the end.
	hung, giveUp := context.WithCancel(context.Background())
	defer giveUp()
	const inFlight = 4
	var (
		waiting []chan asyncResult
		markers []string
	)
	for i := range inFlight {
		marker := fmt.Sprintf("hang-%d", i)
		markers = append(markers, marker)
		waiting = append(waiting, postAsync(hung, host, path, fmt.Sprintf(`{"action":"hang","message":%q}`, marker)))
	}
	waitPluginLog(t, host, "hang started", markers...) // all on the stream

	for _, size := range []int{2 << 20, 8 << 20} {
		res, err := postJSON(context.Background(), host, path, fmt.Sprintf(`{"action":"big","size":%d}`, size))
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("%d MiB answer", size>>20)
		p := wantProblemType(t, what, res, http.StatusBadGateway, "bad-plugin-response")
		if d := fmt.Sprint(p["detail"]); !strings.Contains(d, "larger than 1048576 bytes") {
			t.Errorf("%s: detail = %q", what, d)
		}
		// The host learnt the size from the plugin, which kept the answer.
		l := waitLog(t, host, what+" refused", func(l map[string]any) bool {
			return l["@message"] == "request failed" && strings.Contains(fmt.Sprint(l["error"]), fmt.Sprintf(": %d bytes", size+len(`{"result":""}`)))
		})
		t.Logf("%s: %v", what, l["error"])
		// The stream still serves: a prediction on it succeeds, and the
		// hung calls are still waiting (had the stream broken, they would
		// have been answered within milliseconds).
		res, err = postJSON(context.Background(), host, path, `{"action":"ok"}`)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, res, http.StatusOK, "application/json")
		time.Sleep(300 * time.Millisecond)
		for i, w := range waiting {
			if answered(w) {
				r := <-w
				t.Fatalf("%s was answered after a %s was refused (status %v, %v): the stream broke", markers[i], what, statusOf(r), r.err)
			}
		}
	}
	if after := stateOf(t, host, "misbehave"); after.Status != "ready" || after.Restarts != 0 || after.PID != before.PID {
		t.Errorf("misbehave = %+v, want ready, the same process (%d), never restarted", after, before.PID)
	}
	giveUp()
	for i, w := range waiting {
		await(t, markers[i], w, 20*time.Second)
	}
}

func statusOf(r asyncResult) any {
	if r.res == nil {
		return nil
	}
	return r.res.Status
}

// TestStreamClientGone lets clients go away during slow predictions, by
// canceling the request and by closing the connection: the model must see
// its context canceled (the cancel travels on the stream), and the model's
// only concurrency slot must be free for the next request.
func TestStreamClientGone(t *testing.T) {
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), fmt.Sprintf(`
plugins {
  directory       = ""
  predict_timeout = "60s"
}
model "testmodel" {
  command         = %q
  max_concurrency = 1
  max_queue       = 1
  queue_timeout   = "10s"
}
log {
  level  = "debug"
  format = "json"
}
`, streamTestModel(t)))
	const path = "/api/models/testmodel/predict"
	u, err := url.Parse(host.URL)
	if err != nil {
		t.Fatal(err)
	}
	left := 0 // the requests whose client went away so far

	for _, tc := range []struct {
		name string
		// leave sends a prediction of body, calls started, which returns
		// once the prediction has reached the model, and goes away.
		leave func(t *testing.T, body string, started func())
	}{
		{"request canceled", func(t *testing.T, body string, started func()) {
			ctx, cancel := context.WithCancel(context.Background())
			done := postAsync(ctx, host, path, body)
			started()
			cancel()
			r := await(t, "the canceled request", done, 20*time.Second)
			if !errors.Is(r.err, context.Canceled) {
				t.Errorf("the canceled request: %v, status %v; want context.Canceled", r.err, statusOf(r))
			}
		}},
		{"connection closed", func(t *testing.T, body string, started func()) {
			conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var req bytes.Buffer
			fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, u.Host, len(body), body)
			if _, err := conn.Write(req.Bytes()); err != nil {
				t.Fatal(err)
			}
			started()
			if err := conn.Close(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 3 {
				marker := fmt.Sprintf("gone-%s-%d", strings.ReplaceAll(tc.name, " ", "-"), i)
				started := func() { waitPluginLog(t, host, "sleep started", marker) }
				tc.leave(t, fmt.Sprintf(`{"action":"sleep","millis":60000,"message":%q}`, marker), started)

				// The model saw its context canceled, long before its
				// 60s deadline.
				waitPluginLog(t, host, "sleep interrupted", marker)
				if reason := pluginLogged(host, "sleep interrupted", marker)["reason"]; reason != context.Canceled.Error() {
					t.Errorf("%s: the model's context ended with %v, want %q", marker, reason, context.Canceled)
				}
				// The access log records it as nginx does: 499.
				left++
				waitFor(t, 30*time.Second, "access log lines with status 499", func() bool {
					n := 0
					for _, l := range host.LogLines() {
						if l["@message"] == "request" && l["path"] == path && l["status"] == float64(499) {
							n++
						}
					}
					return n == left
				})

				// The only slot is free: the next request is served, not
				// refused with 429 or left waiting for the queue timeout.
				msg := marker + "-next"
				res, err := postJSON(context.Background(), host, path, fmt.Sprintf(`{"action":"echo","message":%q}`, msg))
				if err != nil {
					t.Fatal(err)
				}
				wantStatus(t, res, http.StatusOK, "application/json")
				if want := fmt.Sprintf(`{"message":%q}`, msg); strings.TrimSpace(string(res.Body)) != want {
					t.Errorf("body %s, want %s", res.Body, want)
				}
			}
		})
	}
	if s := stateOf(t, host, "testmodel"); s.Status != "ready" || s.Restarts != 0 {
		t.Errorf("testmodel = %+v, want ready and never restarted", s)
	}
}
