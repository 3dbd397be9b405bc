package launcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/modelhost/modelhost/sdk/plugin"
)

// Options are the settings shared by every launch.
type Options struct {
	// Logger is the parent of each plugin's named logger.
	Logger hclog.Logger
	// StartTimeout bounds the handshake and the first Describe call.
	StartTimeout time.Duration
}

// Plugin is a started plugin process and the model it serves.
type Plugin struct {
	Spec Spec
	// Model is the plugin's model as the host sees it.
	Model *plugin.RemoteModel
	// StartDuration is how long the plugin took to become ready.
	StartDuration time.Duration

	client *goplugin.Client
	logger hclog.Logger
}

// Logger returns the plugin's named logger.
func (p *Plugin) Logger() hclog.Logger { return p.logger }

// Exited reports whether the plugin process has exited.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Stop asks the plugin to exit and kills it if it does not within a grace
// period (go-plugin's, two seconds).
func (p *Plugin) Stop() { p.client.Kill() }

// PID returns the plugin's process ID, or 0 if unknown.
func (p *Plugin) PID() int {
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Launch starts the plugin described by spec, completes the go-plugin
// handshake and fetches the model's metadata, all within
// opts.StartTimeout. On failure the process is stopped and the error says
// why in terms an operator can act on.
func Launch(ctx context.Context, spec Spec, opts Options) (*Plugin, error) {
	begin := time.Now()
	if err := checkExecutable(spec.Command); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	logger := fixedName{opts.Logger.Named(spec.Name)}
	tail := &tailBuffer{max: 4096}
	cmd := exec.Command(spec.Command, spec.Args...)
	cmd.Env = append(append([]string{}, spec.Env...), plugin.LogLevelEnv+"="+levelName(logger))
	isolate(cmd)
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  plugin.HandshakeConfig(),
		Plugins:          plugin.PluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		Managed:          true,
		StartTimeout:     opts.StartTimeout,
		Logger:           logger,
		Stderr:           tail,
		SyncStdout:       &lineLogger{logger: logger, stream: "stdout"},
		SyncStderr:       &lineLogger{logger: logger, stream: "stderr"},
		GRPCDialOptions:  plugin.GRPCDialOptions(),
	})
	fail := func(err error) (*Plugin, error) {
		client.Kill()
		if t := tail.String(); t != "" {
			err = fmt.Errorf("%w; the plugin's last output: %s", err, t)
		}
		return nil, err
	}
	protocol, err := client.Client()
	if err != nil {
		return fail(explainStartError(err, opts.StartTimeout))
	}
	remaining := opts.StartTimeout - time.Since(begin)
	dctx, cancel := context.WithTimeout(ctx, max(remaining, time.Second))
	defer cancel()
	model, err := plugin.Connect(dctx, protocol)
	if err != nil {
		return fail(fmt.Errorf("plugin started but did not describe its model: %w", err))
	}
	return &Plugin{
		Spec:          spec,
		Model:         model,
		StartDuration: time.Since(begin),
		client:        client,
		logger:        logger,
	}, nil
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
