package server

import (
	"context"
	"os"

	"github.com/modelhost/modelhost/host/internal/launcher"
	"github.com/modelhost/modelhost/host/internal/supervisor"
)

// launchOptions returns the options of every launch, first and later. It
// removes what hosts that were killed left in the temporary directory,
// then creates this host's runtime directory for the plugins' sockets;
// without one (it cannot be created), plugins put their sockets in their
// default temporary directory.
func (s *Server) launchOptions() launcher.Options {
	base := os.TempDir()
	launcher.CleanStale(base, s.logger.Named("runtime"))
	rd, err := launcher.NewRuntimeDir(base)
	if err != nil {
		s.logger.Warn("no runtime directory; plugin sockets go to the default temporary directory", "error", err)
	}
	s.runtime = rd
	return launcher.Options{
		Logger:           s.logger.Named("plugin"),
		StartTimeout:     s.cfg.Plugins.StartTimeout,
		RuntimeDir:       rd,
		MaxResponseBytes: s.cfg.Plugins.MaxResponseBytes,
	}
}

// supervise starts supervising p: when its process exits, the plugin is
// launched again from its spec, as the restart policy says.
func (s *Server) supervise(p *launcher.Plugin, opts launcher.Options) *supervisor.Supervisor {
	spec := p.Spec
	launch := func(ctx context.Context) (supervisor.Instance, error) {
		next, err := launcher.Launch(ctx, spec, opts)
		if err != nil {
			return nil, err
		}
		return next, nil
	}
	return supervisor.New(p, launch, supervisor.Options{
		Name:   spec.Name,
		Policy: supervisor.PolicyFromConfig(s.cfg.Plugins),
		Logger: s.logger.Named("supervisor"),
	})
}

// removeRuntime removes the runtime directory once every plugin has
// stopped.
func (s *Server) removeRuntime() {
	if s.runtime == nil {
		return
	}
	if err := s.runtime.Remove(); err != nil {
		s.logger.Warn("cannot remove the runtime directory", "dir", s.runtime.Path(), "error", err)
	}
	s.runtime = nil
}
