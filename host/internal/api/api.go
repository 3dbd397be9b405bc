package api

import (
	"context"
	"crypto/sha256"
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

// DefaultMaxHeaderBytes is the request header limit used when
// Options.MaxHeaderBytes is not positive: 64 KiB.
const DefaultMaxHeaderBytes = 64 << 10

// Options configures the API.
type Options struct {
	// MaxBodyBytes is the largest request body accepted, in bytes; larger
	// bodies are answered with 413. Zero or less means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives server-side failures (5xx) with their real error and
	// recovered panics with their stack, and client errors at debug level.
	// Nil means no logging.
	Logger hclog.Logger
	// MaxHeaderBytes is the largest request line plus headers accepted, in
	// bytes; larger ones are answered with 431. Zero or less means
	// DefaultMaxHeaderBytes. Give http.Server.MaxHeaderBytes the same value.
	MaxHeaderBytes int
	// TokenDigests are the SHA-256 digests of the tokens that requests
	// under /api/ must present as "Authorization: Bearer TOKEN". Empty
	// means the API requires no token.
	TokenDigests [][sha256.Size]byte
	// CORSAllowedOrigins are the origins, as browsers send them, whose
	// pages may call the API from a browser. Empty means CORS is off.
	CORSAllowedOrigins []string
	// Observer is told of every request, plugin call and queue wait, for
	// metrics. Nil means nobody is.
	Observer Observer
	// AccessLog logs one line per request at info level. Without it,
	// requests are logged at debug level.
	AccessLog bool
	// MaxBatchSize is the most inputs one batch prediction may carry;
	// larger batches are answered 413. Zero or less means
	// DefaultMaxBatchSize.
	MaxBatchSize int
}

// server holds what the handlers share. It is read-only once New returns.
type server struct {
	reg       *registry.Registry
	maxBody   int64
	maxHeader int
	maxBatch  int
	tokens    [][sha256.Size]byte
	obs       Observer
	accessLog bool
	log       hclog.Logger
	printer   *message.Printer
}

// New returns an Echo instance that serves the API for the models in reg.
// The caller starts it (e.Start, or e.Server with a listener of its own) and
// shuts it down.
func New(reg *registry.Registry, opts Options) *echo.Echo {
	e, _ := newAPI(reg, opts)
	return e
}

// newAPI is New, also returning the handlers' shared state for tests.
func newAPI(reg *registry.Registry, opts Options) (*echo.Echo, *server) {
	s := &server{
		reg:       reg,
		maxBody:   opts.MaxBodyBytes,
		maxHeader: opts.MaxHeaderBytes,
		maxBatch:  opts.MaxBatchSize,
		tokens:    opts.TokenDigests,
		obs:       opts.Observer,
		accessLog: opts.AccessLog,
		log:       opts.Logger,
		printer:   message.NewPrinter(language.English),
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxBatch <= 0 {
		s.maxBatch = DefaultMaxBatchSize
	}
	if s.maxHeader <= 0 {
		s.maxHeader = DefaultMaxHeaderBytes
	}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	if s.obs == nil {
		s.obs = nopObserver{}
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.StdLogger = s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})
	e.HTTPErrorHandler = s.handleError
	// Outermost first. observe answers the errors of everything below it,
	// so that its log line has the final status.
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
			// Logged, with the stack, by handleError.
			return &panicError{err: err, stack: stack}
		},
	}))
	e.Use(securityHeaders)
	e.Use(s.limitHeaders)
	if mw := cors(opts.CORSAllowedOrigins); mw != nil {
		e.Use(mw) // before authenticate: preflight requests carry no token
		s.log.Info("CORS on", "allowed_origins", opts.CORSAllowedOrigins)
	}
	if len(s.tokens) > 0 {
		e.Use(s.authenticate)
		s.log.Info("API authentication on: requests under "+ProtectedPrefix+" need a bearer token", "tokens", len(s.tokens))
	}

	e.GET("/api/models", s.listModels)
	e.GET("/api/models/:name/metadata", s.modelMetadata)
	e.POST("/api/models/:name/predict", s.predict)
	e.POST("/api/models/:name/predict/batch", s.predictBatch)
	e.GET("/api/models/:name/versions/:version/metadata", s.modelMetadata)
	e.POST("/api/models/:name/versions/:version/predict", s.predict)
	e.POST("/api/models/:name/versions/:version/predict/batch", s.predictBatch)
	return e, s
}

// panicError is a panic recovered in a handler. It deliberately does not
// unwrap: whatever value was thrown, a panic is an internal error.
type panicError struct {
	err   error
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.err) }

// StatusClientClosedRequest is the status that the access log and the
// metrics record for a request whose client closed its connection before
// the answer was ready; nothing is sent. The code is nginx's, which log
// tools and dashboards know.
const StatusClientClosedRequest = 499

// handleError is the Echo HTTPErrorHandler: it answers every error with
// problem details, and logs server-side failures with the real error.
func (s *server) handleError(err error, c echo.Context) {
	req := c.Request()
	log := s.logger(c)
	d := problem.FromError(err)
	// A client that has gone would read no answer. (A failed body read
	// cancels the context too, but the client may well wait for an answer
	// then.)
	clientGone := errors.Is(req.Context().Err(), context.Canceled) && !errors.Is(err, errReadBody)
	status := d.Status
	switch {
	case c.Response().Committed:
		status = c.Response().Status
	case clientGone:
		status = StatusClientClosedRequest
	}
	args := []any{"method", req.Method, "path", req.URL.Path, "status", status, "error", err}
	if name := c.Param("name"); name != "" {
		args = append(args, "model", name)
	}
	var pe *panicError
	if errors.As(err, &pe) {
		args = append(args, "stack", string(pe.stack))
	}

	switch {
	case c.Response().Committed:
		log.Error("request failed after the response was sent", args...)
		return
	case clientGone:
		// Nothing is written; the status is what the access log and the
		// metrics record.
		c.Response().Status = status
		log.Debug("client went away", args...)
		return
	case d.Status == http.StatusServiceUnavailable:
		// The supervisor already logs why the model is down; one error
		// line per refused request would bury it during a restart.
		log.Warn("request refused: model unavailable", args...)
	case d.Status >= http.StatusInternalServerError:
		log.Error("request failed", args...)
	default:
		log.Debug("request rejected", args...)
	}
	if werr := problem.Write(c, d); werr != nil {
		log.Error("cannot write problem details", "path", req.URL.Path, "error", werr)
	}
}
