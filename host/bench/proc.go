package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelhost/modelhost/host/internal/procstat"
)

// server is a server process the benchmark started: the host or the
// baseline. Each announces itself with a ready log line whose address
// field is its URL: the host with its "host ready" line in hclog's text
// format (its default, which the benchmark keeps), the baseline with a
// "baseline ready" line in hclog's JSON format.
type server struct {
	name string
	cmd  *exec.Cmd
	// Addr is the host:port it listens on.
	Addr string
	// ReadyAfter is the time from starting the process to reading its
	// ready line.
	ReadyAfter time.Duration
	// Ready is the ready line, decoded.
	Ready readyLine

	logs  *logTail
	done  chan struct{}
	err   error // the exit status, once done is closed
	ready chan readyLine
}

// startServer starts cmd, whose output is hclog lines in text or JSON
// format, and waits until it logs readyMsg, at most timeout.
func startServer(name string, cmd *exec.Cmd, readyMsg string, timeout time.Duration) (*server, error) {
	s := &server{name: name, cmd: cmd, logs: &logTail{max: 400}, done: make(chan struct{}), ready: make(chan readyLine, 1)}
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
		s.Addr = strings.TrimPrefix(line.Address, "http://")
		if s.Addr == "" {
			s.kill()
			return nil, fmt.Errorf("%s: ready line without an address: %s", name, line.Line)
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
		if r, ok := parseReadyLine(line, readyMsg); ok {
			sent = true
			s.ready <- r
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// readyLine is what a server's ready line says.
type readyLine struct {
	// Line is the line as logged.
	Line string
	// Address is the server's URL.
	Address string
	// Models is the number of models the host serves, or -1 if the line
	// does not say (the baseline's).
	Models int
	// Startup is the host's own count of its start, or 0 if the line does
	// not say.
	Startup time.Duration
}

// logReady writes, on standard error, the ready line of a server process
// the benchmark starts itself (the baseline, a peer): msg and address as
// one hclog JSON line, which parseReadyLine reads.
func logReady(msg, address string) {
	line, _ := json.Marshal(map[string]any{"@level": "info", "@message": msg, "address": address})
	fmt.Fprintf(os.Stderr, "%s\n", line)
}

// parseReadyLine reads line as an hclog line, in JSON or in text format,
// and reports whether its message is msg.
func parseReadyLine(line, msg string) (readyLine, bool) {
	r := readyLine{Line: line, Models: -1}
	if strings.HasPrefix(strings.TrimSpace(line), "{") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["@message"] != msg {
			return readyLine{}, false
		}
		r.Address, _ = m["address"].(string)
		if n, ok := m["models"].(float64); ok {
			r.Models = int(n)
		}
		r.Startup = logDuration(m["startup"])
		return r, true
	}
	fields, ok := parseTextLine(line, msg)
	if !ok {
		return readyLine{}, false
	}
	r.Address = fields["address"]
	if n, err := strconv.Atoi(fields["models"]); err == nil {
		r.Models = n
	}
	r.Startup, _ = time.ParseDuration(fields["startup"])
	return r, true
}

// logDuration reads a duration from a JSON log line: hclog writes a
// time.Duration as its string, or as nanoseconds.
func logDuration(v any) time.Duration {
	switch v := v.(type) {
	case string:
		d, _ := time.ParseDuration(v)
		return d
	case float64:
		return time.Duration(v)
	}
	return 0
}

// parseTextLine reads line as hclog writes it in text format,
//
//	2026-11-25T23:47:36.398Z [INFO]  modelhost: host ready: address=http://127.0.0.1:41234 models=2
//
// and, if its message is msg, returns its fields. A value is quoted when it
// holds a space or another character outside '-' through '~'.
func parseTextLine(line, msg string) (map[string]string, bool) {
	// The time, if any, and the level in brackets.
	open := strings.IndexByte(line, '[')
	if open < 0 {
		return nil, false
	}
	shut := strings.IndexByte(line[open:], ']')
	if shut < 0 || !isLogLevel(line[open+1:open+shut]) {
		return nil, false
	}
	rest := strings.TrimLeft(line[open+shut+1:], " ")
	// The logger's name, if any, and the message.
	var after string
	switch i := strings.Index(rest, ": "+msg); {
	case strings.HasPrefix(rest, msg):
		after = rest[len(msg):]
	case i > 0 && !strings.ContainsRune(rest[:i], ' '):
		after = rest[i+2+len(msg):]
	default:
		return nil, false
	}
	fields := map[string]string{}
	if after == "" {
		return fields, true
	}
	if after[0] != ':' {
		return nil, false // a longer message
	}
	for s := after[1:]; ; {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return fields, true
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsRune(s[:eq], ' ') {
			return fields, true // not a field: keep those read
		}
		key := s[:eq]
		val, rest, ok := logValue(s[eq+1:])
		if !ok {
			return fields, true
		}
		fields[key] = val
		s = rest
	}
}

// isLogLevel reports whether s is a level as hclog's text format writes it
// in brackets.
func isLogLevel(s string) bool {
	switch strings.TrimSpace(s) {
	case "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "?????":
		return true
	}
	return false
}

// logValue reads the value at the start of s, in hclog's text format, and
// returns it with the rest of s.
func logValue(s string) (val, rest string, ok bool) {
	switch {
	case strings.HasPrefix(s, `"`):
		return unquoteLog(s)
	case strings.HasPrefix(s, "["):
		// A slice: [a, "b c"], which may hold spaces.
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '"':
				_, r, ok := unquoteLog(s[i:])
				if !ok {
					i = len(s)
					break
				}
				i = len(s) - len(r) - 1
			case ']':
				if i+1 == len(s) || s[i+1] == ' ' {
					return s[:i+1], s[i+1:], true
				}
			}
		}
	}
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		end = len(s)
	}
	return s[:end], s[end:], true
}

// unquoteLog reads the quoted value at the start of s and returns it with
// the rest of s. hclog quotes as strconv.Quote does, with one difference:
// it leaves a backslash of the value as it is, so a backslash that starts
// no escape stands for itself.
func unquoteLog(s string) (val, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], true
		case '\\':
			if e, n := logEscape(s[i+1:]); n > 0 {
				b.WriteString(e)
				i += 1 + n
				continue
			}
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", s, false
}

// logEscape reads the escape after a backslash at the start of s and
// returns what it stands for and its length, or 0 if it is none.
func logEscape(s string) (string, int) {
	if s == "" {
		return "", 0
	}
	switch s[0] {
	case 'a':
		return "\a", 1
	case 'b':
		return "\b", 1
	case 'f':
		return "\f", 1
	case 'n':
		return "\n", 1
	case 'r':
		return "\r", 1
	case 't':
		return "\t", 1
	case 'v':
		return "\v", 1
	case '"', '\\':
		return s[:1], 1
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[0]]
	if digits == 0 || len(s) < 1+digits {
		return "", 0
	}
	v, err := strconv.ParseUint(s[1:1+digits], 16, 32)
	if err != nil {
		return "", 0
	}
	if s[0] == 'x' {
		return string([]byte{byte(v)}), 1 + digits
	}
	return string(rune(v)), 1 + digits
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
