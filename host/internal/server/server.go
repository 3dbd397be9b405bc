// Package server assembles the host: it launches the configured plugins,
// registers their models, serves the HTTP API, and shuts everything down in
// order when its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/launcher"
	"github.com/modelhost/modelhost/host/internal/openapi"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/host/internal/supervisor"
	"github.com/modelhost/modelhost/host/internal/web"
)

// Server is a running host: its plugins, its registry and its HTTP server.
type Server struct {
	cfg      *config.Config
	logger   hclog.Logger
	registry *registry.Registry
	plugins  []*supervisor.Supervisor
	runtime  *launcher.RuntimeDir
	http     *http.Server
	listener net.Listener
}

// Start launches every plugin the configuration names or the plugin
// directory holds, registers the models that start, and binds the listen
// address. Plugins that fail are logged and skipped. Start fails only if the
// address cannot be bound or the plugin directory cannot be read; then every
// plugin it started is stopped again.
func Start(ctx context.Context, cfg *config.Config, logger hclog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, logger: logger, registry: registry.New()}
	begin := time.Now()
	if err := s.startPlugins(ctx); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Server.Address)
	if err != nil {
		s.stopPlugins()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Server.Address, err)
	}
	s.listener = ln
	handler := api.New(s.registry, api.Options{
		MaxBodyBytes:       cfg.Server.MaxBodyBytes,
		Logger:             logger.Named("http"),
		MaxHeaderBytes:     cfg.Server.MaxHeaderBytes,
		TokenDigests:       cfg.Auth.TokenDigests,
		CORSAllowedOrigins: cfg.CORS.AllowedOrigins,
		Limits:             func(e *registry.Entry) api.Limits { return api.Limits(cfg.LimitsFor(e.Source)) },
		MaxBatchSize:       cfg.Plugins.MaxBatchSize,
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
	s.http = &http.Server{
		Handler:           handler,
		ReadTimeout:       cfg.Server.ReadTimeout,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
		ErrorLog:          logger.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	logger.Info("host ready", "address", "http://"+ln.Addr().String(), "models", s.registry.Len(), "startup", time.Since(begin).Round(time.Millisecond))
	return s, nil
}

// LoadModels starts the plugins and registers their models as Start does,
// but listens on nothing: it is for commands that only read the models,
// such as "modelhost openapi". The caller must call stop, which stops the
// plugins.
func LoadModels(ctx context.Context, cfg *config.Config, logger hclog.Logger) (reg *registry.Registry, stop func(), err error) {
	s := &Server{cfg: cfg, logger: logger, registry: registry.New()}
	if err := s.startPlugins(ctx); err != nil {
		return nil, nil, err
	}
	return s.registry, s.stopPlugins, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Registry returns the registry of served models.
func (s *Server) Registry() *registry.Registry { return s.registry }

// Serve answers HTTP requests until ctx ends, then shuts down: it stops
// accepting connections, lets in-flight requests finish within
// server.shutdown_timeout, and stops every plugin. It returns nil after a
// clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		s.logger.Info("shutting down", "timeout", s.cfg.Server.ShutdownTimeout)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Server.ShutdownTimeout)
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

func (s *Server) startPlugins(ctx context.Context) error {
	specs, skipped, err := launcher.Discover(s.cfg)
	if err != nil {
		return err
	}
	for _, sk := range skipped {
		s.logger.Warn("skipping file in plugin directory", "path", sk.Path, "reason", sk.Reason)
	}
	if len(specs) == 0 {
		s.logger.Warn("no plugins to launch: put plugin binaries in the plugin directory or add model blocks to the config", "directory", s.cfg.Plugins.Directory)
		return nil
	}
	opts := s.launchOptions()
	results := launcher.LaunchAll(ctx, specs, opts)
	for _, r := range results {
		if r.Err != nil {
			s.logger.Error("plugin not started; skipping it", "plugin", r.Spec.Name, "path", r.Spec.Command, "origin", r.Spec.Origin, "reason", r.Err)
			continue
		}
		p := r.Plugin
		sup := s.supervise(p, opts)
		entry, err := registry.NewEntry(sup, p.Spec.Command, p.Spec.PredictTimeout)
		if err == nil {
			entry.Monitor = sup
			err = s.registry.Add(entry)
		}
		if err != nil {
			s.logger.Error("plugin's model not registered; stopping the plugin", "plugin", r.Spec.Name, "path", r.Spec.Command, "origin", r.Spec.Origin, "reason", err)
			sup.Stop()
			continue
		}
		s.plugins = append(s.plugins, sup)
		info := sup.Info()
		s.logger.Info("model ready", "model", info.QualifiedName, "version", info.Version,
			"plugin", r.Spec.Command, "origin", r.Spec.Origin, "pid", p.PID(), "startup", p.StartDuration.Round(time.Millisecond))
	}
	return nil
}

// stopPlugins stops every plugin concurrently, each once its in-flight
// predictions finish (within plugins.drain_timeout), waits for them, and
// removes the runtime directory.
func (s *Server) stopPlugins() {
	var wg sync.WaitGroup
	for _, p := range s.plugins {
		wg.Go(p.Stop)
	}
	wg.Wait()
	s.removeRuntime()
}
