package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/sdk/plugin"
)

func TestParseSupervision(t *testing.T) {
	src := `
plugins {
  require_checksums       = true
  max_response_bytes      = 1024
  max_batch_size          = 10
  restart_max             = 0
  restart_window          = "30s"
  restart_backoff_initial = "1s"
  restart_backoff_max     = "1s"
  drain_timeout           = "250ms"
}
model "iris" {
  command = "/opt/iris"
  sha256  = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
}
`
	cfg, err := Parse([]byte(src), "config.hcl", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := Plugins{
		Directory:             cfg.Plugins.Directory,
		StartTimeout:          DefaultStartTimeout,
		PredictTimeout:        DefaultPredictTimeout,
		Limits:                DefaultLimits(),
		RequireChecksums:      true,
		MaxResponseBytes:      1024,
		MaxBatchSize:          10,
		RestartMax:            0,
		RestartWindow:         30 * time.Second,
		RestartBackoffInitial: time.Second,
		RestartBackoffMax:     time.Second,
		DrainTimeout:          250 * time.Millisecond,
		Watch:                 true,
		WatchDebounce:         DefaultWatchDebounce,
	}
	if diff := cmp.Diff(want, cfg.Plugins); diff != "" {
		t.Errorf("plugins (-want +got):\n%s", diff)
	}
	if got, want := cfg.Models[0].SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("sha256 = %q, want %q (lower case)", got, want)
	}
}

func TestParseSupervisionErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		want []string
	}{
		{"response limit zero", "plugins {\n  max_response_bytes = 0\n}\n",
			[]string{"config.hcl:2,24", "Invalid max_response_bytes", "from 1 to 268435456"}},
		{"response limit too large", "plugins {\n  max_response_bytes = 268435457\n}\n",
			[]string{"config.hcl:2,24", "Invalid max_response_bytes"}},
		{"response limit not a number", "plugins {\n  max_response_bytes = \"16MiB\"\n}\n",
			[]string{"config.hcl:2,24", "max_response_bytes"}},
		{"batch size zero", "plugins {\n  max_batch_size = 0\n}\n",
			[]string{"config.hcl:2,20", "Invalid max_batch_size", "from 1 to 1000000"}},
		{"batch size too large", "plugins {\n  max_batch_size = 1000001\n}\n",
			[]string{"config.hcl:2,20", "Invalid max_batch_size"}},
		{"batch size not a number", "plugins {\n  max_batch_size = \"many\"\n}\n",
			[]string{"config.hcl:2,20", "max_batch_size"}},
		{"fractional batch size", "plugins {\n  max_batch_size = 2.5\n}\n",
			[]string{"config.hcl:2,20", "max_batch_size"}},
		{"negative restart_max", "plugins {\n  restart_max = -1\n}\n",
			[]string{"config.hcl:2,17", "Invalid restart_max"}},
		{"fractional restart_max", "plugins {\n  restart_max = 1.5\n}\n",
			[]string{"config.hcl:2,17", "restart_max"}},
		{"window without unit", "plugins {\n  restart_window = \"60\"\n}\n",
			[]string{"config.hcl:2,20", "Invalid duration"}},
		{"zero drain timeout", "plugins {\n  drain_timeout = \"0s\"\n}\n",
			[]string{"config.hcl:2,19", "greater than zero"}},
		{"backoff max below initial", "plugins {\n  restart_backoff_initial = \"2s\"\n  restart_backoff_max = \"1s\"\n}\n",
			[]string{"config.hcl:3,25", "restart_backoff_max (1s) must not be less than restart_backoff_initial (2s)"}},
		{"backoff initial above default max", "plugins {\n  restart_backoff_initial = \"1m\"\n}\n",
			[]string{"config.hcl:2,29", "must not be less than"}},
		{"require_checksums not a bool", "plugins {\n  require_checksums = \"yes please\"\n}\n",
			[]string{"config.hcl:2,23", "require_checksums"}},
		{"short sha256", "model \"m\" {\n  command = \"/m\"\n  sha256 = \"abc\"\n}\n",
			[]string{"config.hcl:3,12", "Invalid sha256", "64 hexadecimal digits"}},
		{"sha256 not hex", "model \"m\" {\n  command = \"/m\"\n  sha256 = \"" + strings.Repeat("g", 64) + "\"\n}\n",
			[]string{"config.hcl:3,12", "Invalid sha256"}},
		{"missing sha256 with require_checksums", "plugins {\n  require_checksums = true\n}\nmodel \"m\" {\n  command = \"/m\"\n}\n",
			[]string{"config.hcl:4,1", "Missing sha256", `model "m" must pin its binary`, "modelhost checksum --hcl /m"}},
		{"null sha256 with require_checksums", "plugins {\n  require_checksums = true\n}\nmodel \"m\" {\n  command = \"/m\"\n  sha256 = null\n}\n",
			[]string{"config.hcl:4,1", "Missing sha256"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "config.hcl", t.TempDir())
			if err == nil {
				t.Fatalf("Parse: nil error, want one containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestMaxResponseBytesLimitIsThePluginMessageLimit(t *testing.T) {
	if MaxResponseBytesLimit != plugin.MaxMessageBytes {
		t.Errorf("MaxResponseBytesLimit = %d, plugin.MaxMessageBytes = %d; keep them equal", MaxResponseBytesLimit, plugin.MaxMessageBytes)
	}
}
