package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/fleet"
	"github.com/modelhost/modelhost/host/internal/metrics"
	"github.com/modelhost/modelhost/host/internal/ops"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/host/internal/watch"
)

// What asked for a reload, as logs and metrics name it.
const (
	TriggerSignal = metrics.TriggerSignal // SIGHUP
	TriggerAPI    = metrics.TriggerAPI    // POST /admin/reload
	TriggerWatch  = metrics.TriggerWatch  // a change in the plugin directory
)

// errShuttingDown is a reload asked for while the host shuts down.
var errShuttingDown = errors.New("the host is shutting down")

// Reload brings the plugins in line with the configuration and the plugin
// directory. For TriggerSignal and TriggerAPI it first reads the
// configuration file again: an unreadable or invalid file is an
// *ops.ConfigError and changes nothing. Settings that only a restart can
// apply (the server, auth, admin, cors and log blocks, and
// plugins.max_batch_size) keep their running values, with a warning. A
// directory change (TriggerWatch) rescans the directory with the
// configuration in force. Reloads never overlap.
func (s *Server) Reload(ctx context.Context, trigger string) (fleet.Report, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.shuttingDown.Load() {
		return fleet.Report{}, errShuttingDown
	}
	log := s.logger.With("trigger", trigger)
	cur := s.cfg.Load()
	next := cur
	if trigger != TriggerWatch && s.opts.ConfigPath != "" {
		loaded, err := s.readConfig()
		if err != nil {
			log.Error("reload refused: the configuration is invalid; nothing changed", "config", s.opts.ConfigPath, "error", err)
			s.reloadDone(trigger, false)
			return fleet.Report{}, err
		}
		next = keepRunningValues(cur, loaded)
		if changed := config.RestartRequired(cur, loaded); len(changed) > 0 {
			log.Warn("settings changed that apply only after a restart; they keep their running values", "settings", changed)
		}
	}
	rep, err := s.fleet.Apply(ctx, next, trigger != TriggerWatch)
	if err != nil {
		log.Error("reload failed; nothing changed", "error", err)
		s.reloadDone(trigger, false)
		return rep, err
	}
	s.cfg.Store(next)
	if next.Plugins.Directory != cur.Plugins.Directory || next.Plugins.Watch != cur.Plugins.Watch ||
		next.Plugins.WatchDebounce != cur.Plugins.WatchDebounce {
		select {
		case s.watchChanged <- struct{}{}:
		default:
		}
	}
	if rep.OK() {
		log.Info("reloaded", "summary", rep.Summary(), "models", s.registry.Len())
	} else {
		log.Warn("reloaded with failures", "summary", rep.Summary(), "models", s.registry.Len())
	}
	s.reloadDone(trigger, rep.OK())
	return rep, nil
}

func (s *Server) reloadDone(trigger string, ok bool) {
	m := s.metricsOrNil()
	if m == nil {
		return
	}
	result := metrics.ReloadSuccess
	if !ok {
		result = metrics.ReloadFailure
	}
	m.ReloadDone(trigger, result)
}

// readConfig reads the configuration file, with the command line's
// overrides applied.
func (s *Server) readConfig() (*config.Config, error) {
	cfg, err := config.Load(s.opts.ConfigPath)
	var cfgErr *config.Error
	switch {
	case errors.As(err, &cfgErr):
		var lines []string
		for _, d := range cfgErr.Diagnostics.Errs() {
			lines = append(lines, d.Error())
		}
		return nil, &ops.ConfigError{Diagnostics: lines}
	case err != nil:
		return nil, &ops.ConfigError{Diagnostics: []string{err.Error()}}
	}
	if s.opts.Overrides != nil {
		s.opts.Overrides(cfg)
	}
	return cfg, nil
}

// keepRunningValues returns next with the settings that a running host
// cannot change taken from cur.
func keepRunningValues(cur, next *config.Config) *config.Config {
	eff := *next
	ready := next.Server.ReadyWithFailedModels
	eff.Server = cur.Server
	eff.Server.ReadyWithFailedModels = ready
	eff.Auth = cur.Auth
	eff.Admin = cur.Admin
	eff.CORS = cur.CORS
	eff.Log = cur.Log
	eff.Plugins.MaxBatchSize = cur.Plugins.MaxBatchSize
	return &eff
}

// watchLoop watches the plugin directory while plugins.watch is on, and
// reloads when its content changes. It follows the configuration: a reload
// that changes the directory or the watch settings restarts it.
func (s *Server) watchLoop(ctx context.Context) {
	for {
		cfg := s.cfg.Load()
		p := cfg.Plugins
		if !p.Watch || p.Directory == "" {
			select {
			case <-ctx.Done():
				return
			case <-s.watchChanged:
				continue
			}
		}
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- watch.Run(wctx, p.Directory, watch.Options{Debounce: p.WatchDebounce, Logger: s.logger.Named("watch")},
				func(ctx context.Context, changed []string) {
					if _, err := s.Reload(ctx, TriggerWatch); err != nil && !errors.Is(err, errShuttingDown) {
						s.logger.Error("reload after a change in the plugin directory failed", "changed", changed, "error", err)
					}
				})
		}()
		s.logger.Info("watching the plugin directory", "directory", p.Directory, "debounce", p.WatchDebounce)
		select {
		case <-ctx.Done():
			cancel()
			<-done
			return
		case <-s.watchChanged:
			cancel()
			<-done
		case err := <-done:
			cancel()
			s.logger.Error("cannot watch the plugin directory; reload with SIGHUP or POST /admin/reload instead", "directory", p.Directory, "error", err)
			select {
			case <-ctx.Done():
				return
			case <-s.watchChanged:
			}
		}
	}
}

// readiness says whether the host should receive traffic: every model is
// ready and every wanted plugin runs, or, with
// server.ready_with_failed_models, no model is on its way up.
func (s *Server) readiness() ops.Readiness {
	allowFailed := s.cfg.Load().Server.ReadyWithFailedModels
	r := ops.Readiness{Ready: true, Models: []ops.ModelState{}, Failed: s.fleet.Failures()}
	notReady := func(reason string) {
		if r.Ready {
			r.Ready, r.Reason = false, reason
		}
	}
	if s.shuttingDown.Load() {
		notReady("the host is shutting down")
	}
	for _, e := range s.registry.List() {
		h := e.Health()
		r.Models = append(r.Models, ops.ModelState{Model: e.Info.QualifiedName, Version: e.Info.Version, Status: h.Status, Since: h.Since})
		switch {
		case h.Status == registry.StatusReady:
		case h.Status == registry.StatusFailed && allowFailed:
		default:
			notReady(fmt.Sprintf("model %s %s is %s", e.Info.QualifiedName, e.Info.Version, h.Status))
		}
	}
	if !allowFailed {
		for _, f := range r.Failed {
			if !f.KeptRunning {
				notReady(fmt.Sprintf("plugin %s did not start", f.Plugin))
			}
		}
	}
	return r
}
