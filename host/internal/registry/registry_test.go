package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

func model(name, version string) sdk.MLModel {
	return sdk.NewModel(sdk.Info{QualifiedName: name, DisplayName: name, Version: version},
		func(_ context.Context, i in) (out, error) { return out{Y: i.X}, nil })
}

func entry(t *testing.T, name string) *Entry {
	t.Helper()
	return versioned(t, name, "1.0.0")
}

func versioned(t *testing.T, name, version string) *Entry {
	t.Helper()
	e, err := NewEntry(model(name, version), "test:"+name, time.Second)
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
	if got := err.Error(); got != `duplicate model version: iris_model version 1.0.0 is already served by test:iris_model` {
		t.Errorf("error = %q, want it to name the holder", got)
	}
}

func TestNewEntryRejects(t *testing.T) {
	bad := sdk.NewModel(sdk.Info{QualifiedName: "Bad Name", DisplayName: "x", Version: "1"},
		func(context.Context, in) (out, error) { return out{}, nil })
	if _, err := NewEntry(bad, "x", time.Second); err == nil {
		t.Error("NewEntry accepted invalid metadata")
	}
	// Plugins check only that their schemas are JSON objects (sdk/plugin
	// links no schema compiler): a schema that does not compile reaches the
	// host, which must refuse the model and say why.
	for _, tt := range []struct {
		name    string
		model   rawModel
		wantErr string
	}{
		{"input schema does not compile", rawModel{schema: `{"type": 12}`}, "input schema of raw: compile schema"},
		{"output schema does not compile", rawModel{schema: `{}`, out: `{"minimum": "zero"}`}, "output schema of raw: compile schema"},
		{"external reference", rawModel{schema: `{"$ref": "https://example.com/s.json"}`}, "input schema of raw: compile schema"},
		{"input schema not JSON", rawModel{schema: `{"type":`}, "input schema of raw: parse schema"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEntry(tt.model, "x", time.Second)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewEntry() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
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

// rawModel's input schema is schema; its output schema is out, or {}.
type rawModel struct{ schema, out string }

func (m rawModel) Info() sdk.Info {
	return sdk.Info{QualifiedName: "raw", DisplayName: "Raw", Version: "1.0.0"}
}
func (m rawModel) InputSchema() json.RawMessage { return json.RawMessage(m.schema) }
func (m rawModel) OutputSchema() json.RawMessage {
	if m.out == "" {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(m.out)
}
func (m rawModel) Predict(context.Context, json.RawMessage) (json.RawMessage, error) {
	return nil, nil
}

func versionsOf(es []*Entry) []string {
	var vs []string
	for _, e := range es {
		vs = append(vs, e.Info.QualifiedName+"@"+e.Info.Version)
	}
	return vs
}

func TestVersionsSideBySide(t *testing.T) {
	r := New()
	for _, v := range []string{"1.2.0", "1.10.0", "2.0.0-rc.1", "1.9.9"} {
		if err := r.Add(versioned(t, "m", v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Add(versioned(t, "a", "0.1.0")); err != nil {
		t.Fatal(err)
	}
	// Semantic-version precedence, not string order: 2.0.0-rc.1 > 1.10.0 > 1.9.9.
	if got, want := fmt.Sprint(versionsOf(r.List())), "[a@0.1.0 m@2.0.0-rc.1 m@1.10.0 m@1.9.9 m@1.2.0]"; got != want {
		t.Errorf("List() = %s, want %s", got, want)
	}
	if e, _ := r.Get("m"); e.Info.Version != "2.0.0-rc.1" {
		t.Errorf("default version = %s, want the highest, 2.0.0-rc.1", e.Info.Version)
	}
	if e, err := r.GetVersion("m", "1.9.9"); err != nil || e.Info.Version != "1.9.9" {
		t.Errorf("GetVersion(m, 1.9.9) = %v, %v", e, err)
	}
	if _, err := r.GetVersion("m", "3.0.0"); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("GetVersion(m, 3.0.0) error = %v, want ErrVersionNotFound", err)
	}
	if _, err := r.GetVersion("nope", "1.0.0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetVersion(nope, 1.0.0) error = %v, want ErrNotFound", err)
	}
	if got := len(r.Versions("m")); got != 4 {
		t.Errorf("Versions(m) has %d entries, want 4", got)
	}
	if r.Len() != 5 || r.Names() != 2 {
		t.Errorf("Len, Names = %d, %d; want 5, 2", r.Len(), r.Names())
	}

	r.SetPins(map[string]string{"m": "1.9.9", "a": "9.9.9"})
	if e, _ := r.Get("m"); e.Info.Version != "1.9.9" || !r.IsDefault(e) {
		t.Errorf("default version with a pin = %s, want the pinned 1.9.9", e.Info.Version)
	}
	if e, _ := r.Get("a"); e.Info.Version != "0.1.0" {
		t.Errorf("default version with a pin on an absent version = %s, want the highest", e.Info.Version)
	}
	r.SetPins(nil)
	if e, _ := r.Get("m"); e.Info.Version != "2.0.0-rc.1" {
		t.Errorf("default version after unpinning = %s", e.Info.Version)
	}
}

func TestUpdateIsAtomic(t *testing.T) {
	r := New()
	old := versioned(t, "m", "1.0.0")
	other := versioned(t, "n", "1.0.0")
	if err := r.Update(nil, []*Entry{old, other}); err != nil {
		t.Fatal(err)
	}
	// Adding a version that another entry holds fails and changes nothing.
	if err := r.Update([]*Entry{other}, []*Entry{versioned(t, "m", "1.0.0")}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("Update = %v, want ErrDuplicate", err)
	}
	if r.Len() != 2 || other.Retired() {
		t.Fatal("a failed Update changed the registry")
	}
	// Removing what is not there fails too.
	if err := r.Update([]*Entry{versioned(t, "x", "1.0.0")}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update removing a stranger = %v, want ErrNotFound", err)
	}
	// A swap of the same name and version is one step.
	next := versioned(t, "m", "1.0.0")
	if err := r.Update([]*Entry{old}, []*Entry{next}); err != nil {
		t.Fatal(err)
	}
	if e, _ := r.Get("m"); e != next {
		t.Error("Get after the swap does not return the new entry")
	}
	if !old.Retired() || next.Retired() {
		t.Errorf("retired: old %v, new %v; want true, false", old.Retired(), next.Retired())
	}
}

func TestLeasesAndDrain(t *testing.T) {
	r := New()
	old := versioned(t, "m", "1.0.0")
	if err := r.Add(old); err != nil {
		t.Fatal(err)
	}
	held, err := r.Acquire("m", "")
	if err != nil || held != old {
		t.Fatalf("Acquire = %v, %v", held, err)
	}
	if _, err := r.Acquire("m", "2.0.0"); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("Acquire of an absent version = %v", err)
	}
	next := versioned(t, "m", "1.0.0")
	if err := r.Update([]*Entry{old}, []*Entry{next}); err != nil {
		t.Fatal(err)
	}
	// New requests reach the new entry; the old one waits for its lease.
	e, err := r.Acquire("m", "1.0.0")
	if err != nil || e != next {
		t.Fatalf("Acquire after the swap = %v, %v; want the new entry", e, err)
	}
	e.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if n := old.Drain(ctx); n != 1 {
		t.Errorf("Drain with a lease held = %d, want 1 left", n)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		held.Release()
	}()
	if n := old.Drain(context.Background()); n != 0 {
		t.Errorf("Drain = %d, want 0", n)
	}
}

// TestAcquireDuringSwaps runs under -race: requests that acquire while
// entries are swapped always get a live entry, and every retired entry
// drains.
func TestAcquireDuringSwaps(t *testing.T) {
	r := New()
	cur := versioned(t, "m", "1.0.0")
	if err := r.Add(cur); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				e, err := r.Acquire("m", "")
				if err != nil {
					t.Error(err)
					return
				}
				e.Release()
			}
		})
	}
	for range 50 {
		next := versioned(t, "m", "1.0.0")
		if err := r.Update([]*Entry{cur}, []*Entry{next}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if n := cur.Drain(ctx); n != 0 {
			t.Errorf("retired entry still has %d leases", n)
		}
		cancel()
		cur = next
	}
	close(stop)
	wg.Wait()
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0},
		{"1.0.0", "1.0.1", -1},
		{"1.10.0", "1.9.0", 1},
		{"1.0.0-alpha", "1.0.0", -1},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"1.0.0+b2", "1.0.0+b1", 1}, // equal precedence: string order keeps it total
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
