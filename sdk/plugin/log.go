package plugin

import (
	"context"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// newSlogLogger returns a *slog.Logger that writes through hl, so that a
// model's log lines reach the host as go-plugin's JSON log lines.
func newSlogLogger(hl hclog.Logger) *slog.Logger {
	return slog.New(&hclogHandler{hl: hl})
}

// hclogHandler is a slog.Handler that forwards records to an hclog.Logger.
type hclogHandler struct {
	hl     hclog.Logger
	prefix string // dotted group prefix for attribute keys
}

func (h *hclogHandler) Enabled(_ context.Context, l slog.Level) bool {
	lvl := h.hl.GetLevel()
	return lvl != hclog.Off && lvl <= toHclogLevel(l)
}

func (h *hclogHandler) Handle(_ context.Context, r slog.Record) error {
	args := make([]any, 0, 2*r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		args = appendAttr(args, h.prefix, a)
		return true
	})
	h.hl.Log(toHclogLevel(r.Level), r.Message, args...)
	return nil
}

func (h *hclogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var args []any
	for _, a := range attrs {
		args = appendAttr(args, h.prefix, a)
	}
	return &hclogHandler{hl: h.hl.With(args...), prefix: h.prefix}
}

func (h *hclogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &hclogHandler{hl: h.hl, prefix: h.prefix + name + "."}
}

func appendAttr(args []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			args = appendAttr(args, p, g)
		}
		return args
	}
	if a.Key == "" {
		return args
	}
	return append(args, prefix+a.Key, v.Any())
}

func toHclogLevel(l slog.Level) hclog.Level {
	switch {
	case l < slog.LevelDebug:
		return hclog.Trace
	case l < slog.LevelInfo:
		return hclog.Debug
	case l < slog.LevelWarn:
		return hclog.Info
	case l < slog.LevelError:
		return hclog.Warn
	default:
		return hclog.Error
	}
}
