package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/problem"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
)

// ModelSummary is one model in the answer to GET /api/models.
type ModelSummary struct {
	// QualifiedName is the name used in the model's URLs.
	QualifiedName string `json:"qualified_name"`
	// DisplayName is a short human-readable name.
	DisplayName string `json:"display_name"`
	// Description says what the model does.
	Description string `json:"description"`
	// Version is the model's semantic version.
	Version string `json:"version"`
	// Status is the model's state: "ready", "starting", "restarting",
	// "failed" or "stopping" (see docs/operations.md).
	Status registry.Status `json:"status"`
	// LastError says why the model's plugin last exited or failed to
	// start; omitted if it never did.
	LastError string `json:"last_error,omitempty"`
	// Restarts counts the relaunches of the model's plugin.
	Restarts int `json:"restarts"`
	// PID is the plugin's process ID while the model is ready.
	PID int `json:"pid,omitempty"`
	// Default is true for the version that /api/models/{name}/predict
	// uses: the pinned one, else the highest. When one version of a name
	// is served, it is the default.
	Default bool `json:"default"`
}

// ModelList is the answer to GET /api/models.
type ModelList struct {
	// Models lists every served model, sorted by qualified name; it is an
	// empty array, never null, when no model is served.
	Models []ModelSummary `json:"models"`
}

// ModelMetadata is the answer to GET /api/models/:name/metadata.
type ModelMetadata struct {
	ModelSummary
	// InputSchema is the JSON Schema that every input satisfies.
	InputSchema json.RawMessage `json:"input_schema"`
	// OutputSchema is the JSON Schema of the model's outputs.
	OutputSchema json.RawMessage `json:"output_schema"`
}

func (s *server) summarize(e *registry.Entry) ModelSummary {
	h := e.Health()
	return ModelSummary{
		QualifiedName: e.Info.QualifiedName,
		DisplayName:   e.Info.DisplayName,
		Description:   e.Info.Description,
		Version:       e.Info.Version,
		Status:        h.Status,
		LastError:     h.LastError,
		Restarts:      h.Restarts,
		PID:           h.PID,
		Default:       s.reg.IsDefault(e),
	}
}

func (s *server) listModels(c echo.Context) error {
	entries := s.reg.List()
	list := ModelList{Models: make([]ModelSummary, 0, len(entries))}
	for _, e := range entries {
		list.Models = append(list.Models, s.summarize(e))
	}
	return writeJSON(c, list)
}

func (s *server) modelMetadata(c echo.Context) error {
	e, err := s.lease(c, c.Param("name"), c.Param("version"))
	if err != nil {
		return err
	}
	return writeJSON(c, ModelMetadata{
		ModelSummary: s.summarize(e),
		InputSchema:  e.InputSchema,
		OutputSchema: e.OutputSchema,
	})
}

// lookup returns the model called name at version (empty: the default
// version), or a 404 problem. Names that cannot be qualified names are not
// looked up.
func (s *server) lookup(name, version string) (*registry.Entry, error) {
	if !isQualifiedName(name) {
		return nil, problem.ModelNotFound(name)
	}
	e, err := s.reg.GetVersion(name, version)
	if err != nil {
		return nil, s.notFound(name, version, err)
	}
	return e, nil
}

// lease returns the model called name at version (empty: the default
// version) with a lease on it, or a 404 problem, and records it as the
// model the request reached. The lease lasts until observe has recorded
// the request, so that a reload that retires the model forgets its
// metrics only after the last request that reached it has been counted.
func (s *server) lease(c echo.Context, name, version string) (*registry.Entry, error) {
	if !isQualifiedName(name) {
		return nil, problem.ModelNotFound(name)
	}
	e, err := s.reg.Acquire(name, version)
	if err != nil {
		return nil, s.notFound(name, version, err)
	}
	c.Set(entryKey, e)
	return e, nil
}

// notFound turns the registry's error for name at version into the 404
// problem the client gets.
func (s *server) notFound(name, version string, err error) error {
	switch {
	case errors.Is(err, registry.ErrVersionNotFound):
		var served []string
		for _, e := range s.reg.Versions(name) {
			served = append(served, e.Info.Version)
		}
		return problem.ModelVersionNotFound(name, version, served)
	case errors.Is(err, registry.ErrNotFound):
		return problem.ModelNotFound(name)
	default:
		return fmt.Errorf("look up model %q version %q: %w", name, version, err)
	}
}

// isQualifiedName reports whether name has the shape sdk.Info.Validate
// requires of a qualified name: ^[a-z0-9][a-z0-9_.-]*$, at most
// sdk.MaxQualifiedNameLength bytes.
func isQualifiedName(name string) bool {
	if name == "" || len(name) > sdk.MaxQualifiedNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch b := name[i]; {
		case 'a' <= b && b <= 'z', '0' <= b && b <= '9':
		case i > 0 && (b == '_' || b == '.' || b == '-'):
		default:
			return false
		}
	}
	return true
}

// writeJSON answers 200 with v encoded as application/json.
func writeJSON(c echo.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}
