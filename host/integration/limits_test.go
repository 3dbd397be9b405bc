package integration

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// TestModelBusy runs the test model with room for one prediction and one
// waiting request, and checks that the requests beyond are refused with
// 429 and Retry-After instead of piling up, while the model keeps working.
func TestModelBusy(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/testmodel"), filepath.Join(dir, "testmodel"), 0o755)
	write(t, filepath.Join(dir, "config.hcl"), `
plugins {
  directory       = ""
  predict_timeout = "20s"
}
model "testmodel" {
  command         = "testmodel"
  max_concurrency = 1
  max_queue       = 1
  queue_timeout   = "1s"
}
log {
  level  = "debug"
  format = "json"
}
`, 0o644)
	host := hosttest.StartIn(t, builder.Build(t, "./host/cmd/modelhost"), dir)
	const path = "/api/models/testmodel/predict"
	sleep := func(ms int) []byte { return []byte(fmt.Sprintf(`{"action":"sleep","millis":%d}`, ms)) }

	var wg sync.WaitGroup
	var first, queued *hosttest.Response
	wg.Go(func() { first = host.Post(t, path, "application/json", sleep(2500)) })
	time.Sleep(700 * time.Millisecond) // the first request holds the only slot
	start := time.Now()
	wg.Go(func() { queued = host.Post(t, path, "application/json", sleep(0)) })
	time.Sleep(300 * time.Millisecond) // the second one waits in the queue

	// The queue is full: refused at once.
	res := host.Post(t, path, "application/json", sleep(0))
	p := wantProblem(t, res, http.StatusTooManyRequests)
	if p["type"] != "https://github.com/modelhost/modelhost/blob/main/docs/http-api.md#model-busy" {
		t.Errorf("type = %v", p["type"])
	}
	if got := res.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}

	wg.Wait()
	wantStatus(t, first, http.StatusOK, "application/json")
	// The queued request gave up after queue_timeout, long before the
	// first one finished.
	wantProblem(t, queued, http.StatusTooManyRequests)
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("the queued request was answered after %v, want at least queue_timeout (1s)", waited)
	}
	// The slot is free again.
	res = host.Post(t, path, "application/json", []byte(`{"action":"echo","message":"free"}`))
	wantStatus(t, res, http.StatusOK, "application/json")
}

// TestRequestIDOnFailure checks that a 5xx's log line carries the request
// ID the client sent, and that an insane one is replaced.
func TestRequestIDOnFailure(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./host/integration/testdata/testmodel"), filepath.Join(dir, "testmodel"), 0o755)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), hostConfig(dir))

	res := do(t, host, "POST", "/api/models/testmodel/predict",
		map[string]string{"Content-Type": "application/json", "X-Request-ID": "client-id-5xx"}, []byte(`{"action":"fail"}`))
	wantProblem(t, res, http.StatusInternalServerError)
	if got := res.Header.Get("X-Request-ID"); got != "client-id-5xx" {
		t.Errorf("X-Request-ID = %q, want the client's", got)
	}
	// The host logs after it has answered: wait for the line.
	eventually(t, 5*time.Second, func() bool {
		l := logLine(host, "request failed", "client-id-5xx")
		return l != nil && l["@level"] == "error"
	}, "an error log line with request_id client-id-5xx")

	res = do(t, host, "GET", "/api/models", map[string]string{"X-Request-ID": "../../etc/passwd"}, nil)
	if got := res.Header.Get("X-Request-ID"); got == "" || got == "../../etc/passwd" {
		t.Errorf("X-Request-ID = %q, want a generated one", got)
	}
	for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Cross-Origin-Opener-Policy", "Content-Security-Policy"} {
		if res.Header.Get(h) == "" {
			t.Errorf("GET /api/models without %s", h)
		}
	}
}

// TestSlowloris opens a connection and sends its headers a byte at a time:
// the host closes it once read_header_timeout has passed, and answers
// other clients meanwhile.
func TestSlowloris(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte(fmt.Sprintf(`
server {
  read_header_timeout = "1s"
}
plugins {
  directory = %q
}
log {
  level  = "debug"
  format = "json"
}
`, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	host := hosttest.StartIn(t, builder.Build(t, "./host/cmd/modelhost"), dir)
	u, err := url.Parse(host.URL)
	if err != nil {
		t.Fatal(err)
	}

	const attackers = 5
	closed := make(chan time.Duration, attackers)
	for range attackers {
		go func() {
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Error(err)
				closed <- 0
				return
			}
			defer conn.Close()
			start := time.Now()
			if _, err := io.WriteString(conn, "GET /api/models HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				t.Error(err)
			}
			// Trickle, while reading nothing, until the write fails or
			// the server's closing shows on a read.
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err := io.ReadAll(conn)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Error("the server kept the connection open for 10s")
				}
			}()
			for {
				select {
				case <-done:
					closed <- time.Since(start)
					return
				case <-time.After(100 * time.Millisecond):
					if _, err := conn.Write([]byte("a")); err != nil {
						<-done
						closed <- time.Since(start)
						return
					}
				}
			}
		}()
	}

	// Normal requests keep working meanwhile.
	for range 5 {
		res := host.Get(t, "/api/models")
		wantStatus(t, res, http.StatusOK, "application/json")
		time.Sleep(100 * time.Millisecond)
	}
	for range attackers {
		d := <-closed
		if d < 900*time.Millisecond || d > 4*time.Second {
			t.Errorf("a slow connection was closed after %v, want about read_header_timeout (1s)", d)
		}
	}
	res := host.Get(t, "/api/models")
	wantStatus(t, res, http.StatusOK, "application/json")
}
