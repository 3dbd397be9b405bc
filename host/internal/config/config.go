package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Default values. They are applied by [Default], [Load] and [Parse] to every
// argument the configuration file omits.
const (
	DefaultAddress           = "127.0.0.1:8080"
	DefaultShutdownTimeout   = 15 * time.Second
	DefaultMaxBodyBytes      = 1 << 20 // 1 MiB
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second

	DefaultPluginDirectory = "bin/plugins"
	DefaultStartTimeout    = 10 * time.Second
	DefaultPredictTimeout  = 30 * time.Second

	DefaultMaxResponseBytes      = 16 << 20 // 16 MiB
	DefaultRestartMax            = 5
	DefaultRestartWindow         = time.Minute
	DefaultRestartBackoffInitial = 200 * time.Millisecond
	DefaultRestartBackoffMax     = 10 * time.Second
	DefaultDrainTimeout          = 10 * time.Second

	// MaxResponseBytesLimit is the largest plugins.max_response_bytes
	// accepted: the largest gRPC message a plugin sends
	// (plugin.MaxMessageBytes, 256 MiB).
	MaxResponseBytesLimit = 256 << 20

	// DefaultMaxBatchSize is the default plugins.max_batch_size.
	DefaultMaxBatchSize = 1000
	// MaxBatchSizeLimit is the largest plugins.max_batch_size accepted.
	MaxBatchSizeLimit = 1_000_000

	DefaultLogLevel  = "info"
	DefaultLogFormat = "text"

	// DefaultWatchDebounce is the default plugins.watch_debounce.
	DefaultWatchDebounce = 500 * time.Millisecond
	// MinWatchDebounce is the shortest plugins.watch_debounce accepted.
	MinWatchDebounce = 10 * time.Millisecond
	// MaxWatchDebounce is the longest plugins.watch_debounce accepted.
	MaxWatchDebounce = time.Minute
)

// Config is the decoded host configuration with defaults applied and relative
// paths resolved. It corresponds to the whole configuration file.
type Config struct {
	// Server configures the HTTP listener. From the server block; every
	// field has a default.
	Server Server

	// Plugins configures plugin discovery and the timeouts shared by all
	// plugins. From the plugins block; every field has a default.
	Plugins Plugins

	// Models lists the plugins declared explicitly with model blocks, in
	// file order. Names are unique. Default: none (nil).
	Models []Model

	// Log configures the host's logger. From the log block; every field has
	// a default.
	Log Log

	// Auth lists the API tokens that requests under /api/ must present.
	// From the auth block; default: none, no authentication.
	Auth Auth

	// Admin lists the tokens that authorise the admin endpoints, such as
	// POST /admin/reload. From the admin block; default: none, admin
	// endpoints off.
	Admin Admin

	// CORS lists the web origins whose pages may call the API from a
	// browser. From the cors block; default: none, CORS off.
	CORS CORS
}

// Server holds the settings of the server block.
type Server struct {
	// Address is the TCP address the HTTP server listens on, as host:port.
	// The host may be empty to listen on all interfaces; the port must be a
	// number from 0 to 65535 (0 picks a free port). The serve command's
	// --address flag overrides it. Argument: address. Default:
	// "127.0.0.1:8080".
	Address string

	// ShutdownTimeout bounds graceful shutdown: once shutdown begins, the
	// server waits at most this long for in-flight requests to finish.
	// Argument: shutdown_timeout. Default: 15s.
	ShutdownTimeout time.Duration

	// MaxBodyBytes is the largest request body accepted, in bytes; larger
	// bodies are rejected with 413 Request Entity Too Large. Must be greater
	// than zero. Argument: max_body_bytes (an integer). Default: 1048576
	// (1 MiB).
	MaxBodyBytes int64

	// ReadTimeout is the maximum duration for reading an entire request,
	// including the body (http.Server.ReadTimeout). Argument: read_timeout.
	// Default: 30s.
	ReadTimeout time.Duration

	// WriteTimeout is the maximum duration before timing out writes of the
	// response (http.Server.WriteTimeout). Argument: write_timeout.
	// Default: 60s.
	WriteTimeout time.Duration

	// IdleTimeout is the maximum time to wait for the next request on a
	// keep-alive connection (http.Server.IdleTimeout). Argument:
	// idle_timeout. Default: 120s.
	IdleTimeout time.Duration

	// ReadHeaderTimeout is the amount of time allowed to read request
	// headers (http.Server.ReadHeaderTimeout). Argument:
	// read_header_timeout. Default: 10s.
	ReadHeaderTimeout time.Duration

	// MaxHeaderBytes is the largest request line plus header section
	// accepted, in bytes; larger ones are answered 431 Request Header
	// Fields Too Large (http.Server.MaxHeaderBytes). From 1024 to
	// MaxHeaderBytesLimit. Argument: max_header_bytes. Default: 65536
	// (64 KiB).
	MaxHeaderBytes int

	// ReadyWithFailedModels makes GET /readyz answer 200 once no model is
	// still starting, even if some failed; when false it answers 200 only
	// once every model is ready. Unlike the other server settings, a
	// reload applies it. Argument: ready_with_failed_models. Default:
	// false.
	ReadyWithFailedModels bool
}

// Plugins holds the settings of the plugins block.
type Plugins struct {
	// Directory is the plugin discovery directory: every executable regular
	// file in it is launched as a plugin. A relative path is resolved
	// against the directory holding the configuration file, so after Load or
	// Parse it is absolute. The empty string disables discovery; only model
	// blocks are launched then. Argument: directory. Default: "bin/plugins"
	// (relative to the working directory when no configuration file is
	// used, see Default).
	Directory string

	// StartTimeout is how long a plugin may take to complete the go-plugin
	// handshake and describe itself. Argument: start_timeout. Default: 10s.
	StartTimeout time.Duration

	// PredictTimeout is the default deadline of one predict call to a
	// plugin (the gRPC deadline). A model block may override it. Argument:
	// predict_timeout. Default: 30s.
	PredictTimeout time.Duration

	// Limits are every model's concurrency limit and wait queue, unless
	// its model block sets its own. Arguments: max_concurrency, max_queue,
	// queue_timeout. Default: DefaultLimits().
	Limits Limits

	// RequireChecksums makes discovery in Directory launch only the
	// binaries listed, with their SHA-256 digest, in a file named SHA256SUMS
	// in that directory (the format sha256sum writes), and requires every
	// model block to set sha256. Argument: require_checksums. Default:
	// false.
	RequireChecksums bool

	// MaxResponseBytes is the largest answer accepted from a plugin, in
	// bytes; a larger one is refused (502) without being held in memory
	// whole. At most MaxResponseBytesLimit. Argument: max_response_bytes.
	// Default: 16777216 (16 MiB).
	MaxResponseBytes int64

	// MaxBatchSize is the most inputs one batch predict request
	// (POST /api/models/{name}/predict/batch) may carry; more are answered
	// 413. From 1 to MaxBatchSizeLimit. Argument: max_batch_size. Default:
	// 1000.
	MaxBatchSize int

	// RestartMax is how many times a plugin that exits unexpectedly is
	// relaunched within RestartWindow; the next crash in the window marks
	// the model failed and it is not relaunched again. 0 never relaunches.
	// Argument: restart_max. Default: 5.
	RestartMax int

	// RestartWindow is the sliding window RestartMax counts crashes in.
	// Argument: restart_window. Default: 1m.
	RestartWindow time.Duration

	// RestartBackoffInitial is the delay before relaunching a plugin after
	// its first crash in RestartWindow; it doubles with each further crash
	// in the window, with ±20% jitter, up to RestartBackoffMax. Argument:
	// restart_backoff_initial. Default: 200ms.
	RestartBackoffInitial time.Duration

	// RestartBackoffMax caps the relaunch delay. Must not be less than
	// RestartBackoffInitial. Argument: restart_backoff_max. Default: 10s.
	RestartBackoffMax time.Duration

	// DrainTimeout bounds how long stopping a plugin waits for its
	// in-flight predict calls to finish before the process is stopped.
	// Argument: drain_timeout. Default: 10s.
	DrainTimeout time.Duration

	// Watch makes the host watch Directory and reload its plugins when
	// binaries are added to it, replaced or removed. It has no effect when
	// Directory is empty. Argument: watch. Default: true.
	Watch bool

	// WatchDebounce is how long the directory must stay unchanged after a
	// change before the reload starts, so that a binary being copied is
	// not launched half-written and several files replaced together cause
	// one reload. From MinWatchDebounce (10ms) to MaxWatchDebounce (1m).
	// Argument: watch_debounce. Default: 500ms.
	WatchDebounce time.Duration

	// PinnedVersions maps a model's qualified name to the version that
	// POST /api/models/{name}/predict uses when several plugins serve that
	// name at different versions; without a pin it uses the highest.
	// Keys are qualified names (sdk.ValidQualifiedName), values semantic
	// versions without a leading "v" (sdk.ValidVersion). Argument:
	// pinned_versions (a map of strings). Default: none (nil).
	PinnedVersions map[string]string
}

// Model holds one model block: a plugin declared explicitly rather than
// discovered in Plugins.Directory.
type Model struct {
	// Name is the block label, a local name used in logs and error
	// messages. It is non-empty and unique among model blocks. Required
	// (the label of the model block).
	Name string

	// Command is the path of the plugin executable. A relative path is
	// resolved against the directory holding the configuration file (there
	// is no PATH lookup), so after Load or Parse it is absolute. Argument:
	// command. Required; must not be empty.
	Command string

	// Args are the command-line arguments passed to the plugin, not
	// including the program name. Argument: args (a list of strings).
	// Default: none (nil).
	Args []string

	// Env is the complete environment of the plugin process: the host's own
	// environment is not inherited, the plugin sees only these variables
	// plus the handshake variables go-plugin adds itself. Names are
	// non-empty and contain neither '=' nor NUL; values contain no NUL. Use
	// Environ to obtain it in os/exec form. Argument: env (a map of
	// strings). Default: none (nil), i.e. an empty environment.
	Env map[string]string

	// PredictTimeout is the deadline of one predict call to this plugin.
	// Argument: predict_timeout. Default: Plugins.PredictTimeout.
	PredictTimeout time.Duration

	// Limits are this model's concurrency limit and wait queue. Arguments:
	// max_concurrency, max_queue, queue_timeout; each defaults to the
	// plugins block's.
	Limits Limits

	// SHA256 pins the plugin binary: its SHA-256 digest as 64 lowercase
	// hexadecimal digits. A binary with another digest is not launched.
	// Argument: sha256 (upper-case digits are accepted). Default: "", no
	// check; required when Plugins.RequireChecksums is set.
	SHA256 string

	// DeclRange is the source range of the block header (model "name"),
	// for pointing later errors about this model at the configuration.
	DeclRange hcl.Range
}

// Environ returns m.Env as a sorted list of "NAME=value" strings, suitable
// for exec.Cmd.Env. The result is never nil, so assigning it to exec.Cmd.Env
// does not make the process inherit the host environment. (With go-plugin,
// also set ClientConfig.SkipHostEnv, or go-plugin appends os.Environ().)
func (m Model) Environ() []string {
	env := make([]string, 0, len(m.Env))
	for k, v := range m.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// Log holds the settings of the log block.
type Log struct {
	// Level is the minimum level logged: "trace", "debug", "info", "warn"
	// or "error". Argument: level. Default: "info".
	Level string

	// Format selects the log output format: "text" (human-readable) or
	// "json" (one JSON object per line). Argument: format. Default: "text".
	Format string

	// Access logs one line per HTTP request. Argument: access. Default:
	// true.
	Access bool
}

// LogLevels lists the valid values of Log.Level, from most to least verbose.
func LogLevels() []string { return []string{"trace", "debug", "info", "warn", "error"} }

// LogFormats lists the valid values of Log.Format.
func LogFormats() []string { return []string{"text", "json"} }

// Default returns the configuration used when no configuration file is
// given: every field at its default and no model blocks. Plugins.Directory is
// the relative path "bin/plugins", i.e. relative to the working directory.
func Default() *Config {
	return &Config{
		Server: Server{
			Address:           DefaultAddress,
			ShutdownTimeout:   DefaultShutdownTimeout,
			MaxBodyBytes:      DefaultMaxBodyBytes,
			ReadTimeout:       DefaultReadTimeout,
			WriteTimeout:      DefaultWriteTimeout,
			IdleTimeout:       DefaultIdleTimeout,
			ReadHeaderTimeout: DefaultReadHeaderTimeout,
			MaxHeaderBytes:    DefaultMaxHeaderBytes,
		},
		Plugins: Plugins{
			Directory:      DefaultPluginDirectory,
			StartTimeout:   DefaultStartTimeout,
			PredictTimeout: DefaultPredictTimeout,
			Limits:         DefaultLimits(),

			MaxResponseBytes:      DefaultMaxResponseBytes,
			MaxBatchSize:          DefaultMaxBatchSize,
			RestartMax:            DefaultRestartMax,
			RestartWindow:         DefaultRestartWindow,
			RestartBackoffInitial: DefaultRestartBackoffInitial,
			RestartBackoffMax:     DefaultRestartBackoffMax,
			DrainTimeout:          DefaultDrainTimeout,
			Watch:                 true,
			WatchDebounce:         DefaultWatchDebounce,
		},
		Log: Log{
			Level:  DefaultLogLevel,
			Format: DefaultLogFormat,
			Access: true,
		},
	}
}

// Load reads, parses and validates the configuration file at path. Relative
// paths in the file are resolved against the absolute form of the directory
// holding it. Diagnostics name the file as path was given.
//
// If the file cannot be read, the error wraps the underlying os error (so
// errors.Is(err, fs.ErrNotExist) works). Otherwise any error is an [*Error].
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(src, path, filepath.Dir(abs))
}

// Parse parses and validates configuration source src. filename is used in
// diagnostics only. baseDir is the directory relative paths are resolved
// against; if it is not absolute it is first made absolute with
// filepath.Abs (so "" means the working directory).
//
// Any error is an [*Error].
func Parse(src []byte, filename string, baseDir string) (*Config, error) {
	if !filepath.IsAbs(baseDir) {
		abs, err := filepath.Abs(baseDir)
		if err != nil {
			return nil, &Error{Diagnostics: hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Cannot resolve base directory",
				Detail:   fmt.Sprintf("Relative paths in %s cannot be resolved: %v.", filename, err),
				Subject:  &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
			}}}
		}
		baseDir = abs
	}
	cfg, diags := decode(src, filename, baseDir)
	if diags.HasErrors() {
		return nil, newError(diags)
	}
	return cfg, nil
}
