// Package server assembles the host: it starts the plugins through a fleet,
// serves the HTTP API, the web pages, the OpenAPI document, metrics and the
// operational endpoints, reloads when asked to or when the plugin directory
// changes, and shuts everything down in order when its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/buildinfo"
	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/fleet"
	"github.com/modelhost/modelhost/host/internal/launcher"
	"github.com/modelhost/modelhost/host/internal/metrics"
	"github.com/modelhost/modelhost/host/internal/openapi"
	"github.com/modelhost/modelhost/host/internal/ops"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/host/internal/web"
)

// Options are the host's settings that do not come from the configuration
// file.
type Options struct {
	// ConfigPath is the configuration file that reloads (SIGHUP,
	// POST /admin/reload) read again. Empty means the host runs on the
	// built-in defaults: a reload then only rescans the plugin directory.
	ConfigPath string
	// Build describes the host binary, for the modelhost_build_info
	// metric.
	Build buildinfo.Info
	// Overrides, if not nil, is applied to every configuration read
	// (the first one and those of reloads), for command-line flags such as
	// serve --address.
	Overrides func(*config.Config)
}

// Server is a running host: its plugins, its registry and its HTTP server.
type Server struct {
	opts     Options
	logger   hclog.Logger
	registry *registry.Registry
	fleet    *fleet.Fleet
	metrics  atomic.Pointer[metrics.Metrics] // set once Start has made it
	runtime  *launcher.RuntimeDir
	http     *http.Server
	listener net.Listener

	cfg          atomic.Pointer[config.Config] // the configuration in force
	shuttingDown atomic.Bool
	reloadMu     sync.Mutex // serialises reloads
	watchChanged chan struct{}
}

// Start launches every plugin the configuration names or the plugin
// directory holds, registers the models that start, and binds the listen
// address. Plugins that fail are logged and skipped. Start fails only if the
// address cannot be bound or the plugin directory cannot be read; then every
// plugin it started is stopped again.
func Start(ctx context.Context, cfg *config.Config, logger hclog.Logger, opts Options) (*Server, error) {
	s := newServer(cfg, logger, opts)
	begin := time.Now()
	if _, err := s.fleet.Apply(ctx, cfg, true); err != nil {
		s.stopPlugins()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Server.Address)
	if err != nil {
		s.stopPlugins()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Server.Address, err)
	}
	s.listener = ln
	m := metrics.New(metrics.Options{
		Models: s.registry.List,
		Build:  metrics.BuildInfo{Version: opts.Build.Version, Revision: opts.Build.Revision, GoVersion: opts.Build.GoVersion},
		Logger: logger.Named("metrics"),
	})
	s.metrics.Store(m)
	handler := api.New(s.registry, api.Options{
		MaxBodyBytes:       cfg.Server.MaxBodyBytes,
		Logger:             logger.Named("http"),
		MaxHeaderBytes:     cfg.Server.MaxHeaderBytes,
		TokenDigests:       cfg.Auth.TokenDigests,
		CORSAllowedOrigins: cfg.CORS.AllowedOrigins,
		MaxBatchSize:       cfg.Plugins.MaxBatchSize,
		Observer:           m,
		AccessLog:          cfg.Log.Access,
	})
	if err := web.Register(handler, s.registry, web.Options{Logger: logger.Named("web"), PluginDirectory: cfg.Plugins.Directory}); err != nil {
		_ = ln.Close()
		s.stopPlugins()
		return nil, fmt.Errorf("web UI: %w", err)
	}
	openapi.Register(handler, s.registry, openapi.Options{
		MaxBodyBytes:   cfg.Server.MaxBodyBytes,
		MaxHeaderBytes: cfg.Server.MaxHeaderBytes,
		AuthEnabled:    cfg.Auth.Enabled(),
		MaxBatchSize:   cfg.Plugins.MaxBatchSize,
	})
	ops.Register(handler, ops.Options{
		Readiness:   s.readiness,
		Reload:      func(ctx context.Context) (fleet.Report, error) { return s.Reload(ctx, TriggerAPI) },
		Metrics:     m.Handler(),
		AdminTokens: cfg.Admin.TokenDigests,
		Logger:      logger.Named("admin"),
	})
	s.http = &http.Server{
		Handler:           handler,
		ReadTimeout:       cfg.Server.ReadTimeout,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
		ErrorLog:          logger.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	logger.Info("host ready", "address", "http://"+ln.Addr().String(), "models", s.registry.Len(),
		"failed", len(s.fleet.Failures()), "startup", time.Since(begin).Round(time.Millisecond))
	return s, nil
}

func newServer(cfg *config.Config, logger hclog.Logger, opts Options) *Server {
	s := &Server{opts: opts, logger: logger, registry: registry.New(), watchChanged: make(chan struct{}, 1)}
	s.cfg.Store(cfg)
	base := os.TempDir()
	launcher.CleanStale(base, logger.Named("runtime"))
	rd, err := launcher.NewRuntimeDir(base)
	if err != nil {
		logger.Warn("no runtime directory; plugin sockets go to the default temporary directory", "error", err)
	}
	s.runtime = rd
	s.fleet = fleet.New(s.registry, fleet.Options{Logger: logger, RuntimeDir: rd, Gone: func(model, version string) {
		if m := s.metricsOrNil(); m != nil {
			m.ForgetModel(model, version)
		}
	}})
	return s
}

func (s *Server) metricsOrNil() *metrics.Metrics { return s.metrics.Load() }

// LoadModels starts the plugins and registers their models as Start does,
// but listens on nothing: it is for commands that only read the models,
// such as "modelhost openapi". The caller must call stop, which stops the
// plugins.
func LoadModels(ctx context.Context, cfg *config.Config, logger hclog.Logger) (reg *registry.Registry, stop func(), err error) {
	s := newServer(cfg, logger, Options{})
	if _, err := s.fleet.Apply(ctx, cfg, true); err != nil {
		s.stopPlugins()
		return nil, nil, err
	}
	return s.registry, s.stopPlugins, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Registry returns the registry of served models.
func (s *Server) Registry() *registry.Registry { return s.registry }

// Serve answers HTTP requests, and watches the plugin directory when
// plugins.watch is on, until ctx ends; then it shuts down: it stops
// accepting connections, lets in-flight requests finish within
// server.shutdown_timeout, and stops every plugin. It returns nil after a
// clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	wctx, stopWatching := context.WithCancel(ctx)
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		s.watchLoop(wctx)
	}()
	var serveErr error
	cfg := s.cfg.Load()
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		s.logger.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout)
	}
	s.shuttingDown.Store(true)
	stopWatching()
	<-watching
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		s.logger.Warn("in-flight requests did not finish in time; closing their connections", "error", err)
		_ = s.http.Close()
	}
	s.stopPlugins()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	s.logger.Info("stopped")
	return nil
}

// stopPlugins stops every plugin, each once its in-flight predictions
// finish (within plugins.drain_timeout), waits for them, and removes the
// runtime directory.
func (s *Server) stopPlugins() {
	s.reloadMu.Lock() // no reload starts plugins behind our back
	defer s.reloadMu.Unlock()
	s.fleet.Close(s.cfg.Load().Plugins.DrainTimeout)
	if s.runtime == nil {
		return
	}
	if err := s.runtime.Remove(); err != nil {
		s.logger.Warn("cannot remove the runtime directory", "dir", s.runtime.Path(), "error", err)
	}
	s.runtime = nil
}
