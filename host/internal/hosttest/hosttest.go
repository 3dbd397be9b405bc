// Package hosttest runs the real modelhost binary with real plugin binaries
// for integration tests: it builds binaries once per test process, starts
// the host on a free loopback port, and stops it.
package hosttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
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
)

// Builder builds Go packages of the repository into one directory, each at
// most once.
type Builder struct {
	dir  string
	root string
	mu   sync.Mutex
	done map[string]*buildResult
}

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// NewBuilder returns a Builder that writes binaries into dir.
func NewBuilder(dir string) (*Builder, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	return &Builder{dir: dir, root: root, done: map[string]*buildResult{}}, nil
}

// Build builds the package at pkg (a path relative to the repository root,
// such as "./plugins/iris") into a binary and returns its path.
func (b *Builder) Build(t testing.TB, pkg string) string {
	t.Helper()
	return b.BuildWith(t, pkg, nil)
}

// BuildWith builds pkg as Build does, with -ldflags "-X name=value" for
// each entry of vars, such as {"main.version": "2.0.0"}: one binary per
// distinct set of values.
func (b *Builder) BuildWith(t testing.TB, pkg string, vars map[string]string) string {
	t.Helper()
	var flags []string
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		flags = append(flags, "-X "+k+"="+vars[k])
	}
	key := pkg + " " + strings.Join(flags, " ")
	b.mu.Lock()
	r, ok := b.done[key]
	if !ok {
		r = &buildResult{}
		b.done[key] = r
	}
	b.mu.Unlock()
	r.once.Do(func() {
		name := strings.NewReplacer("/", "_", ".", "_", " ", "_", "=", "_", "-", "").Replace(strings.Trim(key, "./ "))
		r.path = filepath.Join(b.dir, name)
		args := []string{"build", "-o", r.path}
		if len(flags) > 0 {
			args = append(args, "-ldflags", strings.Join(flags, " "))
		}
		cmd := exec.Command("go", append(args, pkg)...)
		cmd.Dir = b.root
		if out, err := cmd.CombinedOutput(); err != nil {
			r.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.path
}

// RepoRoot returns the repository's root directory: the nearest ancestor
// of the working directory that holds go.work or, failing that, go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", errors.New("repository root (go.work) not found above " + dir)
}

// Copy copies the file src to dst with mode perm.
func Copy(t testing.TB, src, dst string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, perm); err != nil {
		t.Fatal(err)
	}
}

// Host is a running modelhost process.
type Host struct {
	// URL is the base URL of the HTTP API, e.g. http://127.0.0.1:40123.
	URL string
	// Dir is the host's working directory, holding config.hcl.
	Dir string

	cmd  *exec.Cmd
	logs *logBuffer
	done chan struct{}
	err  error // exit error, valid after done is closed
}

// Start writes config (HCL) to a fresh directory, starts host (the path of
// the modelhost binary) with it on a free loopback port, and waits until it
// is ready. The host is stopped when the test ends. The config should not
// set server.address.
func Start(t testing.TB, host, config string) *Host {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return StartIn(t, host, dir)
}

// StartIn starts host with dir/config.hcl, like Start.
func StartIn(t testing.TB, host, dir string) *Host {
	t.Helper()
	h := Launch(t, host, dir)
	h.WaitReady(t)
	return h
}

// Launch starts host with dir/config.hcl as StartIn does, but returns at
// once, before the host is ready; call WaitReady before using URL.
func Launch(t testing.TB, host, dir string) *Host {
	t.Helper()
	h := &Host{Dir: dir, logs: &logBuffer{ready: make(chan string, 1)}, done: make(chan struct{})}
	h.cmd = exec.Command(host, "serve", "--config", filepath.Join(dir, "config.hcl"), "--address", "127.0.0.1:0")
	h.cmd.Dir = dir
	h.cmd.Stdout = h.logs
	h.cmd.Stderr = h.logs
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		h.err = h.cmd.Wait()
		close(h.done)
	}()
	t.Cleanup(func() {
		if h.Running() {
			_ = h.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-h.done:
			case <-time.After(20 * time.Second):
				_ = h.cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("host log:\n%s", h.Logs())
		}
	})
	return h
}

// WaitReady waits until the host has logged "host ready" and sets URL.
func (h *Host) WaitReady(t testing.TB) {
	t.Helper()
	select {
	case addr := <-h.logs.ready:
		h.URL = addr
	case <-h.done:
		t.Fatalf("host exited before it was ready (%v); log:\n%s", h.err, h.Logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("host not ready after 60s; log:\n%s", h.Logs())
	}
}

// Logs returns everything the host has written so far.
func (h *Host) Logs() string { return h.logs.String() }

// LogLines returns the host's JSON log lines, decoded.
func (h *Host) LogLines() []map[string]any {
	var lines []map[string]any
	for _, l := range strings.Split(h.Logs(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			lines = append(lines, m)
		}
	}
	return lines
}

// PluginPIDs returns the process IDs of the plugins the host reported ready.
func (h *Host) PluginPIDs() []int {
	var pids []int
	for _, l := range h.LogLines() {
		if l["@message"] == "model ready" {
			if pid, ok := l["pid"].(float64); ok && pid > 0 {
				pids = append(pids, int(pid))
			}
		}
	}
	return pids
}

// Running reports whether the host process is still running.
func (h *Host) Running() bool {
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// Signal sends sig to the host and waits up to timeout for it to exit,
// returning its exit error (nil for status 0).
func (h *Host) Signal(t testing.TB, sig os.Signal, timeout time.Duration) error {
	t.Helper()
	if err := h.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.done:
		return h.err
	case <-time.After(timeout):
		t.Fatalf("host still running %s after %v", timeout, sig)
		return nil
	}
}

// Send sends sig to the host and returns at once, without waiting for
// anything: for signals such as SIGHUP that the host handles and lives on.
func (h *Host) Send(t testing.TB, sig os.Signal) {
	t.Helper()
	if !h.Running() {
		t.Fatalf("cannot send %v: the host has exited (%v)", sig, h.err)
	}
	if err := h.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v to the host: %v", sig, err)
	}
}

// DoWith sends a request with the extra header fields and reads the whole
// response, as Do does.
func (h *Host) DoWith(t testing.TB, method, path string, header http.Header, body []byte) *Response {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Get sends a GET request to path.
func (h *Host) Get(t testing.TB, path string) *Response {
	t.Helper()
	return h.Do(t, http.MethodGet, path, "", nil)
}

// Post sends a POST request to path with the body and content type.
func (h *Host) Post(t testing.TB, path, contentType string, body []byte) *Response {
	t.Helper()
	return h.Do(t, http.MethodPost, path, contentType, body)
}

// Do sends a request and reads the whole response.
func (h *Host) Do(t testing.TB, method, path, contentType string, body []byte) *Response {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Response is a complete HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// ProcessGone reports whether the process pid has exited (a zombie counts as
// exited).
func ProcessGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}

// logBuffer collects the host's output and spots the "host ready" line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	ready   chan string
	sent    bool
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.partial = append(l.partial, p...)
	sc := bufio.NewScanner(bytes.NewReader(l.partial))
	consumed := 0
	for sc.Scan() {
		line := sc.Bytes()
		if consumed+len(line) >= len(l.partial) { // no newline yet
			break
		}
		consumed += len(line) + 1
		if l.sent {
			continue
		}
		var m struct {
			Message string `json:"@message"`
			Address string `json:"address"`
		}
		if json.Unmarshal(line, &m) == nil && m.Message == "host ready" {
			l.sent = true
			l.ready <- m.Address
		}
	}
	l.partial = l.partial[consumed:]
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Main is the TestMain of a package of end-to-end tests: it sets *b to a
// Builder whose binaries live in a temporary directory, runs the tests,
// removes the directory and exits with the tests' status.
func Main(m *testing.M, b **Builder) {
	dir, err := os.MkdirTemp("", "modelhost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *b, err = NewBuilder(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
