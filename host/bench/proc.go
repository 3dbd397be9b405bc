package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelhost/modelhost/host/internal/procstat"
)

// server is a server process the benchmark started: the host or the
// baseline. Both announce themselves with a JSON log line whose @message
// is ready and whose address field is their URL, as the host's
// "host ready" line does.
type server struct {
	name string
	cmd  *exec.Cmd
	// Addr is the host:port it listens on.
	Addr string
	// ReadyAfter is the time from starting the process to reading its
	// ready line.
	ReadyAfter time.Duration
	// Ready is the ready line, decoded.
	Ready map[string]any

	logs  *logTail
	done  chan struct{}
	err   error // the exit status, once done is closed
	ready chan map[string]any
}

// startServer starts cmd, whose output is JSON log lines, and waits until
// it logs readyMsg, at most timeout.
func startServer(name string, cmd *exec.Cmd, readyMsg string, timeout time.Duration) (*server, error) {
	s := &server{name: name, cmd: cmd, logs: &logTail{max: 400}, done: make(chan struct{}), ready: make(chan map[string]any, 1)}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	dieWithParent(cmd)
	go s.scan(pr, readyMsg)
	begin := time.Now()
	if err := startCmd(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		s.err = cmd.Wait()
		_ = pw.Close()
		close(s.done)
	}()
	select {
	case line := <-s.ready:
		s.ReadyAfter = time.Since(begin)
		s.Ready = line
		addr, _ := line["address"].(string)
		s.Addr = strings.TrimPrefix(addr, "http://")
		if s.Addr == "" {
			s.kill()
			return nil, fmt.Errorf("%s: ready line without an address: %v", name, line)
		}
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("%s exited before it was ready (%v); its last output:\n%s", name, s.err, s.logs)
	case <-time.After(timeout):
		s.kill()
		return nil, fmt.Errorf("%s not ready after %v; its last output:\n%s", name, timeout, s.logs)
	}
}

func (s *server) scan(r io.Reader, readyMsg string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		s.logs.add(line)
		if sent || !strings.Contains(line, readyMsg) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["@message"] == readyMsg {
			sent = true
			s.ready <- m
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// PID returns the process ID.
func (s *server) PID() int { return s.cmd.Process.Pid }

// Stop asks the process to exit with SIGTERM and waits for it, killing it
// after timeout.
func (s *server) Stop(timeout time.Duration) error {
	select {
	case <-s.done:
		return s.exitErr()
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return s.exitErr()
	case <-time.After(timeout):
		s.kill()
		return fmt.Errorf("%s did not exit within %v of SIGTERM; killed", s.name, timeout)
	}
}

func (s *server) exitErr() error {
	if s.err != nil {
		return fmt.Errorf("%s: %w; its last output:\n%s", s.name, s.err, s.logs)
	}
	return nil
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Running reports whether the process has not exited.
func (s *server) Running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// procMemory is the memory of one process of a server.
type procMemory struct {
	Server string `json:"server"`
	// Role is "host", "baseline" or "plugin".
	Role string `json:"role"`
	// Name is the plugin's model, or the server's name.
	Name string `json:"name"`
	PID  int    `json:"pid"`
	procstat.Memory
}

// Memory reads the memory of the server process and of its children (the
// plugins, for the host). A plugin is named by its BENCH_NAME, or else by
// its executable.
func (s *server) Memory(role string) ([]procMemory, error) {
	m, err := procstat.ReadMemory(s.PID())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	out := []procMemory{{Server: s.name, Role: role, Name: s.name, PID: s.PID(), Memory: m}}
	kids, err := procstat.Children(s.PID())
	if err != nil {
		return nil, err
	}
	for _, pid := range kids {
		m, err := procstat.ReadMemory(pid)
		if err != nil {
			continue // exited meanwhile
		}
		name := procstat.Env(pid, "BENCH_NAME")
		if name == "" {
			name = procstat.Exe(pid)
		}
		out = append(out, procMemory{Server: s.name, Role: "plugin", Name: name, PID: pid, Memory: m})
	}
	return out, nil
}

// logTail keeps the last max lines written to it.
type logTail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (l *logTail) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > l.max {
		l.lines = l.lines[len(l.lines)-l.max:]
	}
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
