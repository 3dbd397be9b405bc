package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/bench/internal/loadgen"
	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/procstat"
)

// The benchmark itself runs only through make bench; these check its
// pieces that need no processes.

func TestHostConfigParses(t *testing.T) {
	src := hostConfig([]modelBlock{
		{Name: "iris", Command: "/opt/bench/iris", Env: map[string]string{"BENCH_NAME": "iris_model"}},
		{Name: "echo ${x}", Command: "/opt/bench/bench plugin", Env: map[string]string{"BENCH_MODEL": "echo", "B": `quote " and %{y}`}},
	})
	cfg, err := config.Parse([]byte(src), "config.hcl", "/tmp")
	if err != nil {
		t.Fatalf("generated configuration does not parse: %v\n%s", err, src)
	}
	// The host's default log settings, as config.hcl keeps them.
	if cfg.Plugins.Directory != "" || cfg.Log.Format != config.DefaultLogFormat || !cfg.Log.Access || len(cfg.Models) != 2 {
		t.Fatalf("got directory %q, log format %q, access log %v, %d models; want \"\", %s, true, 2\n%s",
			cfg.Plugins.Directory, cfg.Log.Format, cfg.Log.Access, len(cfg.Models), config.DefaultLogFormat, src)
	}
	m := cfg.Models[1]
	if m.Name != "echo ${x}" || m.Command != "/opt/bench/bench plugin" || m.Env["B"] != `quote " and %{y}` {
		t.Errorf("model block read back as %q %q %v", m.Name, m.Command, m.Env)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-quick", "-rounds", "2", "-concurrency", "1, 4"})
	if err != nil {
		t.Fatal(err)
	}
	if o.rounds != 2 || o.duration != time.Second || !slices.Equal(o.concurrency, []int{1, 4}) || o.coldRuns != 1 {
		t.Errorf("-quick -rounds 2: got rounds %d, duration %v, concurrency %v, cold runs %d", o.rounds, o.duration, o.concurrency, o.coldRuns)
	}
	o, err = parseFlags(nil)
	if err != nil || o.rounds != 5 || o.duration != 3*time.Second || !slices.Equal(o.cold, []int{1, 10, 50}) {
		t.Errorf("defaults: got %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-concurrency", "0"}, {"-concurrency", ""}, {"-rounds", "0"}, {"-models", "1"}, {"extra"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q): got no error", bad)
		}
	}
}

func TestEvaluate(t *testing.T) {
	mk := func(server string, c int, rps float64, p50 time.Duration) *series {
		s := &series{Server: server, Concurrency: c}
		s.add(&loadgen.Result{Concurrency: c, Throughput: rps, Latency: loadgen.Summary{P50: p50}})
		s.summarize()
		return s
	}
	r := newReport(options{rounds: 1, concurrency: []int{1, 64}, cold: []int{50}})
	r.Load = []*series{
		mk(nameBaseline, 1, 5000, 200*time.Microsecond), mk(nameHostIris, 1, 2000, 290*time.Microsecond), mk(nameHop, 1, 6000, 100*time.Microsecond),
		mk(nameBaseline, 64, 10000, time.Millisecond), mk(nameHostIris, 64, 4000, 2*time.Millisecond),
	}
	r.Memory = []procMemory{
		{Server: "host", Role: "host", Memory: procstat.Memory{RSS: 30 * mib}},
		{Server: "host", Role: "plugin", Name: "iris_model", Memory: procstat.Memory{RSS: 25 * mib}},
	}
	r.addCold(coldSample{Plugins: 50, Ready: 1500 * time.Millisecond})
	r.evaluate()
	var got []string
	for _, tg := range r.Targets {
		got = append(got, tg.Result)
	}
	// 0.4× throughput, 290µs p50, 290 ≤ 1.3×300, 30 MiB host, 25 MiB plugin, 1.5s, no batch run.
	if want := []string{"FAIL", "PASS", "PASS", "PASS", "FAIL", "PASS", "SKIP"}; !slices.Equal(got, want) {
		t.Errorf("targets: got %v, want %v\n%+v", got, want, r.Targets)
	}
	if !r.failed() {
		t.Error("failed() = false with a failed target")
	}
	md := r.markdown()
	for _, s := range []string{"| host/iris | 64 | 4000 | 2.00ms |", "| 64 | 0.40× | 2.00× |", "| 50 | 1.50s |", "**FAIL**"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}

	r = newReport(options{rounds: 1, concurrency: []int{8}})
	r.evaluate()
	for _, tg := range r.Targets {
		if tg.Result != "SKIP" {
			t.Errorf("target %q with nothing measured: got %s, want SKIP", tg.Name, tg.Result)
		}
	}
}

func TestBatchTarget(t *testing.T) {
	mk := func(server string, rows, c int, rps float64, errs int) *series {
		s := &series{Server: server, Concurrency: c, Rows: rows}
		s.add(&loadgen.Result{Concurrency: c, Throughput: rps, Errors: errs, Latency: loadgen.Summary{P50: time.Millisecond}})
		s.summarize()
		return s
	}
	for _, tc := range []struct {
		rps1000 float64
		errs    int
		want    string
	}{{50, 0, "PASS"}, {30, 0, "FAIL"}, {50, 2, "FAIL"}} {
		r := newReport(options{rounds: 1, concurrency: []int{1}, batchConc: []int{1}})
		r.Batch = []*series{mk(nameSingle, 1, 1, 2000, 0), mk(batchName(100), 100, 1, 300, 0), mk(batchName(1000), 1000, 1, tc.rps1000, tc.errs)}
		r.evaluate()
		got := r.Targets[len(r.Targets)-1]
		if got.Result != tc.want {
			t.Errorf("1000-row batch at %v req/s, %d errors, single 2000 req/s: got %s (%s), want %s", tc.rps1000, tc.errs, got.Result, got.Measured, tc.want)
		}
		if tc.errs == 0 {
			md := r.markdown()
			want := fmt.Sprintf("| batch/1000 | 1000 | 1 | %.0f | %.0f | 1.00ms | %.1f× | 0 |", tc.rps1000, tc.rps1000*1000, tc.rps1000*1000/2000)
			if !strings.Contains(md, want) || !strings.Contains(md, "| batch/100 | 100 | 1 | 300 | 30000 | 1.00ms | 15.0× | 0 |") {
				t.Errorf("markdown lacks %q:\n%s", want, md)
			}
		}
	}
}

func TestCheckBatch(t *testing.T) {
	for body, want := range map[string]bool{
		`{"outputs":[{"a":1},{"a":2}],"errors":[]}`:         true,
		`{"outputs":[{"a":1}],"errors":[]}`:                 false,
		`{"outputs":[{"a":1},null],"errors":[{"index":1}]}`: false,
		`{"outputs":[{"a":1},null],"errors":[]}`:            false,
		`not json`:                                          false,
	} {
		if err := checkBatch([]byte(body), 2); (err == nil) != want {
			t.Errorf("checkBatch(%s, 2) = %v, want ok %v", body, err, want)
		}
	}
	body, want, err := batchRequest(context.Background(), 5)
	if err != nil || len(want) != 5 || !strings.HasPrefix(string(body), `{"inputs":[{`) {
		t.Fatalf("batchRequest(5) = %s, %d outputs, %v", body, len(want), err)
	}
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 153 * time.Microsecond: "153µs", 2345 * time.Microsecond: "2.35ms",
		23456 * time.Microsecond: "23.5ms", 2500 * time.Millisecond: "2.50s",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestThroughputCeiling(t *testing.T) {
	mk := func(rps float64) *series {
		s := &series{}
		s.Median.Throughput = rps
		return s
	}
	// A host that added nothing would spend per request the CPU of both:
	// 1/(1/15608 + 1/17302) = 8206 req/s, 0.53 of the baseline's.
	if got := throughputCeiling(mk(15608), mk(17302)); got != "0.53×" {
		t.Errorf("throughputCeiling = %q, want 0.53×", got)
	}
	if got := throughputCeiling(mk(1000), mk(1000)); got != "0.50×" {
		t.Errorf("equal rates: %q, want 0.50×", got)
	}
	for _, tc := range [][2]*series{{nil, mk(1)}, {mk(1), nil}, {mk(0), mk(1)}} {
		if got := throughputCeiling(tc[0], tc[1]); got != "–" {
			t.Errorf("unmeasured: %q, want –", got)
		}
	}
}
