package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// DefaultMaxBodyBytes is the request body limit used when
// Options.MaxBodyBytes is not positive: 1 MiB.
const DefaultMaxBodyBytes int64 = 1 << 20

// Options configures the API.
type Options struct {
	// MaxBodyBytes is the largest request body accepted, in bytes; larger
	// bodies are answered with 413. Zero or less means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives server-side failures (5xx) with their real error and
	// recovered panics with their stack, and client errors at debug level.
	// Nil means no logging.
	Logger hclog.Logger
}

// server holds what the handlers share. It is read-only once New returns.
type server struct {
	reg     *registry.Registry
	maxBody int64
	log     hclog.Logger
	printer *message.Printer
}

// New returns an Echo instance that serves the API for the models in reg.
// The caller starts it (e.Start, or e.Server with a listener of its own) and
// shuts it down.
func New(reg *registry.Registry, opts Options) *echo.Echo {
	s := &server{
		reg:     reg,
		maxBody: opts.MaxBodyBytes,
		log:     opts.Logger,
		printer: message.NewPrinter(language.English),
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.StdLogger = s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
			// Logged, with the stack, by handleError.
			return &panicError{err: err, stack: stack}
		},
	}))

	e.GET("/api/models", s.listModels)
	e.GET("/api/models/:name/metadata", s.modelMetadata)
	e.POST("/api/models/:name/predict", s.predict)
	return e
}

// panicError is a panic recovered in a handler. It deliberately does not
// unwrap: whatever value was thrown, a panic is an internal error.
type panicError struct {
	err   error
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.err) }

// handleError is the Echo HTTPErrorHandler: it answers every error with
// problem details, and logs server-side failures with the real error.
func (s *server) handleError(err error, c echo.Context) {
	req := c.Request()
	d := problem.FromError(err)
	args := []any{"method", req.Method, "path", req.URL.Path, "status", d.Status, "error", err}
	if name := c.Param("name"); name != "" {
		args = append(args, "model", name)
	}
	var pe *panicError
	if errors.As(err, &pe) {
		args = append(args, "stack", string(pe.stack))
	}

	switch {
	case c.Response().Committed:
		s.log.Error("request failed after the response was sent", args...)
		return
	case errors.Is(req.Context().Err(), context.Canceled):
		// The client has gone: nobody would read the answer.
		s.log.Debug("client went away", args...)
		return
	case d.Status >= http.StatusInternalServerError:
		s.log.Error("request failed", args...)
	default:
		s.log.Debug("request rejected", args...)
	}
	if werr := problem.Write(c, d); werr != nil {
		s.log.Error("cannot write problem details", "path", req.URL.Path, "error", werr)
	}
}
