package sdk

import (
	"context"
	"log/slog"
)

type loggerKey struct{}

// ContextWithLogger returns a copy of ctx that carries l. The plugin server
// uses it to hand each Predict call a logger whose lines reach the host's log.
func ContextWithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the logger carried by ctx. Inside a plugin, its lines appear
// in the host's log under the plugin's name (its model block's label or its
// file name). Outside one (in a unit test, say)
// it returns a logger that discards everything.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return discard
}

// discard is the logger of a context that carries none.
var discard = slog.New(slog.DiscardHandler)
