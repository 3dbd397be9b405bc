package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

// logLine logs through the slog→hclog bridge with an hclog logger at level
// writing JSON, and returns the one line written, decoded, without its
// timestamp; nil when nothing was written.
func logLine(t *testing.T, level hclog.Level, log func(*slog.Logger)) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	hl := hclog.New(&hclog.LoggerOptions{Level: level, Output: &buf, JSONFormat: true})
	log(newSlogLogger(hl))
	if buf.Len() == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("log line is not JSON: %v\n%s", err, lines[0])
	}
	delete(m, "@timestamp")
	return m
}

type secret string

func (secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

func TestSlogBridgeAttrs(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want map[string]any
	}{
		{
			name: "message and attributes",
			log:  func(l *slog.Logger) { l.Info("predicted", "species", "setosa", "probability", 0.97) },
			want: map[string]any{"@level": "info", "@message": "predicted", "species": "setosa", "probability": 0.97},
		},
		{
			name: "typed attributes",
			log: func(l *slog.Logger) {
				l.Info("m", slog.Int("n", 3), slog.Bool("ok", true), slog.Any("err", errors.New("bad")))
			},
			want: map[string]any{"@level": "info", "@message": "m", "n": 3.0, "ok": true, "err": "bad"},
		},
		{
			name: "group attribute",
			log:  func(l *slog.Logger) { l.Info("m", slog.Group("req", "id", "r1", "size", 12)) },
			want: map[string]any{"@level": "info", "@message": "m", "req.id": "r1", "req.size": 12.0},
		},
		{
			name: "nested groups",
			log:  func(l *slog.Logger) { l.Info("m", slog.Group("a", slog.Group("b", "c", 1))) },
			want: map[string]any{"@level": "info", "@message": "m", "a.b.c": 1.0},
		},
		{
			name: "WithGroup qualifies later attributes only",
			log: func(l *slog.Logger) {
				l.With("before", 1).WithGroup("g").With("after", 2).Info("m", "rec", 3)
			},
			want: map[string]any{"@level": "info", "@message": "m", "before": 1.0, "g.after": 2.0, "g.rec": 3.0},
		},
		{
			name: "nested WithGroup",
			log:  func(l *slog.Logger) { l.WithGroup("a").WithGroup("b").Info("m", "c", 1) },
			want: map[string]any{"@level": "info", "@message": "m", "a.b.c": 1.0},
		},
		{
			name: "empty WithGroup is ignored",
			log:  func(l *slog.Logger) { l.WithGroup("").Info("m", "c", 1) },
			want: map[string]any{"@level": "info", "@message": "m", "c": 1.0},
		},
		{
			name: "group with empty key is inlined",
			log:  func(l *slog.Logger) { l.WithGroup("g").Info("m", slog.Group("", "c", 1)) },
			want: map[string]any{"@level": "info", "@message": "m", "g.c": 1.0},
		},
		{
			name: "attribute with empty key is dropped",
			log:  func(l *slog.Logger) { l.Info("m", slog.Attr{Key: "", Value: slog.IntValue(1)}, "kept", 2) },
			want: map[string]any{"@level": "info", "@message": "m", "kept": 2.0},
		},
		{
			name: "LogValuer is resolved",
			log:  func(l *slog.Logger) { l.Info("m", "token", secret("hunter2")) },
			want: map[string]any{"@level": "info", "@message": "m", "token": "REDACTED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := logLine(t, hclog.Trace, tt.log)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("log line differs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSlogBridgeLevels(t *testing.T) {
	tests := []struct {
		level slog.Level
		want  string // hclog's level name in the JSON line
	}{
		{slog.LevelDebug - 4, "trace"},
		{slog.LevelDebug - 1, "trace"},
		{slog.LevelDebug, "debug"},
		{slog.LevelDebug + 2, "debug"},
		{slog.LevelInfo, "info"},
		{slog.LevelInfo + 2, "info"},
		{slog.LevelWarn, "warn"},
		{slog.LevelError - 1, "warn"},
		{slog.LevelError, "error"},
		{slog.LevelError + 4, "error"},
	}
	for _, tt := range tests {
		got := logLine(t, hclog.Trace, func(l *slog.Logger) { l.Log(context.Background(), tt.level, "m") })
		if got["@level"] != tt.want {
			t.Errorf("slog level %v: got hclog level %v, want %q", tt.level, got["@level"], tt.want)
		}
	}
}

func TestSlogBridgeEnabled(t *testing.T) {
	tests := []struct {
		hclog hclog.Level
		slog  slog.Level
		want  bool
	}{
		{hclog.Trace, slog.LevelDebug - 4, true},
		{hclog.Debug, slog.LevelDebug - 4, false},
		{hclog.Debug, slog.LevelDebug, true},
		{hclog.Info, slog.LevelDebug, false},
		{hclog.Info, slog.LevelInfo, true},
		{hclog.Warn, slog.LevelInfo, false},
		{hclog.Warn, slog.LevelWarn, true},
		{hclog.Error, slog.LevelWarn, false},
		{hclog.Error, slog.LevelError, true},
		{hclog.Off, slog.LevelError, false},
	}
	for _, tt := range tests {
		hl := hclog.New(&hclog.LoggerOptions{Level: tt.hclog, Output: &bytes.Buffer{}})
		l := newSlogLogger(hl)
		if got := l.Enabled(context.Background(), tt.slog); got != tt.want {
			t.Errorf("hclog level %v, slog level %v: got Enabled %t, want %t", tt.hclog, tt.slog, got, tt.want)
		}
		line := logLine(t, tt.hclog, func(l *slog.Logger) { l.Log(context.Background(), tt.slog, "m") })
		if got := line != nil; got != tt.want {
			t.Errorf("hclog level %v, slog level %v: got a line written %t, want %t", tt.hclog, tt.slog, got, tt.want)
		}
	}
}
