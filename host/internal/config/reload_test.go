package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/sdk"
)

// checkReloadInvariants checks what every valid configuration holds about
// the settings of this file; FuzzParse calls it through checkInvariants.
func checkReloadInvariants(t *testing.T, cfg *Config) {
	t.Helper()
	if d := cfg.Plugins.WatchDebounce; d < MinWatchDebounce || d > MaxWatchDebounce {
		t.Errorf("Plugins.WatchDebounce: got %v, want %v to %v", d, MinWatchDebounce, MaxWatchDebounce)
	}
	if cfg.Plugins.PinnedVersions != nil && len(cfg.Plugins.PinnedVersions) == 0 {
		t.Error("Plugins.PinnedVersions: got an empty map, want nil")
	}
	for name, v := range cfg.Plugins.PinnedVersions {
		if !sdk.ValidQualifiedName(name) || !sdk.ValidVersion(v) {
			t.Errorf("Plugins.PinnedVersions: got %q = %q, want a qualified name and a semantic version", name, v)
		}
	}
	for what, digests := range map[string][][sha256.Size]byte{"auth": cfg.Auth.TokenDigests, "admin": cfg.Admin.TokenDigests} {
		if digests != nil && len(digests) == 0 {
			t.Errorf("%s: got an empty digest list, want nil or tokens", what)
		}
	}
}

func TestParseReloadSettings(t *testing.T) {
	src := `server {
  ready_with_failed_models = true
}
plugins {
  watch           = false
  watch_debounce  = "2s"
  pinned_versions = {
    iris_model       = "1.0.0"
    "sentiment.v2"   = "2.1.0-rc.1+build.5"
  }
}
log {
  access = false
}
`
	cfg, err := Parse([]byte(src), "config.hcl", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Server.ReadyWithFailedModels {
		t.Error("Server.ReadyWithFailedModels = false, want true")
	}
	if cfg.Plugins.Watch {
		t.Error("Plugins.Watch = true, want false")
	}
	if got := cfg.Plugins.WatchDebounce; got != 2*time.Second {
		t.Errorf("Plugins.WatchDebounce = %v, want 2s", got)
	}
	want := map[string]string{"iris_model": "1.0.0", "sentiment.v2": "2.1.0-rc.1+build.5"}
	if diff := cmp.Diff(want, cfg.Plugins.PinnedVersions); diff != "" {
		t.Errorf("Plugins.PinnedVersions (-want +got):\n%s", diff)
	}
	if cfg.Log.Access {
		t.Error("Log.Access = true, want false")
	}
	checkInvariants(t, cfg)
}

func TestParseReloadDefaults(t *testing.T) {
	for _, src := range []string{
		"",
		"server {}\nplugins {}\nlog {}\n",
		"server {\n  ready_with_failed_models = null\n}\nplugins {\n  watch = null\n  watch_debounce = null\n  pinned_versions = null\n}\nlog {\n  access = null\n}\n",
		"plugins {\n  pinned_versions = {}\n}\n",
	} {
		cfg, err := Parse([]byte(src), "config.hcl", t.TempDir())
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		got := []any{cfg.Server.ReadyWithFailedModels, cfg.Plugins.Watch, cfg.Plugins.WatchDebounce, cfg.Plugins.PinnedVersions, cfg.Log.Access, cfg.Admin.Enabled()}
		want := []any{false, true, 500 * time.Millisecond, map[string]string(nil), true, false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Parse(%q): ready_with_failed_models, watch, watch_debounce, pinned_versions, access, admin (-want +got):\n%s", src, diff)
		}
	}
}

func TestParseWatchDebounceBounds(t *testing.T) {
	for s, want := range map[string]time.Duration{"10ms": MinWatchDebounce, "1m": MaxWatchDebounce, "1.5s": 1500 * time.Millisecond} {
		cfg, err := Parse([]byte("plugins {\n  watch_debounce = \""+s+"\"\n}\n"), "config.hcl", t.TempDir())
		if err != nil {
			t.Errorf("watch_debounce = %q: %v", s, err)
			continue
		}
		if cfg.Plugins.WatchDebounce != want {
			t.Errorf("watch_debounce = %q: got %v, want %v", s, cfg.Plugins.WatchDebounce, want)
		}
	}
}

// parseErrorCase is a configuration that Parse must reject with an error
// containing each of want.
type parseErrorCase struct {
	name string
	src  string
	want []string
}

// checkParseErrors parses each case's src with baseDir dir and checks the
// error; it also checks that the error never quotes secretToken.
func checkParseErrors(t *testing.T, dir string, cases []parseErrorCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "config.hcl", dir)
			if err == nil {
				t.Fatalf("Parse: nil error, want one containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Errorf("Parse error quotes a token: %q", err)
			}
		})
	}
}

func TestParseReloadErrors(t *testing.T) {
	checkParseErrors(t, t.TempDir(), []parseErrorCase{
		{"watch not a bool", "plugins {\n  watch = \"sometimes\"\n}\n",
			[]string{"config.hcl:2,11", "Invalid value for watch"}},
		{"debounce too short", "plugins {\n  watch_debounce = \"9ms\"\n}\n",
			[]string{"config.hcl:2,20", "Invalid watch_debounce", "from 10ms to 1m0s, got 9ms"}},
		{"debounce too long", "plugins {\n  watch_debounce = \"61s\"\n}\n",
			[]string{"config.hcl:2,20", "Invalid watch_debounce", "got 1m1s"}},
		{"debounce zero", "plugins {\n  watch_debounce = \"0s\"\n}\n",
			[]string{"config.hcl:2,20", "Invalid duration", "greater than zero"}},
		{"debounce without unit", "plugins {\n  watch_debounce = \"500\"\n}\n",
			[]string{"config.hcl:2,20", "Invalid duration", "watch_debounce"}},
		{"debounce a number", "plugins {\n  watch_debounce = 500\n}\n",
			[]string{"config.hcl:2,20", "Invalid duration"}},
		{"pinned name not qualified", "plugins {\n  pinned_versions = {\n    iris_model = \"1.0.0\"\n    \"Iris Model\" = \"1.0.0\"\n  }\n}\n",
			[]string{"config.hcl:4,5-17", "Invalid pinned model name", `got "Iris Model"`}},
		{"pinned name too long", "plugins {\n  pinned_versions = { " + strings.Repeat("a", sdk.MaxQualifiedNameLength+1) + " = \"1.0.0\" }\n}\n",
			[]string{"config.hcl:2,23", "Invalid pinned model name", "1 to 128"}},
		{"pinned version with v", "plugins {\n  pinned_versions = {\n    iris_model = \"v1.0.0\"\n  }\n}\n",
			[]string{"config.hcl:3,18-26", "Invalid pinned version", `"iris_model"`, `leading "v"; got "v1.0.0"`}},
		{"pinned version incomplete", "plugins {\n  pinned_versions = { iris = \"1.0\" }\n}\n",
			[]string{"config.hcl:2,30-35", "Invalid pinned version"}},
		{"pinned version a number", "plugins {\n  pinned_versions = { iris = 1.5 }\n}\n",
			[]string{"config.hcl:2,30-33", "Invalid pinned version", `got "1.5"`}},
		{"both key and value bad", "plugins {\n  pinned_versions = { \"-x\" = \"latest\" }\n}\n",
			[]string{"config.hcl:2,23-27", "Invalid pinned model name", "config.hcl:2,30-38", "Invalid pinned version"}},
		{"pinned versions not a map", "plugins {\n  pinned_versions = \"iris=1.0.0\"\n}\n",
			[]string{"config.hcl:2,21", "Invalid value for pinned_versions"}},
		{"pinned version a list", "plugins {\n  pinned_versions = { iris = [\"1.0.0\"] }\n}\n",
			[]string{"config.hcl:2,21", "Invalid value for pinned_versions"}},
		{"access not a bool", "log {\n  access = \"always\"\n}\n",
			[]string{"config.hcl:2,12", "Invalid value for access"}},
		{"ready_with_failed_models not a bool", "server {\n  ready_with_failed_models = [true]\n}\n",
			[]string{"config.hcl:2,30", "Invalid value for ready_with_failed_models"}},
	})
}

func TestParseAdmin(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin-tokens"), []byte("# operators\nadmin-token-file-123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lookupEnv = os.LookupEnv })
	lookupEnv = func(name string) (string, bool) {
		if name == "MODELHOST_ADMIN_TOKENS" {
			return "admin-token-env-1234567", true
		}
		return "", false
	}
	src := `
auth {
  tokens = ["` + token + `"]
}
admin {
  tokens       = ["admin-token-inline-1234", "admin-token-inline-1234"]
  token_sha256 = ["` + hexDigest("admin-token-hashed-1234") + `"]
  tokens_file  = "admin-tokens"
  tokens_env   = "MODELHOST_ADMIN_TOKENS"
}
`
	cfg, err := Parse([]byte(src), "config.hcl", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := [][sha256.Size]byte{
		digest("admin-token-inline-1234"), digest("admin-token-hashed-1234"),
		digest("admin-token-file-123456"), digest("admin-token-env-1234567"),
	}
	if diff := cmp.Diff(want, cfg.Admin.TokenDigests); diff != "" {
		t.Errorf("admin token digests (-want +got):\n%s", diff)
	}
	if !cfg.Admin.Enabled() {
		t.Error("Admin.Enabled() = false, want true")
	}
	// The blocks are independent: the API token does not open the admin
	// endpoints.
	if diff := cmp.Diff([][sha256.Size]byte{digest(token)}, cfg.Auth.TokenDigests); diff != "" {
		t.Errorf("auth token digests (-want +got):\n%s", diff)
	}

	// An admin block alone does not turn API authentication on.
	cfg, err = Parse([]byte("admin {\n  tokens = [\""+token+"\"]\n}\n"), "config.hcl", dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Enabled() || !cfg.Admin.Enabled() {
		t.Errorf("auth enabled %t, admin enabled %t; want false, true", cfg.Auth.Enabled(), cfg.Admin.Enabled())
	}
}

// hexDigest returns the SHA-256 digest of tok in upper-case hexadecimal,
// as token_sha256 accepts it.
func hexDigest(tok string) string {
	d := digest(tok)
	return strings.ToUpper(hex.EncodeToString(d[:]))
}

func TestParseAdminErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty"), []byte("# nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lookupEnv = os.LookupEnv })
	lookupEnv = func(name string) (string, bool) {
		if name == "BAD" {
			return secretToken + "!", true
		}
		return "", false
	}
	checkParseErrors(t, dir, []parseErrorCase{
		{"empty admin block", "admin {\n}\n",
			[]string{"config.hcl:1,1", "No admin token", "The admin block yields no token", "remove the block to turn the admin endpoints off"}},
		{"empty token list", "admin {\n  tokens = []\n}\n",
			[]string{"No admin token"}},
		{"short token", "admin {\n  tokens = [\"short\"]\n}\n",
			[]string{"config.hcl:2,12", "Invalid token", "Token 1 of tokens must be 16 to 4096 characters long, got 5"}},
		{"token with a space", "admin {\n  tokens = [\"" + secretToken + " x\"]\n}\n",
			[]string{"config.hcl:2,12", "Invalid token", "position 34"}},
		{"bad digest", "admin {\n  token_sha256 = [\"abc\"]\n}\n",
			[]string{"config.hcl:2,18", "Invalid token digest"}},
		{"missing tokens file", "admin {\n  tokens_file = \"nope\"\n}\n",
			[]string{"config.hcl:2,17", "Invalid tokens_file", "cannot read the tokens file"}},
		{"tokens file without tokens", "admin {\n  tokens_file = \"empty\"\n}\n",
			[]string{"config.hcl:2,17", "holds no token"}},
		{"unset variable", "admin {\n  tokens_env = \"UNSET\"\n}\n",
			[]string{"config.hcl:2,16", "UNSET is not set; the admin endpoints would accept no token"}},
		{"variable with a bad token", "admin {\n  tokens_env = \"BAD\"\n}\n",
			[]string{"config.hcl:2,16", "Token 1 of the environment variable BAD has a character"}},
		{"unknown argument", "admin {\n  token = \"x\"\n}\n",
			[]string{"config.hcl:2,3", "Unsupported argument"}},
		{"repeated admin block", "admin {\n  tokens = [\"" + token + "\"]\n}\nadmin {\n  tokens = [\"" + token + "\"]\n}\n",
			[]string{"config.hcl:4,1", "Duplicate admin block"}},
		{"label on admin block", "admin \"ops\" {\n  tokens = [\"" + token + "\"]\n}\n",
			[]string{"config.hcl:1,7", "Extraneous label"}},
	})
}

func TestRestartRequired(t *testing.T) {
	base := t.TempDir()
	parse := func(src string) *Config {
		t.Helper()
		cfg, err := Parse([]byte(src), "config.hcl", base)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		return cfg
	}
	for _, tt := range []struct {
		name     string
		old, new string
		want     []string
	}{
		{"identical", "", "", nil},
		{"defaults written out", "", "server {\n  address = \"127.0.0.1:8080\"\n}\nlog {\n  access = true\n}\n", nil},
		{"address", "", "server {\n  address = \":9000\"\n}\n", []string{"server.address"}},
		{"every server argument but readiness",
			"",
			`server {
  address                  = ":9000"
  shutdown_timeout         = "1s"
  max_body_bytes           = 10
  read_timeout             = "1s"
  write_timeout            = "1s"
  idle_timeout             = "1s"
  read_header_timeout      = "1s"
  max_header_bytes         = 2048
  ready_with_failed_models = true
}
`,
			[]string{"server.address", "server.idle_timeout", "server.max_body_bytes", "server.max_header_bytes",
				"server.read_header_timeout", "server.read_timeout", "server.shutdown_timeout", "server.write_timeout"}},
		{"readiness alone is applied", "", "server {\n  ready_with_failed_models = true\n}\n", nil},
		{"log", "", "log {\n  level = \"debug\"\n  format = \"json\"\n  access = false\n}\n", []string{"log.access", "log.format", "log.level"}},
		{"auth added", "", "auth {\n  tokens = [\"" + token + "\"]\n}\n", []string{"auth"}},
		{"auth removed", "auth {\n  tokens = [\"" + token + "\"]\n}\n", "", []string{"auth"}},
		{"auth token replaced", "auth {\n  tokens = [\"" + token + "\"]\n}\n", "auth {\n  tokens = [\"another-token-1234567\"]\n}\n", []string{"auth"}},
		{"auth same tokens by another argument and order",
			"auth {\n  tokens = [\"" + token + "\", \"another-token-1234567\"]\n}\n",
			"auth {\n  tokens = [\"another-token-1234567\"]\n  token_sha256 = [\"" + hexDigest(token) + "\"]\n}\n", nil},
		{"admin added", "", "admin {\n  tokens = [\"" + token + "\"]\n}\n", []string{"admin"}},
		{"cors", "cors {\n  allowed_origins = [\"https://a.example\"]\n}\n", "cors {\n  allowed_origins = [\"https://b.example\"]\n}\n", []string{"cors.allowed_origins"}},
		{"cors reordered", "cors {\n  allowed_origins = [\"https://a.example\", \"https://b.example\"]\n}\n",
			"cors {\n  allowed_origins = [\"https://b.example\", \"https://a.example:443\"]\n}\n", nil},
		{"plugins and models are reloaded",
			"model \"iris\" {\n  command = \"/opt/iris\"\n}\n",
			`plugins {
  directory          = "/elsewhere"
  start_timeout      = "1s"
  predict_timeout    = "1s"
  max_concurrency    = 1
  max_response_bytes = 10
  restart_max        = 0
  require_checksums  = true
  watch              = false
  watch_debounce     = "1s"
  pinned_versions    = { iris = "1.0.0" }
}
model "sentiment" {
  command = "/opt/sentiment"
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
`, nil},
		{"mixed", "log {\n  level = \"warn\"\n}\n", "server {\n  address = \":1\"\n}\nplugins {\n  watch = false\n}\nadmin {\n  tokens = [\"" + token + "\"]\n}\n",
			[]string{"admin", "log.level", "server.address"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := RestartRequired(parse(tt.old), parse(tt.new))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RestartRequired (-want +got):\n%s", diff)
			}
			// The comparison is symmetric.
			if diff := cmp.Diff(tt.want, RestartRequired(parse(tt.new), parse(tt.old))); diff != "" {
				t.Errorf("RestartRequired reversed (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRestartRequiredCoversServerAndLog changes each field of the server
// and log blocks in turn, so that a field added to Server or Log without
// being classified here fails the test.
func TestRestartRequiredCoversServerAndLog(t *testing.T) {
	applied := map[string]bool{"Server.ReadyWithFailedModels": true}
	for _, block := range []string{"Server", "Log"} {
		typ := reflect.TypeFor[Config]()
		f, _ := typ.FieldByName(block)
		for i := range f.Type.NumField() {
			field := f.Type.Field(i)
			name := block + "." + field.Name
			updated := Default()
			v := reflect.ValueOf(updated).Elem().FieldByName(block).Field(i)
			switch v.Kind() {
			case reflect.String:
				v.SetString(v.String() + "x")
			case reflect.Int, reflect.Int64:
				v.SetInt(v.Int() + 1)
			case reflect.Bool:
				v.SetBool(!v.Bool())
			default:
				t.Errorf("%s: kind %s not handled by this test", name, v.Kind())
				continue
			}
			got := RestartRequired(Default(), updated)
			switch {
			case applied[name] && got != nil:
				t.Errorf("changing %s: RestartRequired = %q, want nil (a reload applies it)", name, got)
			case !applied[name] && len(got) != 1:
				t.Errorf("changing %s: RestartRequired = %q, want its one name", name, got)
			case !applied[name] && !strings.HasPrefix(got[0], strings.ToLower(block)+"."):
				t.Errorf("changing %s: RestartRequired = %q, want a name in the %s block", name, got, strings.ToLower(block))
			}
		}
	}
}
