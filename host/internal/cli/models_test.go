package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testToken = "0123456789abcdef0123456789abcdef"
	// modelsAnswer is an answer of GET /api/models, with a member this
	// version of the command does not know.
	modelsAnswer = `{"models":[` +
		`{"qualified_name":"iris_model","display_name":"Iris","description":"Predicts the species\nof an iris.","version":"1.0.0","status":"ready","restarts":0,"pid":42,"new_member":true},` +
		`{"qualified_name":"sentiment","display_name":"Sentiment","description":"Scores the sentiment of English text with the AFINN-165 lexicon of word valences, summed.","version":"2.1.0-rc.1","status":"failed","last_error":"exit status 1","restarts":5}` +
		`]}`
)

// fakeHost serves GET /api/models with modelsAnswer, requiring testToken,
// and records the requests' Authorization headers.
func fakeHost(t *testing.T) (*httptest.Server, *[]string) {
	t.Helper()
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/api/models":
			http.NotFound(w, r)
		case r.Header.Get("Authorization") != "Bearer "+testToken:
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="modelhost"`)
			w.WriteHeader(http.StatusUnauthorized)
			detail := "this endpoint requires an API token: send it as Authorization: Bearer TOKEN"
			if r.Header.Get("Authorization") != "" {
				detail = "the API token is not valid"
			}
			json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail})
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(modelsAnswer))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &auth
}

func TestModels(t *testing.T) {
	srv, auth := fakeHost(t)
	t.Setenv(tokenEnv, testToken)

	code, stdout, stderr := run(t, "models", "--url", srv.URL)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := "" +
		"NAME        VERSION     STATUS  RESTARTS  DESCRIPTION\n" +
		"iris_model  1.0.0       ready   0         Predicts the species of an iris.\n" +
		"sentiment   2.1.0-rc.1  failed  5         Scores the sentiment of English text with the AFINN-165 lex…\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	if len(*auth) != 1 || (*auth)[0] != "Bearer "+testToken {
		t.Errorf("Authorization headers %q, want the token from $%s", *auth, tokenEnv)
	}

	// A trailing slash, or a path prefix, is kept.
	if code, _, stderr := run(t, "models", "--url", srv.URL+"/"); code != exitOK {
		t.Errorf("URL with a trailing slash: exit %d, stderr %q", code, stderr)
	}
}

func TestModelsJSON(t *testing.T) {
	srv, _ := fakeHost(t)
	t.Setenv(tokenEnv, testToken)
	code, stdout, stderr := run(t, "models", "--url", srv.URL, "--json")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stdout, "{\n  \"models\": [\n    {\n      \"qualified_name\": \"iris_model\",") {
		t.Errorf("stdout is not the answer indented:\n%s", stdout)
	}
	// As received: the unknown member and the whole description are kept.
	for _, w := range []string{`"new_member": true`, `"description": "Predicts the species\nof an iris."`, `"last_error": "exit status 1"`} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout does not contain %s:\n%s", w, stdout)
		}
	}
}

func TestModelsTokenFile(t *testing.T) {
	srv, auth := fakeHost(t)
	t.Setenv(tokenEnv, "the-environment-loses-1234")
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("# for modelhost models\n\n  "+testToken+"  \nsecond-token-ignored-12345\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "models", "--url", srv.URL, "--token-file", file)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if len(*auth) != 1 || (*auth)[0] != "Bearer "+testToken {
		t.Errorf("Authorization headers %q, want the file's token", *auth)
	}

	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("# nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		empty:                        "holds no token",
		filepath.Join(empty, "nope"): "read the token file",
	} {
		code, _, stderr := run(t, "models", "--url", srv.URL, "--token-file", path)
		if code != exitFailed || !strings.Contains(stderr, want) {
			t.Errorf("--token-file %s: exit %d, stderr %q; want %d and %q", path, code, stderr, exitFailed, want)
		}
	}
}

func TestModelsUnauthorized(t *testing.T) {
	srv, _ := fakeHost(t)

	t.Setenv(tokenEnv, "")
	code, stdout, stderr := run(t, "models", "--url", srv.URL)
	if code != exitFailed || stdout != "" {
		t.Errorf("without token: exit %d, stdout %q; want %d, nothing", code, stdout, exitFailed)
	}
	want := "modelhost models: GET " + srv.URL + "/api/models: 401 Unauthorized: this endpoint requires an API token: send it as Authorization: Bearer TOKEN\n" +
		"The host requires an API token: set MODELHOST_TOKEN or use --token-file.\n"
	if stderr != want {
		t.Errorf("without token: stderr %q, want %q", stderr, want)
	}

	secret := "wrong-secret-token-1234567"
	t.Setenv(tokenEnv, secret)
	code, _, stderr = run(t, "models", "--url", srv.URL)
	if code != exitFailed || !strings.HasSuffix(stderr, ": 401 Unauthorized: the API token is not valid\n") {
		t.Errorf("wrong token: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, secret) {
		t.Errorf("stderr quotes the token: %q", stderr)
	}
}

func TestModelsFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/problem/api/models", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"type":"x","title":"Shutting\u001b[31m down","status":503,"detail":"the server is stopping"}`))
	})
	mux.HandleFunc("/plain/api/models", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream exploded", http.StatusBadGateway)
	})
	mux.HandleFunc("/garbage/api/models", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>not json</html>"))
	})
	mux.HandleFunc("/slow/api/models", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"problem answer", []string{"--url", srv.URL + "/problem"}, exitFailed,
			"modelhost models: GET " + srv.URL + "/problem/api/models: 503 Shutting [31m down: the server is stopping\n"},
		{"other error answer", []string{"--url", srv.URL + "/plain"}, exitFailed,
			"modelhost models: GET " + srv.URL + "/plain/api/models: 502 Bad Gateway\n"},
		{"not a model list", []string{"--url", srv.URL + "/garbage"}, exitFailed,
			"is not a model list"},
		{"not a model list as JSON", []string{"--url", srv.URL + "/garbage", "--json"}, exitFailed,
			"is not a model list"},
		{"timeout", []string{"--url", srv.URL + "/slow", "--timeout", "100ms"}, exitFailed,
			"no answer within 100ms"},
		{"host down", []string{"--url", closed.URL}, exitFailed,
			"connection refused"},
		{"not an http URL", []string{"--url", "ftp://example.com"}, exitUsage,
			`invalid --url "ftp://example.com"`},
		{"URL without host", []string{"--url", "localhost:8080"}, exitUsage,
			"invalid --url"},
		{"zero timeout", []string{"--timeout", "0s"}, exitUsage,
			"--timeout must be greater than zero"},
		{"bad timeout", []string{"--timeout", "soon"}, exitUsage,
			`invalid value "soon" for flag -timeout`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tokenEnv, "")
			code, stdout, stderr := run(t, append([]string{"models"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.want)
			}
			if strings.ContainsRune(stderr, '\x1b') {
				t.Errorf("stderr %q passes a control character through", stderr)
			}
		})
	}
}

func TestModelsEmpty(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"models":[]}`))
	}))
	t.Cleanup(srv.Close)
	t.Setenv(tokenEnv, "")
	code, stdout, _ := run(t, "models", "--url", srv.URL)
	if code != exitOK || stdout != "NAME  VERSION  STATUS  RESTARTS  DESCRIPTION\n" {
		t.Errorf("exit %d, stdout %q; want 0 and the header alone", code, stdout)
	}
}
