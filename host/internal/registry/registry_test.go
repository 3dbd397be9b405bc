package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/modelhost/modelhost/sdk"
)

type in struct {
	X float64 `json:"x" jsonschema:"minimum=0"`
}

type out struct {
	Y float64 `json:"y"`
}

func model(name string) sdk.MLModel {
	return sdk.NewModel(sdk.Info{QualifiedName: name, DisplayName: name, Version: "1.0.0"},
		func(_ context.Context, i in) (out, error) { return out{Y: i.X}, nil })
}

func entry(t *testing.T, name string) *Entry {
	t.Helper()
	e, err := NewEntry(model(name), "test:"+name, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestAddGetList(t *testing.T) {
	r := New()
	for _, name := range []string{"zebra", "alpha", "mid"} {
		if err := r.Add(entry(t, name)); err != nil {
			t.Fatalf("Add(%s): %v", name, err)
		}
	}
	var got []string
	for _, e := range r.List() {
		got = append(got, e.Info.QualifiedName)
	}
	if want := "[alpha mid zebra]"; fmt.Sprint(got) != want {
		t.Errorf("List() = %v, want %s", got, want)
	}
	if e, err := r.Get("mid"); err != nil || e.Info.QualifiedName != "mid" {
		t.Errorf("Get(mid) = %v, %v", e, err)
	}
	if _, err := r.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nope) error = %v, want ErrNotFound", err)
	}
	if got := r.Len(); got != 3 {
		t.Errorf("Len() = %d, want 3", got)
	}
}

func TestAddDuplicate(t *testing.T) {
	r := New()
	if err := r.Add(entry(t, "iris_model")); err != nil {
		t.Fatal(err)
	}
	err := r.Add(entry(t, "iris_model"))
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second Add error = %v, want ErrDuplicate", err)
	}
	if got := err.Error(); got != `duplicate qualified name: "iris_model" is already served by test:iris_model` {
		t.Errorf("error = %q, want it to name the holder", got)
	}
}

func TestNewEntryRejects(t *testing.T) {
	bad := sdk.NewModel(sdk.Info{QualifiedName: "Bad Name", DisplayName: "x", Version: "1"},
		func(context.Context, in) (out, error) { return out{}, nil })
	if _, err := NewEntry(bad, "x", time.Second); err == nil {
		t.Error("NewEntry accepted invalid metadata")
	}
	if _, err := NewEntry(rawModel{schema: `{"type": 12}`}, "x", time.Second); err == nil {
		t.Error("NewEntry accepted an input schema that does not compile")
	}
}

func TestValidatorCompiledOnce(t *testing.T) {
	e := entry(t, "m")
	if err := e.Validator.Validate(map[string]any{"x": -1.0}); err == nil {
		t.Error("validator accepted x = -1 against minimum 0")
	}
}

// TestConcurrentReadsAndWrites runs under -race.
func TestConcurrentReadsAndWrites(t *testing.T) {
	r := New()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_ = r.Add(entry(t, fmt.Sprintf("m%d", i)))
		})
		wg.Go(func() {
			for _, e := range r.List() {
				_, _ = r.Get(e.Info.QualifiedName)
			}
		})
	}
	wg.Wait()
	if r.Len() != 20 {
		t.Errorf("Len() = %d, want 20", r.Len())
	}
}

type rawModel struct{ schema string }

func (m rawModel) Info() sdk.Info {
	return sdk.Info{QualifiedName: "raw", DisplayName: "Raw", Version: "1.0.0"}
}
func (m rawModel) InputSchema() json.RawMessage  { return json.RawMessage(m.schema) }
func (m rawModel) OutputSchema() json.RawMessage { return json.RawMessage(`{}`) }
func (m rawModel) Predict(context.Context, json.RawMessage) (json.RawMessage, error) {
	return nil, nil
}
