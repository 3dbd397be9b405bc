// Package ops serves the host's operational endpoints, outside the model
// API: liveness (GET /healthz) and readiness (GET /readyz) for probes,
// Prometheus metrics (GET /metrics), and the admin endpoint that reloads
// the configuration (POST /admin/reload).
package ops

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/fleet"
	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
)

// Readiness is the answer to GET /readyz.
type Readiness struct {
	// Ready is true when the host should receive traffic.
	Ready bool `json:"ready"`
	// Reason says why the host is not ready; empty when it is.
	Reason string `json:"reason,omitempty"`
	// Models lists every served model version with its state.
	Models []ModelState `json:"models"`
	// Failed lists the plugins that should run and do not (or whose
	// replacement did not start while the old process serves on).
	Failed []fleet.Failure `json:"failed"`
}

// ModelState is one model version in a Readiness.
type ModelState struct {
	Model   string          `json:"model"`
	Version string          `json:"version"`
	Status  registry.Status `json:"status"`
	// Since is when the model entered Status.
	Since time.Time `json:"since"`
}

// Options configures the endpoints.
type Options struct {
	// Readiness computes the host's readiness; required.
	Readiness func() Readiness
	// Reload reloads the configuration; required. A *ConfigError is
	// answered 422 with its diagnostics.
	Reload func(ctx context.Context) (fleet.Report, error)
	// Metrics serves GET /metrics; nil serves none.
	Metrics http.Handler
	// AdminTokens are the SHA-256 digests of the tokens that
	// POST /admin/reload accepts. Empty switches it off (403).
	AdminTokens [][sha256.Size]byte
	// Logger records reloads asked for over HTTP.
	Logger hclog.Logger
}

// Register adds the endpoints to e.
func Register(e *echo.Echo, opts Options) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	e.GET("/healthz", healthz)
	e.GET("/readyz", func(c echo.Context) error {
		r := opts.Readiness()
		status := http.StatusOK
		if !r.Ready {
			status = http.StatusServiceUnavailable
		}
		return c.JSON(status, r)
	})
	if opts.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(opts.Metrics))
	}
	e.POST("/admin/reload", func(c echo.Context) error {
		if len(opts.AdminTokens) == 0 {
			return problem.Forbidden("the admin API is off: add an admin block with tokens to the configuration to use it")
		}
		if err := api.Authorize(c, opts.AdminTokens, "admin token"); err != nil {
			return err
		}
		opts.Logger.Info("reload asked for over HTTP", "remote", c.Request().RemoteAddr, "request_id", api.RequestID(c.Request().Context()))
		// A client that gives up does not abandon the reload half-way.
		rep, err := opts.Reload(context.WithoutCancel(c.Request().Context()))
		var cfgErr *ConfigError
		switch {
		case errors.As(err, &cfgErr):
			return problem.InvalidConfig(cfgErr.Diagnostics)
		case err != nil:
			return err
		}
		return c.JSON(http.StatusOK, rep)
	})
}

// Health is the answer to GET /healthz.
type Health struct {
	Status string `json:"status"`
}

// healthz answers while the process serves HTTP at all: it checks
// nothing else, so that a liveness probe restarts only a host that is
// stuck, never one whose models are merely down.
func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, Health{Status: "ok"})
}

// ConfigError is a reload that found the configuration file unreadable or
// invalid, and changed nothing.
type ConfigError struct {
	// Diagnostics are the problems, each as "file:line,col: summary;
	// detail".
	Diagnostics []string
}

func (e *ConfigError) Error() string {
	return "invalid configuration: " + strings.Join(e.Diagnostics, "; ")
}
