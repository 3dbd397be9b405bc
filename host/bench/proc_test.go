package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// hclogLine returns the line logger logs for msg and args, without its
// newline.
func hclogLine(t *testing.T, opts hclog.LoggerOptions, msg string, args ...any) string {
	t.Helper()
	var buf bytes.Buffer
	opts.Output = &buf
	hclog.New(&opts).Info(msg, args...)
	line, ok := strings.CutSuffix(buf.String(), "\n")
	if !ok || strings.Contains(line, "\n") {
		t.Fatalf("hclog wrote %q, not one line", buf.String())
	}
	return line
}

func TestParseReadyLineText(t *testing.T) {
	const origin = "plugin directory /opt/a \"b\"\tc\\d é"
	line := hclogLine(t, hclog.LoggerOptions{Name: "modelhost"}, "host ready",
		"address", "http://127.0.0.1:41234", "models", 2, "failed", 0,
		"startup", 873200*time.Microsecond, "origin", origin, "empty", "", "list", []string{"a b", "c"})
	t.Log(line)
	r, ok := parseReadyLine(line, "host ready")
	if !ok {
		t.Fatalf("not read as the ready line: %s", line)
	}
	want := readyLine{Line: line, Address: "http://127.0.0.1:41234", Models: 2, Startup: 873200 * time.Microsecond}
	if r != want {
		t.Errorf("got %+v, want %+v", r, want)
	}
	fields, _ := parseTextLine(line, "host ready")
	for k, v := range map[string]string{"failed": "0", "startup": "873.2ms", "origin": origin, "empty": "", "list": `["a b", "c"]`} {
		if fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, fields[k], v)
		}
	}

	// As the host prints it.
	r, ok = parseReadyLine("2026-11-25T23:47:36.398Z [INFO]  modelhost: host ready: address=http://127.0.0.1:41234 models=2 startup=873.2ms", "host ready")
	if !ok || r.Address != "http://127.0.0.1:41234" || r.Models != 2 || r.Startup != 873200*time.Microsecond {
		t.Errorf("the host's line read as %+v, %v", r, ok)
	}

	// Without fields, a name or a time.
	for _, opts := range []hclog.LoggerOptions{{Name: "modelhost"}, {DisableTime: true}} {
		line := hclogLine(t, opts, "host ready")
		if r, ok := parseReadyLine(line, "host ready"); !ok || r.Models != -1 || r.Address != "" || r.Startup != 0 {
			t.Errorf("%q read as %+v, %v", line, r, ok)
		}
	}
}

func TestParseReadyLineJSON(t *testing.T) {
	line := hclogLine(t, hclog.LoggerOptions{Name: "modelhost", JSONFormat: true}, "host ready",
		"address", "http://127.0.0.1:41234", "models", 2, "startup", 873200*time.Microsecond)
	r, ok := parseReadyLine(line, "host ready")
	if !ok || r.Address != "http://127.0.0.1:41234" || r.Models != 2 || r.Startup != 873200*time.Microsecond {
		t.Errorf("%s read as %+v, %v", line, r, ok)
	}

	// As runBaseline writes it.
	b, _ := json.Marshal(map[string]any{"@level": "info", "@message": baselineReady, "address": "http://127.0.0.1:5000"})
	r, ok = parseReadyLine(string(b), baselineReady)
	if !ok || r.Address != "http://127.0.0.1:5000" || r.Models != -1 {
		t.Errorf("%s read as %+v, %v", b, r, ok)
	}
}

func TestParseReadyLineOthers(t *testing.T) {
	lines := []string{
		hclogLine(t, hclog.LoggerOptions{Name: "modelhost"}, "host ready soon", "address", "http://127.0.0.1:1"),
		hclogLine(t, hclog.LoggerOptions{Name: "modelhost"}, "starting", "note", "host ready", "address", "http://127.0.0.1:1"),
		hclogLine(t, hclog.LoggerOptions{Name: "modelhost"}, "the host ready", "address", "http://127.0.0.1:1"),
		hclogLine(t, hclog.LoggerOptions{Name: "modelhost", JSONFormat: true}, "starting", "note", "host ready"),
		"host ready: address=http://127.0.0.1:1",
		"",
	}
	for _, line := range lines {
		if r, ok := parseReadyLine(line, "host ready"); ok {
			t.Errorf("%q read as a ready line: %+v", line, r)
		}
	}
}
