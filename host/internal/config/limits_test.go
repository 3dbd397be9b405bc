package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkTrustInvariants checks what every valid configuration holds about
// limits, authentication and CORS; FuzzParse calls it through
// checkInvariants.
func checkTrustInvariants(t *testing.T, cfg *Config) {
	t.Helper()
	if n := cfg.Server.MaxHeaderBytes; n < 1024 || n > MaxHeaderBytesLimit {
		t.Errorf("Server.MaxHeaderBytes: got %d, want 1024 to %d", n, MaxHeaderBytesLimit)
	}
	check := func(what string, l Limits) {
		if l.MaxConcurrency < 1 || l.MaxQueue < 0 || l.QueueTimeout <= 0 {
			t.Errorf("%s limits: got %+v, want max_concurrency >= 1, max_queue >= 0, queue_timeout > 0", what, l)
		}
	}
	check("plugins", cfg.Plugins.Limits)
	for _, m := range cfg.Models {
		check("model "+m.Name, m.Limits)
	}
	for _, o := range cfg.CORS.AllowedOrigins {
		if c, err := canonicalOrigin(o); err != nil || c != o {
			t.Errorf("CORS origin %q: not canonical (%q, %v)", o, c, err)
		}
	}
}

func TestParseLimits(t *testing.T) {
	src := `
server {
  max_header_bytes = 8192
}
plugins {
  max_concurrency = 8
  max_queue       = 16
  queue_timeout   = "250ms"
}
model "fast" {
  command = "/opt/fast"
}
model "slow" {
  command         = "/opt/slow"
  max_concurrency = 1
  max_queue       = 0
}
model "patient" {
  command       = "/opt/patient"
  queue_timeout = "1m"
}
`
	cfg, err := Parse([]byte(src), "config.hcl", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Server.MaxHeaderBytes; got != 8192 {
		t.Errorf("MaxHeaderBytes = %d, want 8192", got)
	}
	plugins := Limits{MaxConcurrency: 8, MaxQueue: 16, QueueTimeout: 250 * time.Millisecond}
	if diff := cmp.Diff(plugins, cfg.Plugins.Limits); diff != "" {
		t.Errorf("plugins limits (-want +got):\n%s", diff)
	}
	want := map[string]Limits{
		"/opt/fast":    plugins,
		"/opt/slow":    {MaxConcurrency: 1, MaxQueue: 0, QueueTimeout: 250 * time.Millisecond},
		"/opt/patient": {MaxConcurrency: 8, MaxQueue: 16, QueueTimeout: time.Minute},
		"/elsewhere":   plugins, // discovered: the plugins block's
	}
	for command, w := range want {
		if diff := cmp.Diff(w, cfg.LimitsFor(command)); diff != "" {
			t.Errorf("LimitsFor(%s) (-want +got):\n%s", command, diff)
		}
	}
}

func TestParseLimitsDefaults(t *testing.T) {
	cfg, err := Parse([]byte("model \"m\" {\n  command = \"/m\"\n}\n"), "config.hcl", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxConcurrency: 64, MaxQueue: 256, QueueTimeout: 5 * time.Second}
	if diff := cmp.Diff(want, cfg.LimitsFor("/m")); diff != "" {
		t.Errorf("model limits (-want +got):\n%s", diff)
	}
	if cfg.Server.MaxHeaderBytes != 64<<10 {
		t.Errorf("MaxHeaderBytes = %d, want 65536", cfg.Server.MaxHeaderBytes)
	}
	if cfg.Auth.Enabled() || cfg.CORS.AllowedOrigins != nil {
		t.Errorf("auth %v, cors %v: want both off by default", cfg.Auth, cfg.CORS)
	}
}

// token is a valid API token for the tests; secretToken is one that must
// never appear in an error message.
const (
	token       = "0123456789abcdef0123456789abcdef"
	secretToken = "SECRET-do-not-print-me-0123456789"
)

func digest(tok string) [sha256.Size]byte { return sha256.Sum256([]byte(tok)) }

func TestParseAuth(t *testing.T) {
	dir := t.TempDir()
	tokensFile := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokensFile, []byte("# the operators\n\n  file-token-1234567890  \nfile-token-abcdefghij\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lookupEnv = os.LookupEnv })
	lookupEnv = func(name string) (string, bool) {
		if name == "MODELHOST_TOKENS" {
			return "env-token-1234567890, env-token-abcdefghij\tenv-token-ABCDEFGHIJ", true
		}
		return "", false
	}
	hashed := digest("hashed-token-1234567890")
	src := `
auth {
  tokens       = ["` + token + `", "` + token + `"]
  token_sha256 = ["` + strings.ToUpper(hex.EncodeToString(hashed[:])) + `"]
  tokens_file  = "tokens"
  tokens_env   = "MODELHOST_TOKENS"
}
`
	cfg, err := Parse([]byte(src), "config.hcl", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := [][sha256.Size]byte{
		digest(token), hashed,
		digest("file-token-1234567890"), digest("file-token-abcdefghij"),
		digest("env-token-1234567890"), digest("env-token-abcdefghij"), digest("env-token-ABCDEFGHIJ"),
	}
	if diff := cmp.Diff(want, cfg.Auth.TokenDigests); diff != "" {
		t.Errorf("token digests (-want +got):\n%s", diff)
	}
	if !cfg.Auth.Enabled() {
		t.Error("Enabled() = false, want true")
	}
}

func TestParseCORS(t *testing.T) {
	src := `cors {
  allowed_origins = ["https://app.example", "HTTPS://Admin.Example:443", "http://localhost:3000", "http://[::1]:80", "https://app.example"]
}
`
	cfg, err := Parse([]byte(src), "config.hcl", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://app.example", "https://admin.example", "http://localhost:3000", "http://[::1]"}
	if diff := cmp.Diff(want, cfg.CORS.AllowedOrigins); diff != "" {
		t.Errorf("origins (-want +got):\n%s", diff)
	}

	cfg, err = Parse([]byte("cors {\n  allowed_origins = []\n}\n"), "config.hcl", t.TempDir())
	if err != nil || cfg.CORS.AllowedOrigins != nil {
		t.Errorf("empty allowed_origins: got %v, %v; want CORS off", cfg, err)
	}
}

func TestParseTrustErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("empty-tokens", "# nobody\n\n")
	write("bad-tokens", "good-token-1234567890\n"+secretToken+" with a space\n")
	if err := os.Mkdir(filepath.Join(dir, "a-directory"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lookupEnv = os.LookupEnv })
	lookupEnv = func(name string) (string, bool) {
		switch name {
		case "EMPTY":
			return " , ", true
		case "BAD":
			return secretToken + "!", true
		}
		return "", false
	}

	for _, tt := range []struct {
		name string
		src  string
		want []string
	}{
		{"header limit too small", "server {\n  max_header_bytes = 100\n}\n",
			[]string{"config.hcl:2,22", "Invalid max_header_bytes", "from 1024 to"}},
		{"header limit not a number", "server {\n  max_header_bytes = \"64KiB\"\n}\n",
			[]string{"config.hcl:2,22", "max_header_bytes"}},
		{"zero concurrency", "plugins {\n  max_concurrency = 0\n}\n",
			[]string{"config.hcl:2,21", "Invalid max_concurrency", "from 1 to"}},
		{"fractional concurrency", "plugins {\n  max_concurrency = 1.5\n}\n",
			[]string{"config.hcl:2,21", "max_concurrency"}},
		{"negative queue", "model \"m\" {\n  command = \"/m\"\n  max_queue = -1\n}\n",
			[]string{"config.hcl:3,15", "Invalid max_queue"}},
		{"queue timeout without unit", "plugins {\n  queue_timeout = \"5\"\n}\n",
			[]string{"config.hcl:2,19", "Invalid duration"}},
		{"empty auth block", "auth {\n}\n",
			[]string{"config.hcl:1,1", "No API token", "remove the block"}},
		{"empty token list", "auth {\n  tokens = []\n}\n",
			[]string{"No API token"}},
		{"short token", "auth {\n  tokens = [\"short\"]\n}\n",
			[]string{"config.hcl:2,12", "Invalid token", "Token 1 of tokens must be 16 to 4096 characters long, got 5"}},
		{"token with a space", "auth {\n  tokens = [\"" + secretToken + " x\"]\n}\n",
			[]string{"Invalid token", "position 34"}},
		{"bad digest", "auth {\n  token_sha256 = [\"abc\"]\n}\n",
			[]string{"config.hcl:2,18", "Invalid token digest", "64 hexadecimal digits"}},
		{"missing tokens file", "auth {\n  tokens_file = \"nope\"\n}\n",
			[]string{"config.hcl:2,17", "Invalid tokens_file", "cannot read the tokens file"}},
		{"tokens file is a directory", "auth {\n  tokens_file = \"a-directory\"\n}\n",
			[]string{"not a regular file"}},
		{"tokens file without tokens", "auth {\n  tokens_file = \"empty-tokens\"\n}\n",
			[]string{"holds no token"}},
		{"tokens file with a bad token", "auth {\n  tokens_file = \"bad-tokens\"\n}\n",
			[]string{"the token on line 2 of", "cannot contain"}},
		{"unset variable", "auth {\n  tokens_env = \"UNSET\"\n}\n",
			[]string{"config.hcl:2,16", "UNSET is not set"}},
		{"variable without tokens", "auth {\n  tokens_env = \"EMPTY\"\n}\n",
			[]string{"No API token"}},
		{"variable with a bad token", "auth {\n  tokens_env = \"BAD\"\n}\n",
			[]string{"Token 1 of the environment variable BAD has a character"}},
		{"bad variable name", "auth {\n  tokens_env = \"A=B\"\n}\n",
			[]string{"name of an environment variable"}},
		{"unknown auth argument", "auth {\n  token = \"x\"\n}\n",
			[]string{"Unsupported argument"}},
		{"wildcard origin", "cors {\n  allowed_origins = [\"*\"]\n}\n",
			[]string{"config.hcl:2,21", "Invalid origin", "wildcard", "every web site"}},
		{"wildcard subdomain", "cors {\n  allowed_origins = [\"https://*.example\"]\n}\n",
			[]string{"has a wildcard"}},
		{"origin with a path", "cors {\n  allowed_origins = [\"https://app.example/\"]\n}\n",
			[]string{"no path"}},
		{"origin without scheme", "cors {\n  allowed_origins = [\"app.example\"]\n}\n",
			[]string{"https://"}},
		{"null origin", "cors {\n  allowed_origins = [\"null\"]\n}\n",
			[]string{"https://"}},
		{"origin with credentials", "cors {\n  allowed_origins = [\"https://u:p@app.example\"]\n}\n",
			[]string{"scheme://host"}},
		{"repeated auth block", "auth {\n  tokens = [\"" + token + "\"]\n}\nauth {\n  tokens = [\"" + token + "\"]\n}\n",
			[]string{"Duplicate auth block"}},
	} {
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

func TestCheckToken(t *testing.T) {
	for tok, ok := range map[string]bool{
		token:                                   true,
		"abcdefghijklmnop":                      true,
		"abcdefghijklmno":                       false, // 15
		"a-b.c_d~e+f/g0123==":                   true,
		"================":                      false,
		"abcdefghijklmnop=x":                    false, // = only at the end
		"abcdefghijklmnop\x00":                  false,
		"abcdefghijklmnopé":                     false,
		strings.Repeat("a", MaxTokenLength):     true,
		strings.Repeat("a", MaxTokenLength+1):   false,
		"Bearer abcdefghijklmnop":               false,
		"abcdefghijklmnop,abcdefghijklmnopqrst": false,
	} {
		if err := checkToken(tok); (err == nil) != ok {
			t.Errorf("checkToken(%q) = %v, want ok=%v", tok, err, ok)
		}
	}
}
