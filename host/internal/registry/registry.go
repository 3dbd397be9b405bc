// Package registry holds the models the host serves, keyed by qualified
// name and version, each with its schemas compiled once for validation.
//
// Several versions of one qualified name may be served side by side; the
// default version of a name, the one /api/models/{name}/predict reaches,
// is the version pinned for it, else the highest by semantic-version
// precedence.
//
// Reads (every request) take no lock: the registry publishes an immutable
// snapshot through an atomic pointer, and writers (start-up, reloads)
// replace it under a mutex. A request that uses a model holds a lease on
// its entry (Acquire, Release); an entry replaced or removed by a reload
// is retired, and the reload waits for its leases to end (Drain) before it
// stops the plugin, so that a swap loses no request.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/mod/semver"

	"github.com/modelhost/modelhost/host/internal/limit"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

var (
	// ErrNotFound means no model has the requested qualified name.
	ErrNotFound = errors.New("model not found")
	// ErrVersionNotFound means the model exists but not at the requested
	// version.
	ErrVersionNotFound = errors.New("model version not found")
	// ErrDuplicate means a model with the same qualified name and version
	// is already registered.
	ErrDuplicate = errors.New("duplicate model version")
)

// Status is the state of a model.
type Status string

// The states a model can be in.
const (
	// StatusReady: the plugin runs and answers predictions.
	StatusReady Status = "ready"
	// StatusStarting: the plugin is being launched again after a crash
	// (handshake and metadata); predictions answer 503 meanwhile.
	StatusStarting Status = "starting"
	// StatusRestarting: the plugin exited unexpectedly and waits out the
	// restart backoff before it is launched again; predictions answer 503.
	StatusRestarting Status = "restarting"
	// StatusFailed: the plugin crashed too often within the restart
	// window, or cannot be launched again (its binary changed); it is not
	// relaunched until the host restarts. Predictions answer 503.
	StatusFailed Status = "failed"
	// StatusStopping: the host is shutting down; in-flight predictions
	// finish, new ones answer 503.
	StatusStopping Status = "stopping"
)

// Health is a model's live state.
type Health struct {
	// Status is the model's state.
	Status Status
	// LastError says why the plugin last exited or failed to start; empty
	// if it never did. It never holds the plugin's own output.
	LastError string
	// Restarts counts the launches of the plugin after the first.
	Restarts int
	// PID is the plugin's process ID while it runs, else 0.
	PID int
	// Since is when the model entered Status.
	Since time.Time
}

// Monitor reports a model's live state; the supervisor of its plugin is
// one.
type Monitor interface {
	Health() Health
}

// BatchModel is implemented by models that answer many inputs in one call:
// *plugin.RemoteModel, and the supervisor and launcher wrappers around it.
// PredictBatch returns one output or one error per input, in order; err is
// set only when the call as a whole failed. The API falls back to one
// Predict per input for a model that does not implement it.
type BatchModel interface {
	PredictBatch(ctx context.Context, inputs []json.RawMessage) (outputs []json.RawMessage, errs []error, err error)
}

var _ BatchModel = (*plugin.RemoteModel)(nil)

// PredictBatch calls m once for all inputs if it is a BatchModel, else
// once per input, in order. In the second case a call that fails because
// ctx ended, or because the plugin is unavailable, fails the batch.
func PredictBatch(ctx context.Context, m sdk.MLModel, inputs []json.RawMessage) (outputs []json.RawMessage, errs []error, err error) {
	if bm, ok := m.(BatchModel); ok {
		return bm.PredictBatch(ctx, inputs)
	}
	outputs = make([]json.RawMessage, len(inputs))
	errs = make([]error, len(inputs))
	for i, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		outputs[i], errs[i] = m.Predict(ctx, in)
		if errs[i] != nil && (ctx.Err() != nil || errors.Is(errs[i], plugin.ErrUnavailable)) {
			return nil, nil, errs[i]
		}
	}
	return outputs, errs, nil
}

// Entry is one served model. Its fields do not change once it is
// registered; its live state comes from Health.
type Entry struct {
	// Model answers predictions; usually a *plugin.RemoteModel. It may
	// implement BatchModel.
	Model sdk.MLModel
	// Info is Model.Info(), read once.
	Info sdk.Info
	// InputSchema and OutputSchema are the model's JSON Schemas as published.
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	// Validator is InputSchema compiled; the host validates every input with
	// it before calling Predict.
	Validator *jsonschema.Schema
	// OutputValidator is OutputSchema compiled; the host validates every
	// output with it before answering.
	OutputValidator *jsonschema.Schema
	// Source says where the model came from, for example the plugin path.
	Source string
	// PredictTimeout bounds one Predict call.
	PredictTimeout time.Duration
	// Status is the model's state when it was registered; Health has the
	// current one.
	Status Status
	// ReadyAt is when the model became ready.
	ReadyAt time.Time
	// Monitor, if not nil, reports the model's live state; set it before
	// Add. Without one, a model is always Status.
	Monitor Monitor
	// Limiter bounds the model's concurrent predict calls; nil means no
	// bound. Set it before Add.
	Limiter *limit.Limiter

	leases  atomic.Int64 // requests using the entry now
	retired atomic.Bool  // replaced or removed from the registry
}

// Release ends a lease that Registry.Acquire gave.
func (e *Entry) Release() { e.leases.Add(-1) }

// Retired reports whether e has been replaced or removed: no new request
// reaches it.
func (e *Entry) Retired() bool { return e.retired.Load() }

// Leases returns how many requests use e now.
func (e *Entry) Leases() int { return int(e.leases.Load()) }

// drainPoll is how often Drain looks at the lease count. Drains are rare
// (a reload), so polling costs nothing on the request path.
const drainPoll = 2 * time.Millisecond

// Drain waits until a retired entry's leases have all ended, or ctx ends;
// then it returns the number still held (0 when drained). Calling it on an
// entry that is still served returns at once with its current count.
func (e *Entry) Drain(ctx context.Context) int {
	if !e.Retired() {
		return e.Leases()
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		n := e.Leases()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-t.C:
		}
	}
}

// Health returns the model's current state.
func (e *Entry) Health() Health {
	if e.Monitor != nil {
		return e.Monitor.Health()
	}
	return Health{Status: e.Status, Since: e.ReadyAt}
}

// NewEntry reads model's metadata, checks it, and compiles its input and
// output schemas with schemacheck.Compile. It is where a model whose schemas
// do not compile is refused: plugins check only that their schemas are JSON
// objects, since sdk/plugin links no JSON Schema compiler.
func NewEntry(model sdk.MLModel, source string, predictTimeout time.Duration) (*Entry, error) {
	info := model.Info()
	if err := info.Validate(); err != nil {
		return nil, err
	}
	in, out := model.InputSchema(), model.OutputSchema()
	v, err := schemacheck.Compile(in)
	if err != nil {
		return nil, fmt.Errorf("input schema of %s: %w", info.QualifiedName, err)
	}
	ov, err := schemacheck.Compile(out)
	if err != nil {
		return nil, fmt.Errorf("output schema of %s: %w", info.QualifiedName, err)
	}
	return &Entry{
		Model:           model,
		Info:            info,
		InputSchema:     in,
		OutputSchema:    out,
		Validator:       v,
		OutputValidator: ov,
		Source:          source,
		PredictTimeout:  predictTimeout,
		Status:          StatusReady,
		ReadyAt:         time.Now(),
	}, nil
}

// Registry is the set of served models. The zero value is not usable; call
// New.
type Registry struct {
	mu       sync.Mutex // serialises writers
	snapshot atomic.Pointer[snapshot]
}

// snapshot is the registry's content at one moment. It is never modified
// once published.
type snapshot struct {
	byName map[string]*versions
	sorted []*Entry // by qualified name, then version, highest first
	pins   map[string]string
}

// versions are the entries of one qualified name.
type versions struct {
	sorted    []*Entry // highest version first
	byVersion map[string]*Entry
	def       *Entry // the pinned version if served, else sorted[0]
}

// New returns an empty registry.
func New() *Registry {
	r := &Registry{}
	r.snapshot.Store(&snapshot{byName: map[string]*versions{}})
	return r
}

// Add registers e. It fails with ErrDuplicate if e's qualified name and
// version are taken, naming the source that holds them.
func (r *Registry) Add(e *Entry) error { return r.Update(nil, []*Entry{e}) }

// Update removes the entries in remove and adds those in add, in one step:
// a request sees either the registry before or after, never a mix. It fails,
// changing nothing, if an entry to add has the qualified name and version
// of one that stays, or of another one added, or if an entry to remove is
// not registered. The removed entries are retired: Acquire no longer
// returns them, and their Drain waits for the requests that still use
// them.
func (r *Registry) Update(remove, add []*Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snapshot.Load()
	all := make(map[*Entry]bool, len(old.sorted)+len(add))
	for _, e := range old.sorted {
		all[e] = true
	}
	for _, e := range remove {
		if !all[e] {
			return fmt.Errorf("%w: %s %s from %s is not registered", ErrNotFound, e.Info.QualifiedName, e.Info.Version, e.Source)
		}
		delete(all, e)
	}
	keep := make([]*Entry, 0, len(all)+len(add))
	for _, e := range old.sorted {
		if all[e] {
			keep = append(keep, e)
		}
	}
	next, err := build(append(keep, add...), old.pins)
	if err != nil {
		return err
	}
	r.snapshot.Store(next)
	// Retire only after the new snapshot is published: Acquire, having
	// seen a retired entry, loads the snapshot again and must find its
	// successor.
	for _, e := range remove {
		e.retired.Store(true)
	}
	return nil
}

// SetPins sets the pinned versions, qualified name → version: the default
// version of a pinned name is the pinned one while it is served, else the
// highest.
func (r *Registry) SetPins(pins map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next, err := build(r.snapshot.Load().sorted, maps.Clone(pins))
	if err != nil {
		panic(fmt.Sprintf("registry: rebuilding a valid snapshot failed: %v", err)) // cannot happen: same entries
	}
	r.snapshot.Store(next)
}

// build makes a snapshot of entries; it fails if two share a qualified
// name and version.
func build(entries []*Entry, pins map[string]string) (*snapshot, error) {
	s := &snapshot{byName: make(map[string]*versions, len(entries)), pins: pins}
	for _, e := range entries {
		name := e.Info.QualifiedName
		vs := s.byName[name]
		if vs == nil {
			vs = &versions{byVersion: map[string]*Entry{}}
			s.byName[name] = vs
		}
		if prev, ok := vs.byVersion[e.Info.Version]; ok {
			return nil, fmt.Errorf("%w: %s version %s is already served by %s", ErrDuplicate, name, e.Info.Version, prev.Source)
		}
		vs.byVersion[e.Info.Version] = e
		vs.sorted = append(vs.sorted, e)
	}
	for name, vs := range s.byName {
		slices.SortFunc(vs.sorted, func(a, b *Entry) int { return CompareVersions(b.Info.Version, a.Info.Version) })
		vs.def = vs.sorted[0]
		if pinned, ok := vs.byVersion[pins[name]]; ok {
			vs.def = pinned
		}
	}
	s.sorted = slices.Clone(entries)
	slices.SortFunc(s.sorted, func(a, b *Entry) int {
		if c := strings.Compare(a.Info.QualifiedName, b.Info.QualifiedName); c != 0 {
			return c
		}
		return CompareVersions(b.Info.Version, a.Info.Version)
	})
	return s, nil
}

// CompareVersions compares two semantic versions (without a leading "v")
// by Semantic Versioning precedence, returning -1, 0 or +1. Versions equal
// in precedence (they differ only in build metadata) are ordered as
// strings, so that the order is total.
func CompareVersions(a, b string) int {
	if c := semver.Compare("v"+a, "v"+b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// Get returns the default version of the model called name, or an error
// matching ErrNotFound.
func (r *Registry) Get(name string) (*Entry, error) {
	return r.snapshot.Load().get(name, "")
}

// GetVersion returns the model called name at version, or an error
// matching ErrNotFound or ErrVersionNotFound. An empty version means the
// default one.
func (r *Registry) GetVersion(name, version string) (*Entry, error) {
	return r.snapshot.Load().get(name, version)
}

func (s *snapshot) get(name, version string) (*Entry, error) {
	vs, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if version == "" {
		return vs.def, nil
	}
	if e, ok := vs.byVersion[version]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("%w: %q has no version %q", ErrVersionNotFound, name, version)
}

// Acquire returns the model called name at version (empty: the default
// version) with a lease on it: the entry is not drained while the lease
// is held. The caller must call Release on the entry once the request no
// longer needs the model. Errors are those of GetVersion.
func (r *Registry) Acquire(name, version string) (*Entry, error) {
	for {
		e, err := r.snapshot.Load().get(name, version)
		if err != nil {
			return nil, err
		}
		e.leases.Add(1)
		if !e.retired.Load() {
			return e, nil
		}
		// Retired after the snapshot was loaded: its successor, if any,
		// is published already.
		e.leases.Add(-1)
	}
}

// IsDefault reports whether e is the default version of its name.
func (r *Registry) IsDefault(e *Entry) bool {
	vs, ok := r.snapshot.Load().byName[e.Info.QualifiedName]
	return ok && vs.def == e
}

// Versions returns the entries of the model called name, highest version
// first, or nil. The caller must not modify the slice.
func (r *Registry) Versions(name string) []*Entry {
	if vs, ok := r.snapshot.Load().byName[name]; ok {
		return vs.sorted
	}
	return nil
}

// List returns every model version, sorted by qualified name, then by
// version, highest first. The caller must not modify the slice.
func (r *Registry) List() []*Entry {
	return r.snapshot.Load().sorted
}

// Len returns the number of model versions served.
func (r *Registry) Len() int { return len(r.snapshot.Load().sorted) }

// Names returns the number of distinct qualified names served.
func (r *Registry) Names() int { return len(r.snapshot.Load().byName) }
