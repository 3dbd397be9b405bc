// Package fleet runs the host's plugins and keeps them in step with the
// configuration and the plugin directory.
//
// Apply is the one way plugins start and stop, at start-up and at every
// reload (SIGHUP, POST /admin/reload, a change in the plugin directory):
// it discovers what should run, and compares it with what runs. A new
// plugin is launched and its model registered; a plugin whose binary or
// settings changed is launched again beside the old process, and only once
// the new one serves does the registry switch to it, in one atomic step;
// the old one is then drained (the requests that hold it finish) and
// stopped. A plugin that is no longer wanted is unregistered, drained and
// stopped. If a new process fails to start, the old one keeps serving and
// the failure is reported. No request is lost on the way: see
// registry.Entry.Drain.
package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/launcher"
	"github.com/modelhost/modelhost/host/internal/limit"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/host/internal/supervisor"
)

// Options configures a Fleet.
type Options struct {
	// Logger receives what happens to plugins; each plugin's own logs go
	// to its child "plugin".
	Logger hclog.Logger
	// RuntimeDir holds the plugins' sockets; nil leaves them in the
	// default temporary directory.
	RuntimeDir *launcher.RuntimeDir
	// Gone, if not nil, is called when a reload leaves a model version
	// served by no plugin (not when it is replaced by a process serving
	// the same version, nor at Close), for example to drop its metrics.
	Gone func(model, version string)
}

// Fleet is the set of running plugins. Create it with New, change it with
// Apply, stop it with Close.
type Fleet struct {
	reg     *registry.Registry
	log     hclog.Logger
	runtime *launcher.RuntimeDir
	gone    func(model, version string)

	mu       sync.Mutex // serialises Apply and Close; guards the fields below
	members  map[string]*member
	failures map[string]Failure // by spec key: wanted, not running
	closed   bool
	stopping sync.WaitGroup // retired plugins being drained and stopped
}

// member is one running plugin.
type member struct {
	spec        launcher.Spec
	fingerprint string
	sup         *supervisor.Supervisor
	entry       *registry.Entry
}

// New returns an empty fleet that registers its models in reg.
func New(reg *registry.Registry, opts Options) *Fleet {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Fleet{
		reg:      reg,
		log:      opts.Logger,
		runtime:  opts.RuntimeDir,
		gone:     opts.Gone,
		members:  map[string]*member{},
		failures: map[string]Failure{},
	}
}

// Report says what one Apply did.
type Report struct {
	// Started are plugins launched for the first time.
	Started []Change `json:"started"`
	// Replaced are plugins launched again because their binary or
	// settings changed, or because they had failed; the new process
	// serves, the old one is drained and stopped.
	Replaced []Change `json:"replaced"`
	// Stopped are plugins no longer wanted: unregistered, drained and
	// stopped.
	Stopped []Change `json:"stopped"`
	// Unchanged counts the plugins left running as they were.
	Unchanged int `json:"unchanged"`
	// Failed are plugins that should run but do not: their launch failed,
	// or their model could not be registered. When a replacement failed,
	// the old process keeps serving (Failure.KeptRunning).
	Failed []Failure `json:"failed"`
	// Skipped are files in the plugin directory that are not plugins.
	Skipped []launcher.Skipped `json:"skipped"`
}

// OK reports whether everything that should run, runs.
func (r Report) OK() bool { return len(r.Failed) == 0 }

// Summary is a one-line account of r, for logs.
func (r Report) Summary() string {
	return fmt.Sprintf("%d started, %d replaced, %d stopped, %d unchanged, %d failed",
		len(r.Started), len(r.Replaced), len(r.Stopped), r.Unchanged, len(r.Failed))
}

// Change is a plugin that Apply started, replaced or stopped.
type Change struct {
	// Plugin is the model block's label or the binary's file name.
	Plugin string `json:"plugin"`
	// Path is the plugin binary.
	Path string `json:"path"`
	// Model and Version are the model the plugin serves (serves now, for
	// a replacement; served, for a stopped plugin).
	Model   string `json:"model"`
	Version string `json:"version"`
	// PreviousVersion is the version the replaced process served.
	PreviousVersion string `json:"previous_version,omitempty"`
	// Startup is how long the new process took to serve.
	Startup time.Duration `json:"startup_ns,omitempty"`
}

// Failure is a plugin that should run and does not.
type Failure struct {
	// Plugin is the model block's label or the binary's file name.
	Plugin string `json:"plugin"`
	// Path is the plugin binary.
	Path string `json:"path"`
	// Origin says where the plugin comes from: a model block or the
	// plugin directory.
	Origin string `json:"origin"`
	// Error says why, without the plugin's own output.
	Error string `json:"error"`
	// KeptRunning is true when an older process of the plugin still
	// serves.
	KeptRunning bool `json:"kept_running"`
	// At is when it failed.
	At time.Time `json:"at"`

	fingerprint string // of the spec that failed
}

// Failures returns the plugins that should run but do not (or run an
// older process), as the last Apply left them, sorted by plugin.
func (f *Fleet) Failures() []Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Failure, 0, len(f.failures))
	for _, fl := range f.failures {
		out = append(out, fl)
	}
	slices.SortFunc(out, func(a, b Failure) int { return strings.Compare(a.Plugin, b.Plugin) })
	return out
}

// launched is a plugin Apply started, before its model is registered.
type launched struct {
	m       *member
	old     *member // the member it replaces, if any
	startup time.Duration
}

// Apply makes the fleet run what cfg asks for: the plugins that Discover
// finds for it. It returns once every new process serves or failed; old
// processes are drained and stopped in the background (Close waits for
// them). It fails only when discovery fails, and then changes nothing.
//
// With retryFailed, plugins that failed to start, or crashed too often,
// are launched again even if nothing about them changed (an operator's
// reload); without it they are left alone until their binary or settings
// change (a reload caused by another file of the plugin directory, which
// should not wait for a plugin known to hang at start).
func (f *Fleet) Apply(ctx context.Context, cfg *config.Config, retryFailed bool) (Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return Report{}, fmt.Errorf("apply: fleet closed")
	}
	specs, skipped, err := launcher.Discover(cfg)
	if err != nil {
		return Report{}, fmt.Errorf("discover plugins: %w", err)
	}
	rep := Report{Started: []Change{}, Replaced: []Change{}, Stopped: []Change{}, Failed: []Failure{}, Skipped: append([]launcher.Skipped{}, skipped...)}
	for _, sk := range skipped {
		f.log.Warn("skipping file in plugin directory", "path", sk.Path, "reason", sk.Reason)
	}

	// What to launch: new plugins, changed ones, and failed ones.
	wanted := make(map[string]bool, len(specs))
	var toLaunch []launcher.Spec
	fingerprints := map[string]string{}
	for _, spec := range specs {
		wanted[spec.Key] = true
		fp := fingerprint(spec, cfg)
		fingerprints[spec.Key] = fp
		cur := f.members[spec.Key]
		if cur != nil && cur.fingerprint == fp && (!retryFailed || cur.sup.Health().Status != registry.StatusFailed) {
			rep.Unchanged++
			delete(f.failures, spec.Key) // an older failed attempt is moot
			continue
		}
		if fl, ok := f.failures[spec.Key]; ok && fl.fingerprint == fp && !retryFailed {
			rep.Unchanged++ // still failing as it was; not retried
			continue
		}
		toLaunch = append(toLaunch, spec)
	}
	opts := f.launchOptions(cfg)
	var started []launched
	for _, r := range launcher.LaunchAll(ctx, toLaunch, opts) {
		old := f.members[r.Spec.Key]
		if r.Err != nil {
			f.fail(&rep, r.Spec, fingerprints[r.Spec.Key], old != nil, r.Err)
			continue
		}
		sup := f.supervise(r.Plugin, opts, cfg)
		entry, err := registry.NewEntry(sup, r.Spec.Command, r.Spec.PredictTimeout)
		if err != nil {
			sup.Stop()
			f.fail(&rep, r.Spec, fingerprints[r.Spec.Key], old != nil, fmt.Errorf("model not registered: %w", err))
			continue
		}
		entry.Monitor = sup
		entry.Limiter = limit.New(limit.Limits(cfg.LimitsFor(r.Spec.Command)))
		started = append(started, launched{
			m:       &member{spec: r.Spec, fingerprint: fingerprints[r.Spec.Key], sup: sup, entry: entry},
			old:     old,
			startup: r.Plugin.StartDuration,
		})
	}

	// One registry update: retire the replaced and unwanted members, add
	// the new ones. A new model that would share a name and version with
	// one that stays is refused: the one already serving wins.
	var remove []*member
	for key, m := range f.members {
		if !wanted[key] {
			remove = append(remove, m)
		}
	}
	started = f.refuseDuplicates(&rep, started, remove)
	var removeEntries, addEntries []*registry.Entry
	for _, m := range remove {
		removeEntries = append(removeEntries, m.entry)
	}
	for _, l := range started {
		if l.old != nil {
			removeEntries = append(removeEntries, l.old.entry)
		}
		addEntries = append(addEntries, l.m.entry)
	}
	f.reg.SetPins(cfg.Plugins.PinnedVersions)
	if err := f.reg.Update(removeEntries, addEntries); err != nil {
		// refuseDuplicates makes this unreachable; if it happens anyway,
		// keep serving what served.
		for _, l := range started {
			l.m.sup.Stop()
			f.fail(&rep, l.m.spec, l.m.fingerprint, l.old != nil, fmt.Errorf("registry update: %w", err))
		}
		return rep, nil
	}

	for _, l := range started {
		info := l.m.entry.Info
		f.members[l.m.spec.Key] = l.m
		delete(f.failures, l.m.spec.Key)
		c := Change{Plugin: l.m.spec.Name, Path: l.m.spec.Command, Model: info.QualifiedName, Version: info.Version, Startup: l.startup}
		args := []any{"model", info.QualifiedName, "version", info.Version, "plugin", l.m.spec.Command,
			"origin", l.m.spec.Origin, "pid", l.m.sup.Health().PID, "startup", l.startup.Round(time.Millisecond)}
		if l.old != nil {
			c.PreviousVersion = l.old.entry.Info.Version
			rep.Replaced = append(rep.Replaced, c)
			f.log.Info("model replaced; draining the old process", append(args, "previous_version", c.PreviousVersion)...)
			f.retire(l.old, cfg.Plugins.DrainTimeout, true)
		} else {
			rep.Started = append(rep.Started, c)
			f.log.Info("model ready", args...)
		}
	}
	for _, m := range remove {
		delete(f.members, m.spec.Key)
		info := m.entry.Info
		rep.Stopped = append(rep.Stopped, Change{Plugin: m.spec.Name, Path: m.spec.Command, Model: info.QualifiedName, Version: info.Version})
		f.log.Info("plugin removed; draining and stopping it", "model", info.QualifiedName, "version", info.Version, "plugin", m.spec.Command)
		f.retire(m, cfg.Plugins.DrainTimeout, true)
	}
	for key := range f.failures {
		if !wanted[key] {
			delete(f.failures, key)
		}
	}
	f.warnAboutPins(cfg.Plugins.PinnedVersions)
	return rep, nil
}

// refuseDuplicates drops from started the plugins whose model has the
// qualified name and version of a model that stays registered, or of one
// started before it, and reports them failed.
func (f *Fleet) refuseDuplicates(rep *Report, started []launched, remove []*member) []launched {
	leaving := map[*registry.Entry]bool{}
	for _, m := range remove {
		leaving[m.entry] = true
	}
	for _, l := range started {
		if l.old != nil {
			leaving[l.old.entry] = true
		}
	}
	taken := map[string]string{} // name@version → source
	for _, m := range f.members {
		if !leaving[m.entry] {
			taken[m.entry.Info.QualifiedName+"@"+m.entry.Info.Version] = m.spec.Command
		}
	}
	kept := started[:0]
	for _, l := range started {
		key := l.m.entry.Info.QualifiedName + "@" + l.m.entry.Info.Version
		if holder, ok := taken[key]; ok {
			l.m.sup.Stop()
			f.fail(rep, l.m.spec, l.m.fingerprint, l.old != nil, fmt.Errorf("%w: %s version %s is already served by %s",
				registry.ErrDuplicate, l.m.entry.Info.QualifiedName, l.m.entry.Info.Version, holder))
			continue
		}
		taken[key] = l.m.spec.Command
		kept = append(kept, l)
	}
	return kept
}

// fail records that spec should run and does not.
func (f *Fleet) fail(rep *Report, spec launcher.Spec, fingerprint string, keptRunning bool, err error) {
	fl := Failure{Plugin: spec.Name, Path: spec.Command, Origin: spec.Origin, Error: launcher.Reason(err), KeptRunning: keptRunning,
		At: time.Now(), fingerprint: fingerprint}
	rep.Failed = append(rep.Failed, fl)
	f.failures[spec.Key] = fl
	if keptRunning {
		f.log.Error("new plugin process not started; the old one keeps serving", "plugin", spec.Name, "path", spec.Command, "origin", spec.Origin, "reason", err)
	} else {
		f.log.Error("plugin not started; skipping it", "plugin", spec.Name, "path", spec.Command, "origin", spec.Origin, "reason", err)
	}
}

// lingerTimeout bounds the wait, after a retired plugin is stopped, for
// the requests that the drain timeout cut to end. They end as soon as
// their answer (an error) is written; only a client that does not read it
// holds one longer, until the server's write timeout.
const lingerTimeout = 5 * time.Second

// retire drains m in the background, once the requests holding its entry
// are done or drainTimeout passed, and stops its plugin. With announce,
// it then reports the version as gone (Options.Gone) if no plugin serves
// it any more.
func (f *Fleet) retire(m *member, drainTimeout time.Duration, announce bool) {
	f.stopping.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		begin := time.Now()
		if n := m.entry.Drain(ctx); n > 0 {
			f.log.Warn("requests still in flight after the drain timeout; stopping the plugin anyway",
				"plugin", m.spec.Command, "in_flight", n, "drain_timeout", drainTimeout)
		}
		m.sup.Stop()
		info := m.entry.Info
		if _, err := f.reg.GetVersion(info.QualifiedName, info.Version); err != nil && announce && f.gone != nil {
			// Requests cut by the drain timeout fail quickly once the plugin
			// is stopped; each is counted before its lease ends, and a count
			// after the version is forgotten would export it again.
			linger, cancel := context.WithTimeout(context.Background(), lingerTimeout)
			if n := m.entry.Drain(linger); n > 0 {
				f.log.Warn("requests of a stopped plugin still running; forgetting its metrics anyway",
					"plugin", m.spec.Command, "in_flight", n, "waited", lingerTimeout)
			}
			cancel()
			f.gone(info.QualifiedName, info.Version)
		}
		f.log.Debug("retired plugin stopped", "plugin", m.spec.Command, "model", m.entry.Info.QualifiedName,
			"version", m.entry.Info.Version, "took", time.Since(begin).Round(time.Millisecond))
	})
}

// warnAboutPins logs the pinned versions that no plugin serves.
func (f *Fleet) warnAboutPins(pins map[string]string) {
	for name, version := range pins {
		if _, err := f.reg.GetVersion(name, version); err != nil {
			f.log.Warn("pinned version not served; the highest served version is the default", "model", name, "pinned_version", version)
		}
	}
}

// Close unregisters every model and stops every plugin, each once its
// in-flight requests finish (within plugins.drain_timeout), and waits for
// them, and for the plugins retired by earlier reloads.
func (f *Fleet) Close(drainTimeout time.Duration) {
	f.mu.Lock()
	f.closed = true
	var entries []*registry.Entry
	for _, m := range f.members {
		entries = append(entries, m.entry)
	}
	// Requests that arrive from now on find no model; the HTTP server has
	// stopped accepting them by the time the host closes its fleet.
	_ = f.reg.Update(entries, nil)
	for _, m := range f.members {
		// The host is exiting: its metrics go with it, and nothing need
		// wait for cut requests to be counted.
		f.retire(m, drainTimeout, false)
	}
	f.members = map[string]*member{}
	f.mu.Unlock()
	f.stopping.Wait()
}

// launchOptions returns the options of the launches cfg asks for.
func (f *Fleet) launchOptions(cfg *config.Config) launcher.Options {
	return launcher.Options{
		Logger:           f.log.Named("plugin"),
		StartTimeout:     cfg.Plugins.StartTimeout,
		RuntimeDir:       f.runtime,
		MaxResponseBytes: cfg.Plugins.MaxResponseBytes,
	}
}

// supervise starts supervising p: when its process exits, the plugin is
// launched again from its spec, as the restart policy says.
func (f *Fleet) supervise(p *launcher.Plugin, opts launcher.Options, cfg *config.Config) *supervisor.Supervisor {
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
		Policy: supervisor.PolicyFromConfig(cfg.Plugins),
		Logger: f.log.Named("supervisor"),
	})
}

// fingerprint identifies what a launch of spec under cfg would run: the
// spec, the binary on disk (replacing it changes its identity), and the
// settings that apply to the plugin. Two equal fingerprints need no
// relaunch.
func fingerprint(spec launcher.Spec, cfg *config.Config) string {
	p := cfg.Plugins
	return fmt.Sprintf("%q %q %q %s %x | %s | %+v | %s %d %d %s %s %s %s",
		spec.Command, spec.Args, spec.Env, spec.PredictTimeout, spec.SHA256,
		fileIdentity(spec.Command),
		cfg.LimitsFor(spec.Command),
		p.StartTimeout, p.MaxResponseBytes, p.RestartMax, p.RestartWindow, p.RestartBackoffInitial, p.RestartBackoffMax, p.DrainTimeout)
}
