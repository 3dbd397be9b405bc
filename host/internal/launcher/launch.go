package launcher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// Options are the settings shared by every launch.
type Options struct {
	// Logger is the parent of each plugin's named logger.
	Logger hclog.Logger
	// StartTimeout bounds the handshake and the first Describe call.
	StartTimeout time.Duration
	// RuntimeDir, if not nil, holds each launch's Unix socket and pid
	// file. Nil leaves the socket in the plugin's default temporary
	// directory.
	RuntimeDir *RuntimeDir
	// MaxResponseBytes bounds one answer of the plugin; a larger one is
	// refused with a *ResponseTooLargeError. Zero or less means
	// config.DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// Plugin is a started plugin process and the model it serves.
type Plugin struct {
	Spec Spec
	// StartDuration is how long the plugin took to become ready.
	StartDuration time.Duration

	model     *limitedModel
	client    *goplugin.Client
	cmd       *exec.Cmd
	logger    hclog.Logger
	pid       int
	launchDir string // "" without a runtime directory

	exited   chan struct{} // closed once the process has exited
	exitOnce sync.Once
	stopping chan struct{} // closed when Stop begins
	stopOnce sync.Once
	mu       sync.Mutex
	reason   string // how the process ended, once known
}

// Model returns the plugin's model as the host sees it.
func (p *Plugin) Model() sdk.MLModel { return p.model }

// Logger returns the plugin's named logger.
func (p *Plugin) Logger() hclog.Logger { return p.logger }

// Exited reports whether the plugin process has exited.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Done returns a channel that is closed once the plugin process has exited,
// whether it stopped on its own, crashed or was stopped by Stop. The exit
// is noticed within exitPollInterval.
func (p *Plugin) Done() <-chan struct{} { return p.exited }

// ExitReason says how the process ended, such as "exit status 1" or
// "signal: killed"; "" while it runs or when unknown.
func (p *Plugin) ExitReason() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reason
}

// PID returns the plugin's process ID, or 0 if unknown.
func (p *Plugin) PID() int { return p.pid }

// exitPollInterval is how often a plugin's exit is looked for. go-plugin
// v1.8.0 notices the exit (it waits on the process) but tells only through
// Client.Exited; a ClientConfig.RunnerFunc that wraps the wait would tell
// at once, but go-plugin then checks SecureConfig's checksum against an
// empty path, so pinned binaries could not be launched.
const exitPollInterval = 100 * time.Millisecond

// gracefulStop bounds go-plugin's Kill: it asks the plugin to exit, waits
// two seconds, kills the process, then waits for the process's output
// pipes to close, which a child of the plugin can hold open forever.
const gracefulStop = 3 * time.Second

// watch closes p.exited once the process has exited.
func (p *Plugin) watch() {
	t := time.NewTicker(exitPollInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if p.client.Exited() {
				p.markExited()
				return
			}
		case <-p.stopping:
			return
		}
	}
}

// markExited records how the process ended and closes p.exited. It must be
// called only once the process has been waited for (client.Exited is true
// or client.Kill has returned), so that cmd.ProcessState is set.
func (p *Plugin) markExited() {
	p.exitOnce.Do(func() {
		p.mu.Lock()
		if ps := p.cmd.ProcessState; ps != nil {
			p.reason = ps.String()
		}
		p.mu.Unlock()
		close(p.exited)
	})
}

// Stop asks the plugin to exit, kills it if it does not within a grace
// period (go-plugin's, two seconds), then kills what is left of its
// process group and removes its socket directory. It returns once the
// process is gone; it may be called more than once, and concurrently.
func (p *Plugin) Stop() {
	p.stopOnce.Do(func() {
		close(p.stopping)
		killed := make(chan struct{})
		go func() {
			p.client.Kill()
			close(killed)
		}()
		select {
		case <-killed:
		case <-time.After(gracefulStop):
		}
		// The plugin's own children, if any, share its process group.
		killGroup(p.pid)
		select {
		case <-killed:
			p.markExited()
		case <-time.After(5 * time.Second):
			p.logger.Error("plugin process group still holds the plugin's output open after SIGKILL; giving up on it", "pid", p.pid)
			p.exitOnce.Do(func() { close(p.exited) })
		}
		if p.launchDir != "" {
			_ = os.RemoveAll(p.launchDir)
		}
	})
}

// Launch starts the plugin described by spec, completes the go-plugin
// handshake and fetches the model's metadata, all within
// opts.StartTimeout. On failure the process is stopped and the error says
// why in terms an operator can act on. Each call starts a new process.
func Launch(ctx context.Context, spec Spec, opts Options) (*Plugin, error) {
	begin := time.Now()
	if err := checkExecutable(spec.Command); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = config.DefaultMaxResponseBytes
	}
	logger := fixedName{opts.Logger.Named(spec.Name)}
	tail := &tailBuffer{max: 4096}
	cmd := exec.Command(spec.Command, spec.Args...)
	cmd.Env = append(append([]string{}, spec.Env...),
		plugin.LogLevelEnv+"="+levelName(logger),
		plugin.HostPIDEnv+"="+strconv.Itoa(os.Getpid()))
	var launchDir string
	if opts.RuntimeDir != nil {
		var err error
		if launchDir, err = opts.RuntimeDir.newLaunchDir(); err != nil {
			return nil, fmt.Errorf("create the plugin's socket directory: %w", err)
		}
		cmd.Env = append(cmd.Env, goplugin.EnvUnixSocketDir+"="+launchDir)
	}
	isolate(cmd)
	var secure *goplugin.SecureConfig
	if spec.SHA256 != nil {
		// A fresh hash per launch: go-plugin writes the file into it.
		secure = &goplugin.SecureConfig{Checksum: spec.SHA256, Hash: sha256.New()}
	}
	// Mutual TLS as go-plugin's AutoMTLS, with P-256 keys instead of
	// P-521 ones: see plugin.PrepareTLS. A nil config (where the plugin
	// cannot inherit the key's pipe) means AutoMTLS.
	tlsConfig, tlsDone, err := plugin.PrepareTLS(cmd)
	if err != nil {
		if launchDir != "" {
			_ = os.RemoveAll(launchDir)
		}
		return nil, fmt.Errorf("set up TLS for the plugin: %w", err)
	}
	defer tlsDone()
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  plugin.HandshakeConfig(),
		Plugins:          plugin.PluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		TLSConfig:        tlsConfig,
		AutoMTLS:         tlsConfig == nil,
		SkipHostEnv:      true,
		Managed:          true,
		StartTimeout:     opts.StartTimeout,
		Logger:           logger,
		Stderr:           tail,
		SyncStdout:       &lineLogger{logger: logger, stream: "stdout"},
		SyncStderr:       &lineLogger{logger: logger, stream: "stderr"},
		GRPCDialOptions:  append(plugin.GRPCDialOptions(), responseLimit(opts.MaxResponseBytes)),
		SecureConfig:     secure,
	})
	fail := func(err error) (*Plugin, error) {
		client.Kill()
		if cmd.Process != nil { // started, in this goroutine, by client.Client
			killGroup(cmd.Process.Pid)
		}
		if launchDir != "" {
			_ = os.RemoveAll(launchDir)
		}
		if t := tail.String(); t != "" {
			err = &StartError{Err: err, Output: t}
		}
		return nil, err
	}
	protocol, err := client.Client()
	if err != nil {
		if spec.SHA256 != nil && (errors.Is(err, goplugin.ErrChecksumsDoNotMatch) || strings.Contains(err.Error(), "error verifying checksum")) {
			return fail(checksumError(spec, err))
		}
		return fail(explainStartError(err, opts.StartTimeout))
	}
	pid := cmd.Process.Pid
	if launchDir != "" {
		if err := writePIDFile(launchDir, pid); err != nil {
			logger.Warn("cannot record the plugin's PID; a host started after this one is killed will not stop it", "error", err)
		}
	}
	remaining := opts.StartTimeout - time.Since(begin)
	dctx, cancel := context.WithTimeout(ctx, max(remaining, time.Second))
	defer cancel()
	model, err := plugin.Connect(dctx, protocol, plugin.WithMaxOutputBytes(opts.MaxResponseBytes))
	if err != nil {
		return fail(fmt.Errorf("plugin started but did not describe its model: %w", err))
	}
	p := &Plugin{
		Spec:          spec,
		StartDuration: time.Since(begin),
		model:         &limitedModel{RemoteModel: model, limit: opts.MaxResponseBytes},
		client:        client,
		cmd:           cmd,
		logger:        logger,
		pid:           pid,
		launchDir:     launchDir,
		exited:        make(chan struct{}),
		stopping:      make(chan struct{}),
	}
	go p.watch()
	return p, nil
}

// checksumError explains a launch that go-plugin refused because the
// binary does not have its pinned digest, with both digests.
func checksumError(spec Spec, err error) error {
	ce := &ChecksumError{Path: spec.Command, Want: spec.SHA256, Origin: spec.ChecksumOrigin}
	if ce.Origin == "" {
		ce.Origin = "its configuration"
	}
	if ce.Got, ce.ReadFail = FileSHA256(spec.Command); ce.ReadFail != nil {
		ce.Got = nil
	} else if bytes.Equal(ce.Got, ce.Want) {
		// The file changed between go-plugin's check and this one.
		ce.ReadFail = err
		ce.Got = nil
	}
	return ce
}

// StartError is a plugin that did not start, with what it wrote to its
// standard error before giving up.
type StartError struct {
	Err    error
	Output string // the last 4 KiB, on one line
}

func (e *StartError) Error() string {
	return fmt.Sprintf("%v; the plugin's last output: %s", e.Err, e.Output)
}

func (e *StartError) Unwrap() error { return e.Err }

// Reason returns err's message without the plugin's own output, for places
// that show it to someone other than the operator (the model's status in
// the HTTP API): a plugin's output may hold anything.
func Reason(err error) string {
	var se *StartError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	return err.Error()
}

// Permanent reports whether err is a launch failure that relaunching does
// not cure, such as a checksum mismatch.
func Permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// Result is the outcome of launching one spec.
type Result struct {
	Spec   Spec
	Plugin *Plugin // nil on failure
	Err    error
}

// LaunchAll launches every spec concurrently and returns one result per
// spec, in the order given.
func LaunchAll(ctx context.Context, specs []Spec, opts Options) []Result {
	results := make([]Result, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() {
			p, err := Launch(ctx, s, opts)
			results[i] = Result{Spec: s, Plugin: p, Err: err}
		})
	}
	wg.Wait()
	return results
}

func checkExecutable(path string) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("plugin binary %s does not exist", path)
	case err != nil:
		return fmt.Errorf("plugin binary: %w", err)
	case info.IsDir():
		return fmt.Errorf("plugin binary %s is a directory", path)
	case info.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("plugin binary %s is not executable (chmod +x it)", path)
	}
	return nil
}

// explainStartError turns go-plugin's start errors into advice. go-plugin's
// own text runs over several lines of generic hints; only its first line is
// kept, since the plugin's own output is attached by the caller.
func explainStartError(err error, timeout time.Duration) error {
	msg := err.Error()
	first, _, _ := strings.Cut(msg, "\n")
	switch {
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("plugin did not complete the handshake within %s (plugins.start_timeout): it hangs at start or is not a modelhost plugin", timeout)
	case strings.Contains(msg, "exited before we could connect"),
		strings.Contains(msg, "Failed to read any lines from plugin's stdout"):
		return errors.New("plugin exited during start-up, before the handshake: it failed to start (see its output), or it is not a modelhost plugin")
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		return fmt.Errorf("program is not a modelhost plugin: it wrote something other than the go-plugin handshake to stdout (%s)", first)
	case strings.Contains(msg, "Incompatible API version"):
		return fmt.Errorf("plugin speaks another protocol version than this host (%d): rebuild it with a matching SDK: %s", plugin.ProtocolVersion, first)
	}
	return fmt.Errorf("start plugin: %s", first)
}

func levelName(l hclog.Logger) string {
	switch l.GetLevel() {
	case hclog.Trace:
		return "trace"
	case hclog.Debug:
		return "debug"
	case hclog.Warn:
		return "warn"
	case hclog.Error, hclog.Off:
		return "error"
	default:
		return "info"
	}
}

// fixedName is an hclog.Logger that ignores further naming. go-plugin names
// the logger of a plugin's output after the binary; the plugin's log lines
// should carry the name the operator knows it by (the model block's label
// or the file name) once, not both.
type fixedName struct{ hclog.Logger }

func (l fixedName) Named(string) hclog.Logger      { return l }
func (l fixedName) ResetNamed(string) hclog.Logger { return l }

// lineLogger logs what a plugin wrote to its standard streams outside of
// go-plugin's log protocol, one log line per line written.
type lineLogger struct {
	logger hclog.Logger
	stream string
	mu     sync.Mutex
	buf    []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.logger.Warn("plugin wrote to "+w.stream, "line", string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a very long line without a newline
		w.logger.Warn("plugin wrote to "+w.stream, "line", string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

// String returns the buffered output on one line.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(strings.Fields(strings.ToValidUTF8(string(t.buf), "?")), " ")
}
