// Package registry holds the models the host serves, keyed by qualified
// name, each with its input schema compiled once for validation.
//
// Reads (every request) take no lock: the registry publishes an immutable
// snapshot through an atomic pointer, and writers (start-up, later reloads)
// replace it under a mutex.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

var (
	// ErrNotFound means no model has the requested qualified name.
	ErrNotFound = errors.New("model not found")
	// ErrDuplicate means a model with the same qualified name is already
	// registered.
	ErrDuplicate = errors.New("duplicate qualified name")
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
}

// Health returns the model's current state.
func (e *Entry) Health() Health {
	if e.Monitor != nil {
		return e.Monitor.Health()
	}
	return Health{Status: e.Status, Since: e.ReadyAt}
}

// NewEntry reads model's metadata, checks it, and compiles its input schema.
func NewEntry(model sdk.MLModel, source string, predictTimeout time.Duration) (*Entry, error) {
	info := model.Info()
	if err := info.Validate(); err != nil {
		return nil, err
	}
	in, out := model.InputSchema(), model.OutputSchema()
	v, err := plugin.CompileSchema(in)
	if err != nil {
		return nil, fmt.Errorf("input schema of %s: %w", info.QualifiedName, err)
	}
	ov, err := plugin.CompileSchema(out)
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

type snapshot struct {
	byName map[string]*Entry
	sorted []*Entry // by qualified name
}

// New returns an empty registry.
func New() *Registry {
	r := &Registry{}
	r.snapshot.Store(&snapshot{byName: map[string]*Entry{}})
	return r
}

// Add registers e. It fails with ErrDuplicate if the qualified name is
// taken, naming the source that holds it.
func (r *Registry) Add(e *Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snapshot.Load()
	name := e.Info.QualifiedName
	if prev, ok := old.byName[name]; ok {
		return fmt.Errorf("%w: %q is already served by %s", ErrDuplicate, name, prev.Source)
	}
	next := &snapshot{byName: make(map[string]*Entry, len(old.byName)+1)}
	for k, v := range old.byName {
		next.byName[k] = v
	}
	next.byName[name] = e
	next.sorted = append(slices.Clone(old.sorted), e)
	slices.SortFunc(next.sorted, func(a, b *Entry) int {
		return strings.Compare(a.Info.QualifiedName, b.Info.QualifiedName)
	})
	r.snapshot.Store(next)
	return nil
}

// Get returns the model called name, or ErrNotFound.
func (r *Registry) Get(name string) (*Entry, error) {
	if e, ok := r.snapshot.Load().byName[name]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
}

// List returns every model, sorted by qualified name. The caller must not
// modify the slice.
func (r *Registry) List() []*Entry {
	return r.snapshot.Load().sorted
}

// Len returns the number of models.
func (r *Registry) Len() int { return len(r.snapshot.Load().byName) }
