package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

// serveHelperEnv makes the test binary serve lengthModel as a plugin
// instead of running tests; see TestMain and TestServeAsPluginProcess.
const serveHelperEnv = "MODELHOST_SDK_TEST_SERVE_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(serveHelperEnv) == "1" {
		Serve(lengthModel(lengthInfo))
	}
	os.Exit(m.Run())
}

type lengthIn struct {
	Text  string `json:"text" jsonschema:"description=Any text"`
	Panic bool   `json:"panic,omitempty"`
	Echo  bool   `json:"echo,omitempty" jsonschema:"description=Return the text too"`
}

type lengthOut struct {
	Length int    `json:"length"`
	Text   string `json:"text,omitempty"`
}

var lengthInfo = sdk.Info{
	QualifiedName: "text_length",
	DisplayName:   "Text length",
	Description:   "Counts the bytes of a text.",
	Version:       "0.3.0",
}

func lengthModel(info sdk.Info) *sdk.Model[lengthIn, lengthOut] {
	return sdk.NewModel(info, func(ctx context.Context, in lengthIn) (lengthOut, error) {
		if in.Panic {
			panic("asked to panic")
		}
		sdk.Logger(ctx).With("request", "r1").WithGroup("text").Info("measured", "bytes", len(in.Text))
		out := lengthOut{Length: len(in.Text)}
		if in.Echo {
			out.Text = in.Text
		}
		return out, nil
	}, sdk.WithExamples(lengthIn{Text: "hello"}))
}

func TestServeByHand(t *testing.T) {
	cookie := HandshakeConfig().MagicCookieKey
	cookieValue := HandshakeConfig().MagicCookieValue
	badInfo := lengthInfo
	badInfo.QualifiedName = "Text Length"
	badInfo.Version = "v1"

	tests := []struct {
		name       string
		model      sdk.MLModel
		cookie     string
		args       []string
		wantCode   int
		wantStdout bool     // whether anything is written to stdout
		wantStderr []string // substrings of stderr
	}{
		{
			name:     "no cookie prints usage",
			model:    lengthModel(lengthInfo),
			args:     []string{"/opt/plugins/text-length"},
			wantCode: 2,
			wantStderr: []string{
				`text-length is a modelhost plugin`,
				`"text_length"`,
				`Text length 0.3.0`,
				`modelhost serve --config config.hcl`,
				`text-length --describe`,
			},
		},
		{
			name:       "wrong cookie prints usage",
			model:      lengthModel(lengthInfo),
			cookie:     "not-the-cookie",
			args:       []string{"text-length", "--help"},
			wantCode:   2,
			wantStderr: []string{`text-length is a modelhost plugin`},
		},
		{
			name:       "no arguments at all",
			model:      lengthModel(lengthInfo),
			args:       nil,
			wantCode:   2,
			wantStderr: []string{`plugin is a modelhost plugin`},
		},
		{
			name:       "invalid metadata with the cookie",
			model:      lengthModel(badInfo),
			cookie:     cookieValue,
			args:       []string{"text-length"},
			wantCode:   1,
			wantStderr: []string{"cannot serve model", `qualified name "Text Length"`, `version "v1"`},
		},
		{
			name:       "schema not a JSON object with the cookie",
			model:      rawModel{info: lengthInfo, in: json.RawMessage(`["type","object"]`), out: json.RawMessage(`{}`)},
			cookie:     cookieValue,
			args:       []string{"text-length"},
			wantCode:   1,
			wantStderr: []string{"cannot serve model", "input schema", "not a JSON Schema: want a JSON object"},
		},
		{
			name:       "schema not JSON with the cookie",
			model:      rawModel{info: lengthInfo, in: json.RawMessage(`{}`), out: json.RawMessage(`{"type":`)},
			cookie:     cookieValue,
			args:       []string{"text-length"},
			wantCode:   1,
			wantStderr: []string{"cannot serve model", "output schema: not valid JSON"},
		},
		{
			name:       "describe",
			model:      lengthModel(lengthInfo),
			args:       []string{"text-length", "--describe"},
			wantCode:   0,
			wantStdout: true,
		},
		{
			name:       "describe with invalid metadata",
			model:      lengthModel(badInfo),
			args:       []string{"text-length", "--describe"},
			wantCode:   1,
			wantStdout: true,
			wantStderr: []string{"the host would refuse this model", `qualified name "Text Length"`, "schemacheck.Model", "modeltest.Check", "when it loads the plugin"},
		},
		{
			name:       "describe with a schema that is not an object",
			model:      rawModel{info: lengthInfo, in: json.RawMessage(`{}`), out: json.RawMessage(`"object"`)},
			args:       []string{"text-length", "--describe"},
			wantCode:   1,
			wantStdout: true,
			wantStderr: []string{"the host would refuse this model", "output schema", "schemacheck.Model"},
		},
		{
			// Compiling is the host's and the model's tests' job (see
			// Serve): --describe prints the schema and says nothing.
			name:       "describe does not compile schemas",
			model:      rawModel{info: lengthInfo, in: json.RawMessage(`{"type":7}`), out: json.RawMessage(`{}`)},
			args:       []string{"text-length", "--describe"},
			wantCode:   0,
			wantStdout: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(cookie, tt.cookie)
			var stdout, stderr bytes.Buffer
			if got := serve(tt.model, tt.args, &stdout, &stderr); got != tt.wantCode {
				t.Errorf("serve(%q) = %d, want %d; stderr:\n%s", tt.args, got, tt.wantCode, stderr.String())
			}
			if got := stdout.Len() > 0; got != tt.wantStdout {
				t.Errorf("serve(%q) wrote %d bytes to stdout, want output: %t:\n%s", tt.args, stdout.Len(), tt.wantStdout, stdout.String())
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("serve(%q) stderr = %q, want it to contain %q", tt.args, stderr.String(), want)
				}
			}
		})
	}
}

func TestServeDescribe(t *testing.T) {
	model := lengthModel(lengthInfo)
	var stdout, stderr bytes.Buffer
	if code := serve(model, []string{"text-length", "--describe"}, &stdout, &stderr); code != 0 {
		t.Fatalf("serve(--describe) = %d, want 0; stderr: %s", code, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("serve(--describe) stderr = %q, want nothing", stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("--describe output is not a JSON object: %v\n%s", err, stdout.String())
	}
	var inSchema, outSchema any
	if err := json.Unmarshal(model.InputSchema(), &inSchema); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(model.OutputSchema(), &outSchema); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"qualified_name": "text_length",
		"display_name":   "Text length",
		"description":    "Counts the bytes of a text.",
		"version":        "0.3.0",
		"input_schema":   inSchema,
		"output_schema":  outSchema,
		"sdk_version":    SDKVersion,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--describe output differs (-want +got):\n%s", diff)
	}
	for _, name := range []string{"input_schema", "output_schema"} {
		doc, err := json.Marshal(got[name])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := schemacheck.Compile(doc); err != nil {
			t.Errorf("--describe %s does not compile: %v", name, err)
		}
	}
}

func TestCheckServable(t *testing.T) {
	valid := lengthModel(lengthInfo)
	badInfo := lengthInfo
	badInfo.Version = "v1"
	tests := []struct {
		name    string
		model   sdk.MLModel
		wantErr string // substring; "" means no error
	}{
		{name: "valid", model: valid},
		{name: "boolean schemas", model: rawModel{info: lengthInfo, in: json.RawMessage(` true`), out: json.RawMessage("false\n")}},
		// Compiling is left to the host and to schemacheck.Model.
		{name: "object that does not compile", model: rawModel{info: lengthInfo, in: json.RawMessage(`{"type":7}`), out: json.RawMessage(`{"$ref":"https://example.com/s.json"}`)}},
		{name: "invalid metadata", model: rawModel{info: badInfo, in: valid.InputSchema(), out: valid.OutputSchema()}, wantErr: `version "v1"`},
		{name: "input schema not JSON", model: rawModel{info: lengthInfo, in: json.RawMessage(`{`), out: valid.OutputSchema()}, wantErr: "input schema: not valid JSON: unexpected end of JSON input"},
		{name: "input schema empty", model: rawModel{info: lengthInfo, in: nil, out: valid.OutputSchema()}, wantErr: "input schema: not valid JSON"},
		{name: "two values", model: rawModel{info: lengthInfo, in: json.RawMessage(`{} {}`), out: valid.OutputSchema()}, wantErr: "input schema: not valid JSON"},
		{name: "output schema an array", model: rawModel{info: lengthInfo, in: valid.InputSchema(), out: json.RawMessage(` [{"type":"object"}]`)}, wantErr: `output schema: [{"type":"object"}] is not a JSON Schema`},
		{name: "output schema null", model: rawModel{info: lengthInfo, in: valid.InputSchema(), out: json.RawMessage(`null`)}, wantErr: "output schema: null is not a JSON Schema"},
		{name: "output schema a number", model: rawModel{info: lengthInfo, in: valid.InputSchema(), out: json.RawMessage(`12`)}, wantErr: "output schema: 12 is not a JSON Schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkServable(tt.model)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("checkServable() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("checkServable() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// rawModel is an sdk.MLModel written by hand, for schemas NewModel would
// never produce.
type rawModel struct {
	info    sdk.Info
	in, out json.RawMessage
}

func (m rawModel) Info() sdk.Info                { return m.info }
func (m rawModel) InputSchema() json.RawMessage  { return m.in }
func (m rawModel) OutputSchema() json.RawMessage { return m.out }
func (m rawModel) Predict(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	return in, nil
}

// TestServeAsPluginProcess launches this test binary as a real plugin
// process with go-plugin, configured as the host configures it, and checks
// the handshake, message sizes, panics and logging end to end.
func TestServeAsPluginProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a plugin process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Name: "plugin.text-length", Level: hclog.Debug, Output: logs, JSONFormat: true})
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serveHelperEnv+"=1", LogLevelEnv+"=debug")
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  HandshakeConfig(),
		Plugins:          PluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     time.Minute,
		Logger:           logger,
		GRPCDialOptions:  GRPCDialOptions(),
	})
	t.Cleanup(client.Kill)
	protocol, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v", err)
	}
	ctx := context.Background()
	remote, err := Connect(ctx, protocol)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if diff := cmp.Diff(lengthInfo, remote.Info()); diff != "" {
		t.Errorf("Info differs (-want +got):\n%s", diff)
	}

	const size = 8 << 20
	text := strings.Repeat("z", size)
	input, err := json.Marshal(lengthIn{Text: text, Echo: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := remote.Predict(ctx, input)
	if err != nil {
		t.Fatalf("Predict(%d-byte input) error = %v, want nil", len(input), err)
	}
	if got, want := string(out), `{"length":8388608,"text":"`+text+`"}`; got != want {
		t.Errorf("Predict(%d-byte input) = %d bytes, want %d", len(input), len(got), len(want))
	}

	if _, err := remote.Predict(ctx, json.RawMessage(`{"text":"x","panic":true}`)); !errors.Is(err, ErrModelFailed) {
		t.Errorf("Predict(panic) error = %v, want ErrModelFailed", err)
	}
	if out, err := remote.Predict(ctx, json.RawMessage(`{"text":"abc"}`)); err != nil || string(out) != `{"length":3}` {
		t.Errorf(`Predict after panic = %s, %v; want {"length":3}, nil`, out, err)
	}

	// The model's log line reaches the host's logger with its attributes
	// and groups as keys.
	deadline := time.Now().Add(10 * time.Second)
	for {
		line := logs.find(`"@message":"measured"`, `"text.bytes":3`)
		if line != nil {
			want := map[string]any{"@message": "measured", "@level": "info", "request": "r1", "text.bytes": 3.0}
			got := map[string]any{}
			for k := range want {
				got[k] = line[k]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("host's log line differs (-want +got):\n%s", diff)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no \"measured\" line in the host's log after 10s; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if logs.find(`"@message":"predict panicked"`, `"@level":"error"`) == nil {
		t.Errorf("no \"predict panicked\" line in the host's log; log:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// find returns the first JSON log line that contains every one of substrs,
// decoded, or nil.
func (b *syncBuffer) find(substrs ...string) map[string]any {
lines:
	for _, line := range strings.Split(b.String(), "\n") {
		for _, s := range substrs {
			if !strings.Contains(line, s) {
				continue lines
			}
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			return m
		}
	}
	return nil
}
