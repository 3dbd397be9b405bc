package config

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

// ignoreRanges drops source ranges from comparisons; tests that care about
// them check them explicitly. It drops the models' limits too: they are
// the plugins block's unless overridden, which limits_test.go checks.
var ignoreRanges = cmpopts.IgnoreFields(Model{}, "DeclRange", "Limits")

// defaultsAt returns Default() as Parse produces it for baseDir.
func defaultsAt(baseDir string) *Config {
	c := Default()
	c.Plugins.Directory = filepath.Join(baseDir, DefaultPluginDirectory)
	return c
}

func TestDefault(t *testing.T) {
	want := &Config{
		Server: Server{
			Address:           "127.0.0.1:8080",
			ShutdownTimeout:   15 * time.Second,
			MaxBodyBytes:      1 << 20,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ReadHeaderTimeout: 10 * time.Second,
			MaxHeaderBytes:    64 << 10,
		},
		Plugins: Plugins{
			Directory:      "bin/plugins",
			StartTimeout:   10 * time.Second,
			PredictTimeout: 30 * time.Second,
			Limits:         Limits{MaxConcurrency: 64, MaxQueue: 256, QueueTimeout: 5 * time.Second},

			MaxResponseBytes:      16 << 20,
			MaxBatchSize:          1000,
			RestartMax:            5,
			RestartWindow:         time.Minute,
			RestartBackoffInitial: 200 * time.Millisecond,
			RestartBackoffMax:     10 * time.Second,
			DrainTimeout:          10 * time.Second,
			Watch:                 true,
			WatchDebounce:         500 * time.Millisecond,
		},
		Log: Log{Level: "info", Format: "text", Access: true},
	}
	got := Default()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Default() mismatch (-want +got):\n%s", diff)
	}

	// Each call returns an independent value.
	got.Server.Address = "changed"
	if again := Default(); again.Server.Address != DefaultAddress {
		t.Errorf("Default().Server.Address after modifying an earlier result: got %q, want %q", again.Server.Address, DefaultAddress)
	}
}

func TestParse(t *testing.T) {
	base := t.TempDir()
	tests := []struct {
		name string
		src  string
		want func() *Config
	}{
		{
			name: "empty file",
			src:  "",
			want: func() *Config { return defaultsAt(base) },
		},
		{
			name: "comments only",
			src:  "# nothing here\n// nor here\n/* or here */\n",
			want: func() *Config { return defaultsAt(base) },
		},
		{
			name: "empty blocks",
			src:  "server {}\nplugins {}\nlog {}\n",
			want: func() *Config { return defaultsAt(base) },
		},
		{
			name: "null means default",
			src: `server {
  address = null
  max_body_bytes = null
}
plugins {
  directory = null
  predict_timeout = null
}
model "m" {
  command = "m"
  args = null
  env = null
  predict_timeout = null
}
`,
			want: func() *Config {
				c := defaultsAt(base)
				c.Models = []Model{{Name: "m", Command: filepath.Join(base, "m"), PredictTimeout: DefaultPredictTimeout}}
				return c
			},
		},
		{
			name: "full file",
			src: `server {
  address             = "0.0.0.0:9000"
  shutdown_timeout    = "1m"
  max_body_bytes      = 4096
  read_timeout        = "1s"
  write_timeout       = "2s"
  idle_timeout        = "3s"
  read_header_timeout = "500ms"
}

plugins {
  directory       = "/opt/plugins"
  start_timeout   = "4s"
  predict_timeout = "5s"
}

model "iris" {
  command         = "/opt/iris/iris"
  args            = ["--threads", "2"]
  env             = { OMP_NUM_THREADS = "2", "LANG" = "C.UTF-8", N = 3 }
  predict_timeout = "250ms"
}

model "echo" {
  command = "/opt/echo"
  args    = []
  env     = {}
}

log {
  level  = "debug"
  format = "json"
}
`,
			want: func() *Config {
				return &Config{
					Server: Server{
						Address:           "0.0.0.0:9000",
						ShutdownTimeout:   time.Minute,
						MaxBodyBytes:      4096,
						ReadTimeout:       time.Second,
						WriteTimeout:      2 * time.Second,
						IdleTimeout:       3 * time.Second,
						ReadHeaderTimeout: 500 * time.Millisecond,
						MaxHeaderBytes:    DefaultMaxHeaderBytes,
					},
					Plugins: Plugins{
						Directory:      "/opt/plugins",
						StartTimeout:   4 * time.Second,
						PredictTimeout: 5 * time.Second,
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
					Models: []Model{
						{
							Name:           "iris",
							Command:        "/opt/iris/iris",
							Args:           []string{"--threads", "2"},
							Env:            map[string]string{"OMP_NUM_THREADS": "2", "LANG": "C.UTF-8", "N": "3"},
							PredictTimeout: 250 * time.Millisecond,
						},
						{
							Name:           "echo",
							Command:        "/opt/echo",
							PredictTimeout: 5 * time.Second, // inherited from plugins
						},
					},
					Log: Log{Level: "debug", Format: "json", Access: true},
				}
			},
		},
		{
			name: "relative paths resolve against baseDir",
			src: `plugins {
  directory = "./plugins/../more-plugins/"
}
model "a" {
  command = "bin/a"
}
model "b" {
  command = "../b"
}
model "c" {
  command = "c"
}
model "d" {
  command = "/abs//d"
}
`,
			want: func() *Config {
				c := defaultsAt(base)
				c.Plugins.Directory = filepath.Join(base, "more-plugins")
				c.Models = []Model{
					{Name: "a", Command: filepath.Join(base, "bin", "a"), PredictTimeout: DefaultPredictTimeout},
					{Name: "b", Command: filepath.Join(filepath.Dir(base), "b"), PredictTimeout: DefaultPredictTimeout},
					{Name: "c", Command: filepath.Join(base, "c"), PredictTimeout: DefaultPredictTimeout},
					{Name: "d", Command: "/abs/d", PredictTimeout: DefaultPredictTimeout},
				}
				return c
			},
		},
		{
			name: "empty directory disables discovery",
			src:  "plugins {\n  directory = \"\"\n}\n",
			want: func() *Config {
				c := defaultsAt(base)
				c.Plugins.Directory = ""
				return c
			},
		},
		{
			name: "model predict_timeout default follows plugins block declared later",
			src:  "model \"m\" {\n  command = \"m\"\n}\nplugins {\n  predict_timeout = \"2s\"\n}\n",
			want: func() *Config {
				c := defaultsAt(base)
				c.Plugins.PredictTimeout = 2 * time.Second
				c.Models = []Model{{Name: "m", Command: filepath.Join(base, "m"), PredictTimeout: 2 * time.Second}}
				return c
			},
		},
		{
			name: "address forms",
			src:  "server {\n  address = \":0\"\n}\n",
			want: func() *Config {
				c := defaultsAt(base)
				c.Server.Address = ":0"
				return c
			},
		},
		{
			name: "ipv6 address",
			src:  "server {\n  address = \"[::1]:65535\"\n}\n",
			want: func() *Config {
				c := defaultsAt(base)
				c.Server.Address = "[::1]:65535"
				return c
			},
		},
		{
			name: "every log level and format",
			src:  "log {\n  level = \"trace\"\n  format = \"json\"\n}\n",
			want: func() *Config {
				c := defaultsAt(base)
				c.Log = Log{Level: "trace", Format: "json", Access: true}
				return c
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.src), "config.hcl", base)
			if err != nil {
				t.Fatalf("Parse: got error %v, want nil", err)
			}
			if diff := cmp.Diff(tt.want(), got, ignoreRanges); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDeclRange(t *testing.T) {
	src := "log {}\n\nmodel \"iris\" {\n  command = \"iris\"\n}\n"
	cfg, err := Parse([]byte(src), "config.hcl", t.TempDir())
	if err != nil {
		t.Fatalf("Parse: got error %v, want nil", err)
	}
	if len(cfg.Models) != 1 {
		t.Fatalf("len(Models): got %d, want 1", len(cfg.Models))
	}
	r := cfg.Models[0].DeclRange
	if got, want := r.String(), "config.hcl:3,1-13"; got != want {
		t.Errorf("DeclRange: got %s, want %s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// want are substrings the error text must contain, normally the
		// position "config.hcl:LINE,COL" and a fragment of the summary.
		want []string
	}{
		{
			name: "syntax error",
			src:  "server {\n  address = \n}\n",
			want: []string{"config.hcl:2,"},
		},
		{
			name: "unclosed block",
			src:  "server {\n",
			want: []string{"config.hcl:1,8", "Unclosed configuration block"},
		},
		{
			name: "unknown attribute",
			src:  "server {\n  adress = \"127.0.0.1:80\"\n}\n",
			want: []string{"config.hcl:2,3", "Unsupported argument", `"adress"`},
		},
		{
			name: "unknown top-level attribute",
			src:  "address = \"127.0.0.1:80\"\n",
			want: []string{"config.hcl:1,1", "Unsupported argument"},
		},
		{
			name: "unknown block",
			src:  "tls {}\n",
			want: []string{"config.hcl:1,1", "Unsupported block type"},
		},
		{
			name: "unknown nested block",
			src:  "server {\n  tls {}\n}\n",
			want: []string{"config.hcl:2,3", "Unsupported block type"},
		},
		{
			name: "duplicate server block",
			src:  "server {}\nserver {}\n",
			want: []string{"config.hcl:2,1", "Duplicate server block"},
		},
		{
			name: "label on server block",
			src:  "server \"main\" {}\n",
			want: []string{"config.hcl:1,8", "Extraneous label"},
		},
		{
			name: "model without label",
			src:  "model {\n  command = \"x\"\n}\n",
			want: []string{"config.hcl:1,7", "Missing name for model"},
		},
		{
			name: "empty model label",
			src:  "model \"\" {\n  command = \"x\"\n}\n",
			want: []string{"config.hcl:1,7", "Invalid model name"},
		},
		{
			name: "duplicate model label",
			src:  "model \"iris\" {\n  command = \"a\"\n}\nmodel \"iris\" {\n  command = \"b\"\n}\n",
			want: []string{"config.hcl:4,7", "Duplicate model name", "config.hcl:1,1"},
		},
		{
			name: "missing command",
			src:  "model \"iris\" {\n  args = []\n}\n",
			want: []string{"config.hcl:1,1", "Missing required argument", `"command"`},
		},
		{
			name: "empty command",
			src:  "model \"iris\" {\n  command = \"\"\n}\n",
			want: []string{"config.hcl:2,13", "command must not be empty"},
		},
		{
			name: "null command",
			src:  "model \"iris\" {\n  command = null\n}\n",
			want: []string{"config.hcl:2,13", "command must not be null"},
		},
		{
			name: "command of wrong type",
			src:  "model \"iris\" {\n  command = [\"iris\"]\n}\n",
			want: []string{"config.hcl:2,13", "Invalid value for command"},
		},
		{
			name: "args not a list",
			src:  "model \"iris\" {\n  command = \"x\"\n  args = \"--fast\"\n}\n",
			want: []string{"config.hcl:3,10", "Invalid value for args"},
		},
		{
			name: "null element in args",
			src:  "model \"iris\" {\n  command = \"x\"\n  args = [\"a\", null]\n}\n",
			want: []string{"config.hcl:3,10", "Invalid value for args"},
		},
		{
			name: "env not a map",
			src:  "model \"iris\" {\n  command = \"x\"\n  env = [\"A=1\"]\n}\n",
			want: []string{"config.hcl:3,9", "Invalid value for env"},
		},
		{
			name: "env name with equals sign",
			src:  "model \"iris\" {\n  command = \"x\"\n  env = { OK = \"1\", \"A=B\" = \"1\" }\n}\n",
			want: []string{"config.hcl:3,21", "Invalid environment variable", `"A=B"`},
		},
		{
			name: "empty env name",
			src:  "model \"iris\" {\n  command = \"x\"\n  env = { \"\" = \"1\" }\n}\n",
			want: []string{"config.hcl:3,11", "Invalid environment variable"},
		},
		{
			name: "bad address",
			src:  "server {\n  address = \"localhost\"\n}\n",
			want: []string{"config.hcl:2,13", "Invalid server address"},
		},
		{
			name: "non-numeric port",
			src:  "server {\n  address = \"localhost:http\"\n}\n",
			want: []string{"config.hcl:2,13", "Invalid server address"},
		},
		{
			name: "port out of range",
			src:  "server {\n  address = \"localhost:65536\"\n}\n",
			want: []string{"config.hcl:2,13", "Invalid server address"},
		},
		{
			name: "zero max_body_bytes",
			src:  "server {\n  max_body_bytes = 0\n}\n",
			want: []string{"config.hcl:2,20", "Invalid max_body_bytes"},
		},
		{
			name: "negative max_body_bytes",
			src:  "server {\n  max_body_bytes = -1\n}\n",
			want: []string{"config.hcl:2,20", "Invalid max_body_bytes"},
		},
		{
			name: "fractional max_body_bytes",
			src:  "server {\n  max_body_bytes = 1.5\n}\n",
			want: []string{"config.hcl:2,20", "Invalid value for max_body_bytes", "whole number"},
		},
		{
			name: "string max_body_bytes",
			src:  "server {\n  max_body_bytes = \"1MiB\"\n}\n",
			want: []string{"config.hcl:2,20", "Invalid value for max_body_bytes"},
		},
		{
			name: "bad duration",
			src:  "server {\n  shutdown_timeout = \"15\"\n}\n",
			want: []string{"config.hcl:2,22", "Invalid duration", "shutdown_timeout"},
		},
		{
			name: "number as duration",
			src:  "plugins {\n  start_timeout = 10\n}\n",
			want: []string{"config.hcl:2,19", "Invalid duration", "start_timeout"},
		},
		{
			name: "zero duration",
			src:  "server {\n  read_timeout = \"0s\"\n}\n",
			want: []string{"config.hcl:2,18", "Invalid duration", "greater than zero"},
		},
		{
			name: "negative duration",
			src:  "plugins {\n  predict_timeout = \"-5s\"\n}\n",
			want: []string{"config.hcl:2,21", "Invalid duration", "greater than zero"},
		},
		{
			name: "bad model predict_timeout",
			src:  "model \"m\" {\n  command = \"m\"\n  predict_timeout = \"soon\"\n}\n",
			want: []string{"config.hcl:3,21", "Invalid duration", "predict_timeout"},
		},
		{
			name: "bad log level",
			src:  "log {\n  level = \"verbose\"\n}\n",
			want: []string{"config.hcl:2,11", "Invalid log level", `"verbose"`},
		},
		{
			name: "log level is case-sensitive",
			src:  "log {\n  level = \"INFO\"\n}\n",
			want: []string{"config.hcl:2,11", "Invalid log level"},
		},
		{
			name: "bad log format",
			src:  "log {\n  format = \"xml\"\n}\n",
			want: []string{"config.hcl:2,12", "Invalid log format"},
		},
		{
			name: "variables not allowed",
			src:  "server {\n  address = var.address\n}\n",
			want: []string{"config.hcl:2,13", "Variables not allowed"},
		},
		{
			name: "functions not allowed",
			src:  "plugins {\n  directory = abspath(\"x\")\n}\n",
			want: []string{"config.hcl:2,15", "Function calls not allowed"},
		},
		{
			name: "every error is reported",
			src:  "log {\n  level = \"loud\"\n  format = \"xml\"\n}\nserver {\n  idle_timeout = \"x\"\n}\n",
			want: []string{"config.hcl:2,11", "config.hcl:3,12", "config.hcl:6,18"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.src), "config.hcl", t.TempDir())
			if err == nil {
				t.Fatalf("Parse: got config %+v and nil error, want error containing %q", cfg, tt.want)
			}
			if cfg != nil {
				t.Errorf("Parse: got config %+v with error, want nil", cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error: got %q, want it to contain %q", err, w)
				}
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Parse error: got type %T, want *Error", err)
			}
			var diags hcl.Diagnostics
			if !errors.As(err, &diags) || !diags.HasErrors() {
				t.Errorf("errors.As(err, &hcl.Diagnostics): got %v, want error diagnostics", diags)
			}
			for _, d := range cerr.Diagnostics {
				if d.Subject == nil || d.Subject.Filename != "config.hcl" {
					t.Errorf("diagnostic %q: got subject %v, want a range in config.hcl", d.Summary, d.Subject)
				}
			}
		})
	}
}

func TestErrorOrdering(t *testing.T) {
	// Diagnostics are reported in source order, one per line.
	src := "server {\n  write_timeout = \"w\"\n  read_timeout = \"r\"\n  address = \"a\"\n}\n"
	_, err := Parse([]byte(src), "config.hcl", t.TempDir())
	if err == nil {
		t.Fatal("Parse: got nil error, want error")
	}
	lines := strings.Split(err.Error(), "\n")
	var got []string
	for _, l := range lines {
		pos, _, _ := strings.Cut(l, ": ")
		got = append(got, pos)
	}
	want := []string{"config.hcl:2,19-22", "config.hcl:3,18-21", "config.hcl:4,13-16"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error positions (-want +got):\n%s\nerror: %v", diff, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.hcl")
	src := "plugins {\n  directory = \"plugins\"\n}\nmodel \"iris\" {\n  command = \"models/iris\"\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load: got error %v, want nil", err)
	}
	want := Default()
	want.Plugins.Directory = filepath.Join(dir, "plugins")
	want.Models = []Model{{
		Name:           "iris",
		Command:        filepath.Join(dir, "models", "iris"),
		PredictTimeout: DefaultPredictTimeout,
		Limits:         DefaultLimits(),
		DeclRange: hcl.Range{
			Filename: path,
			Start:    hcl.Pos{Line: 4, Column: 1, Byte: 36},
			End:      hcl.Pos{Line: 4, Column: 13, Byte: 48},
		},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadRelativePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte("model \"m\" {\n  command = \"m\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	got, err := Load("config.hcl")
	if err != nil {
		t.Fatalf("Load: got error %v, want nil", err)
	}
	// t.TempDir may contain symlinks; compare against the working
	// directory as the process sees it.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := got.Models[0].Command, filepath.Join(wd, "m"); got != want {
		t.Errorf("Command: got %q, want %q", got, want)
	}
	if got, want := got.Plugins.Directory, filepath.Join(wd, "bin", "plugins"); got != want {
		t.Errorf("Plugins.Directory: got %q, want %q", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "nope.hcl"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load: got error %v, want one wrapping fs.ErrNotExist", err)
		}
	})

	t.Run("error names the file as given", func(t *testing.T) {
		path := filepath.Join(dir, "config.hcl")
		if err := os.WriteFile(path, []byte("\nlog {\n  level = \"loud\"\n}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil {
			t.Fatal("Load: got nil error, want error")
		}
		if want := path + ":3,11-17: Invalid log level"; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Load error: got %q, want prefix %q", err, want)
		}
	})
}

func TestParseRelativeBaseDir(t *testing.T) {
	// A relative (here empty) baseDir is made absolute.
	cfg, err := Parse([]byte("model \"m\" {\n  command = \"m\"\n}\n"), "config.hcl", "")
	if err != nil {
		t.Fatalf("Parse: got error %v, want nil", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Models[0].Command, filepath.Join(wd, "m"); got != want {
		t.Errorf("Command: got %q, want %q", got, want)
	}
}

func TestEnviron(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "nil", env: nil, want: []string{}},
		{name: "sorted", env: map[string]string{"B": "2", "A": "1", "C": ""}, want: []string{"A=1", "B=2", "C="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Model{Env: tt.env}.Environ()
			if got == nil {
				t.Fatalf("Environ: got nil, want non-nil")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Environ mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkInvariants reports violations of the guarantees Parse makes about a
// configuration it returns without error.
func checkInvariants(t *testing.T, cfg *Config) {
	t.Helper()
	if cfg == nil {
		t.Fatal("Parse: got nil config and nil error")
	}
	s := cfg.Server
	if _, _, err := net.SplitHostPort(s.Address); err != nil {
		t.Errorf("Server.Address %q: got SplitHostPort error %v, want nil", s.Address, err)
	}
	if s.MaxBodyBytes <= 0 {
		t.Errorf("Server.MaxBodyBytes: got %d, want > 0", s.MaxBodyBytes)
	}
	durations := map[string]time.Duration{
		"ShutdownTimeout":        s.ShutdownTimeout,
		"ReadTimeout":            s.ReadTimeout,
		"WriteTimeout":           s.WriteTimeout,
		"IdleTimeout":            s.IdleTimeout,
		"ReadHeaderTimeout":      s.ReadHeaderTimeout,
		"Plugins.StartTimeout":   cfg.Plugins.StartTimeout,
		"Plugins.PredictTimeout": cfg.Plugins.PredictTimeout,
	}
	for name, d := range durations {
		if d <= 0 {
			t.Errorf("%s: got %v, want > 0", name, d)
		}
	}
	if n := cfg.Plugins.MaxBatchSize; n < 1 || n > MaxBatchSizeLimit {
		t.Errorf("Plugins.MaxBatchSize: got %d, want 1 to %d", n, MaxBatchSizeLimit)
	}
	if dir := cfg.Plugins.Directory; dir != "" && !filepath.IsAbs(dir) {
		t.Errorf("Plugins.Directory: got %q, want empty or absolute", dir)
	}
	if !slices.Contains(LogLevels(), cfg.Log.Level) {
		t.Errorf("Log.Level: got %q, want one of %q", cfg.Log.Level, LogLevels())
	}
	if !slices.Contains(LogFormats(), cfg.Log.Format) {
		t.Errorf("Log.Format: got %q, want one of %q", cfg.Log.Format, LogFormats())
	}
	checkTrustInvariants(t, cfg)  // limits_test.go
	checkReloadInvariants(t, cfg) // reload_test.go
	names := map[string]bool{}
	for _, m := range cfg.Models {
		if m.Name == "" || names[m.Name] {
			t.Errorf("model name %q: got empty or duplicate, want unique non-empty", m.Name)
		}
		names[m.Name] = true
		if !filepath.IsAbs(m.Command) {
			t.Errorf("model %q Command: got %q, want absolute", m.Name, m.Command)
		}
		if m.PredictTimeout <= 0 {
			t.Errorf("model %q PredictTimeout: got %v, want > 0", m.Name, m.PredictTimeout)
		}
		for k, v := range m.Env {
			if k == "" || strings.ContainsAny(k, "=\x00") || strings.Contains(v, "\x00") {
				t.Errorf("model %q Env: got invalid entry %q=%q", m.Name, k, v)
			}
		}
		if m.DeclRange.Filename != "config.hcl" {
			t.Errorf("model %q DeclRange: got %v, want a range in config.hcl", m.Name, m.DeclRange)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("server {\n  address = \"127.0.0.1:8080\"\n  max_body_bytes = 1048576\n}\n"))
	f.Add([]byte("plugins {\n  directory = \"\"\n  start_timeout = \"1s\"\n}\nlog {\n  level = \"warn\"\n  format = \"json\"\n}\n"))
	f.Add([]byte("model \"iris\" {\n  command = \"bin/iris\"\n  args = [\"-v\"]\n  env = { A = \"1\" }\n  predict_timeout = \"5s\"\n}\n"))
	f.Add([]byte("model \"a\" {\n  command = \"a\"\n}\nmodel \"a\" {\n  command = \"b\"\n}\n"))
	f.Add([]byte("server {\n  shutdown_timeout = \"-1s\"\n"))

	base := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := Parse(src, "config.hcl", base)
		if err != nil {
			if cfg != nil {
				t.Errorf("Parse: got non-nil config with error %v", err)
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Parse error: got type %T, want *Error", err)
			}
			if !cerr.Diagnostics.HasErrors() {
				t.Errorf("Parse error: got no error diagnostics in %v", cerr.Diagnostics)
			}
			for _, d := range cerr.Diagnostics {
				if d.Subject == nil || d.Subject.Filename != "config.hcl" {
					t.Errorf("diagnostic %q: got subject %v, want a range in config.hcl", d.Summary, d.Subject)
				}
			}
			if !strings.HasPrefix(err.Error(), "config.hcl:") {
				t.Errorf("Parse error: got %q, want it to start with \"config.hcl:\"", err)
			}
			return
		}
		checkInvariants(t, cfg)
	})
}
