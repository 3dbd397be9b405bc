package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/hosttest"
	"github.com/modelhost/modelhost/host/internal/registry"
)

var builder *hosttest.Builder

func TestMain(m *testing.M) { hosttest.Main(m, &builder) }

const testmodel = "./host/integration/testdata/testmodel"

// binary builds testmodel at version (or exitatstart if version is "")
// and returns its path.
func binary(t *testing.T, version string) string {
	t.Helper()
	if version == "" {
		return builder.Build(t, "./host/integration/testdata/exitatstart")
	}
	return builder.BuildWith(t, testmodel, map[string]string{"main.version": version})
}

// install puts a copy of src at dir/name the way an operator should:
// a dot-file renamed into place.
func install(t *testing.T, src, dir, name string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	hosttest.Copy(t, src, tmp, 0o755)
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

type fixture struct {
	dir   string
	cfg   *config.Config
	reg   *registry.Registry
	fleet *Fleet
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, Options{})
}

// newFixtureWith is newFixture with opts for the fleet; their Logger is
// set here.
func newFixtureWith(t *testing.T, opts Options) *fixture {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Plugins.Directory = dir
	cfg.Plugins.DrainTimeout = 5 * time.Second
	reg := registry.New()
	logger := hclog.New(&hclog.LoggerOptions{Output: hclog.DefaultOutput, Level: hclog.Warn})
	if testing.Verbose() {
		logger.SetLevel(hclog.Debug)
	}
	opts.Logger = logger
	f := New(reg, opts)
	t.Cleanup(func() { f.Close(time.Second) })
	return &fixture{dir: dir, cfg: cfg, reg: reg, fleet: f}
}

func (fx *fixture) apply(t *testing.T, retry bool) Report {
	t.Helper()
	rep, err := fx.fleet.Apply(context.Background(), fx.cfg, retry)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// answer asks the default testmodel for its version, holding a lease as
// the API does.
func (fx *fixture) answer(t *testing.T) string {
	t.Helper()
	e, err := fx.reg.Acquire("testmodel", "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Release()
	out, err := e.Model.Predict(context.Background(), json.RawMessage(`{"action":"version"}`))
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ Message string }
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatal(err)
	}
	return o.Message
}

func counts(r Report) string {
	return fmt.Sprintf("started=%d replaced=%d stopped=%d unchanged=%d failed=%d",
		len(r.Started), len(r.Replaced), len(r.Stopped), r.Unchanged, len(r.Failed))
}

func TestApplyStartsReplacesAndStops(t *testing.T) {
	fx := newFixture(t)
	install(t, binary(t, "1.0.0"), fx.dir, "testmodel")

	if got := counts(fx.apply(t, false)); got != "started=1 replaced=0 stopped=0 unchanged=0 failed=0" {
		t.Fatalf("first Apply: %s", got)
	}
	if v := fx.answer(t); v != "1.0.0" {
		t.Fatalf("answered by %s", v)
	}
	first, _ := fx.reg.Get("testmodel")
	firstPID := first.Health().PID

	// Nothing changed: nothing happens.
	if got := counts(fx.apply(t, true)); got != "started=0 replaced=0 stopped=0 unchanged=1 failed=0" {
		t.Errorf("Apply without changes: %s", got)
	}

	// A new binary at the same path replaces the process.
	install(t, binary(t, "2.0.0"), fx.dir, "testmodel")
	rep := fx.apply(t, false)
	if got := counts(rep); got != "started=0 replaced=1 stopped=0 unchanged=0 failed=0" {
		t.Fatalf("Apply after replacing the binary: %s", got)
	}
	if c := rep.Replaced[0]; c.Version != "2.0.0" || c.PreviousVersion != "1.0.0" {
		t.Errorf("replaced: %+v", c)
	}
	if v := fx.answer(t); v != "2.0.0" {
		t.Errorf("answered by %s after the swap, want 2.0.0", v)
	}
	if !first.Retired() {
		t.Error("the old entry is not retired")
	}
	waitGone(t, firstPID)

	// A removed binary stops its plugin.
	second, _ := fx.reg.Get("testmodel")
	secondPID := second.Health().PID
	if err := os.Remove(filepath.Join(fx.dir, "testmodel")); err != nil {
		t.Fatal(err)
	}
	if got := counts(fx.apply(t, false)); got != "started=0 replaced=0 stopped=1 unchanged=0 failed=0" {
		t.Errorf("Apply after removing the binary: %s", got)
	}
	if _, err := fx.reg.Get("testmodel"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Get after removal: %v", err)
	}
	waitGone(t, secondPID)
}

func TestFailedReplacementKeepsTheOldProcess(t *testing.T) {
	fx := newFixture(t)
	install(t, binary(t, "1.0.0"), fx.dir, "testmodel")
	fx.apply(t, false)

	install(t, binary(t, ""), fx.dir, "testmodel") // exits at start
	rep := fx.apply(t, false)
	if got := counts(rep); got != "started=0 replaced=0 stopped=0 unchanged=0 failed=1" {
		t.Fatalf("Apply with a broken replacement: %s", got)
	}
	if fl := rep.Failed[0]; !fl.KeptRunning || !strings.Contains(fl.Error, "exit") {
		t.Errorf("failure: %+v", fl)
	}
	if v := fx.answer(t); v != "1.0.0" {
		t.Errorf("answered by %s, want the old 1.0.0", v)
	}
	if fl := fx.fleet.Failures(); len(fl) != 1 {
		t.Errorf("Failures() = %v", fl)
	}

	// A reload for another reason does not try the same broken binary
	// again; an operator's reload does.
	if got := counts(fx.apply(t, false)); got != "started=0 replaced=0 stopped=0 unchanged=1 failed=0" {
		t.Errorf("Apply without retry: %s", got)
	}
	if got := counts(fx.apply(t, true)); got != "started=0 replaced=0 stopped=0 unchanged=0 failed=1" {
		t.Errorf("Apply with retry: %s", got)
	}

	// Fixing the binary clears the failure.
	install(t, binary(t, "1.1.0"), fx.dir, "testmodel")
	if got := counts(fx.apply(t, false)); got != "started=0 replaced=1 stopped=0 unchanged=0 failed=0" {
		t.Errorf("Apply after the fix: %s", got)
	}
	if fl := fx.fleet.Failures(); len(fl) != 0 {
		t.Errorf("Failures() after the fix = %v", fl)
	}
}

func TestVersionsSideBySideAndDuplicates(t *testing.T) {
	fx := newFixture(t)
	install(t, binary(t, "1.0.0"), fx.dir, "a")
	install(t, binary(t, "2.0.0"), fx.dir, "b")
	install(t, binary(t, "2.0.0"), fx.dir, "c") // same name and version as b
	rep := fx.apply(t, false)
	if got := counts(rep); got != "started=2 replaced=0 stopped=0 unchanged=0 failed=1" {
		t.Fatalf("Apply: %s", got)
	}
	if fl := rep.Failed[0]; fl.Plugin != "c" || !strings.Contains(fl.Error, "already served by") {
		t.Errorf("failure: %+v", fl)
	}
	if v := fx.answer(t); v != "2.0.0" {
		t.Errorf("default answered by %s, want the highest, 2.0.0", v)
	}
	fx.cfg.Plugins.PinnedVersions = map[string]string{"testmodel": "1.0.0"}
	fx.apply(t, false)
	if v := fx.answer(t); v != "1.0.0" {
		t.Errorf("default answered by %s with a pin, want 1.0.0", v)
	}
	if n := fx.reg.Len(); n != 2 {
		t.Errorf("registry serves %d versions, want 2", n)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !hosttest.ProcessGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGoneAfterCutRequestsEnd: when the drain timeout cuts a request, the
// plugin is stopped at once, but the version is declared gone (its metrics
// forgotten) only once that request has ended, so that it is not counted
// after its version's series were deleted.
func TestGoneAfterCutRequestsEnd(t *testing.T) {
	gone := make(chan string, 4)
	fx := newFixtureWith(t, Options{Gone: func(model, version string) { gone <- model + "@" + version }})
	fx.cfg.Plugins.DrainTimeout = 50 * time.Millisecond
	install(t, binary(t, "1.0.0"), fx.dir, "testmodel")
	fx.apply(t, false)
	held, err := fx.reg.Acquire("testmodel", "")
	if err != nil {
		t.Fatal(err)
	}
	pid := held.Health().PID

	install(t, binary(t, "2.0.0"), fx.dir, "testmodel")
	fx.apply(t, false)
	waitGone(t, pid)
	select {
	case v := <-gone:
		t.Fatalf("%s declared gone while a request still holds it", v)
	case <-time.After(200 * time.Millisecond):
	}
	held.Release()
	select {
	case v := <-gone:
		if v != "testmodel@1.0.0" {
			t.Errorf("gone: %s, want testmodel@1.0.0", v)
		}
	case <-time.After(lingerTimeout):
		t.Fatal("the version was not declared gone after its last request ended")
	}
}
