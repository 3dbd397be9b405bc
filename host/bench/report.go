package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modelhost/modelhost/host/bench/internal/loadgen"
)

// report is everything one run measured. It is written as results.json
// and rendered as results.md.
type report struct {
	Started  time.Time   `json:"started"`
	Machine  machineInfo `json:"machine"`
	Settings settings    `json:"settings"`

	// Load is the main phase: the baseline, the host with iris and echo,
	// and the bare round trip, per concurrency.
	Load []*series `json:"load"`
	// Memory is every process of the main phase, after its load.
	Memory []procMemory `json:"memory"`
	// Cold is every cold start; ColdSummary their medians per plugin count.
	Cold        []coldSample  `json:"cold_starts"`
	ColdSummary []coldSummary `json:"cold_start_summary"`
	// Models compares a host with one model and one with many.
	Models       []*series   `json:"models,omitempty"`
	ModelsMemory []memTotals `json:"models_memory,omitempty"`
	// Batch compares the batch endpoint with single predicts to the same
	// host; BatchSummary is its table (rows/s, ratio to single).
	Batch        []*series      `json:"batch,omitempty"`
	BatchSummary []batchSummary `json:"batch_summary,omitempty"`
	// Profiles are the CPU and allocation profiles of the -cpuprofile phase.
	Profiles []profile `json:"profiles,omitempty"`
	// Targets are the goals, each passed or failed.
	Targets []target `json:"targets"`

	pluginRSS []procMemory // the models phase's processes, for the plugin target
}

type machineInfo struct {
	CPU      string `json:"cpu"`
	CPUs     int    `json:"cpus"`
	MemTotal int64  `json:"mem_total_bytes"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Hostname string `json:"hostname"`
	// Source is the commit the binaries were built from.
	Source string `json:"source"`
	// LoadStart and LoadEnd are the load averages (1, 5, 15 minutes)
	// when the run started and ended: other work on the machine.
	LoadStart string `json:"load_average_start"`
	LoadEnd   string `json:"load_average_end"`
}

type settings struct {
	Rounds      int           `json:"rounds"`
	Duration    time.Duration `json:"round_duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Concurrency []int         `json:"concurrency"`
	ColdStart   []int         `json:"coldstart_plugins"`
	ColdRuns    int           `json:"coldstart_runs"`
	Models      int           `json:"models"`
	BatchConc   []int         `json:"batch_concurrency"`
	Quick       bool          `json:"quick"`
}

func newReport(o options) *report {
	return &report{
		Started: time.Now().UTC().Round(time.Second),
		Settings: settings{
			Rounds: o.rounds, Duration: o.duration, Warmup: o.warmup, Concurrency: o.concurrency,
			ColdStart: o.cold, ColdRuns: o.coldRuns, Models: o.models, BatchConc: o.batchConc, Quick: o.quick,
		},
	}
}

// series is one target at one concurrency over all rounds.
type series struct {
	Server      string `json:"server"`
	Description string `json:"description"`
	Concurrency int    `json:"concurrency"`
	// Rows is the rows per request of a batch-phase series (1 for single
	// predicts); 0 elsewhere.
	Rows   int               `json:"rows_per_request,omitempty"`
	Rounds []*loadgen.Result `json:"rounds"`
	// CPUPerRequest is, per round, the CPU time the server's processes
	// (the host and all its plugins, or the baseline) used divided by the
	// requests answered: a measure of cost that other work on the machine
	// disturbs far less than throughput.
	CPUPerRequest []time.Duration `json:"cpu_per_request_ns,omitempty"`
	// Median holds the medians across rounds of each round's throughput
	// and percentiles.
	Median stats `json:"median"`
	// Errors and ErrorKinds total all rounds.
	Errors     int            `json:"errors"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	Requests   int            `json:"requests"`
}

type stats struct {
	Throughput float64       `json:"throughput"`
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
	P999       time.Duration `json:"p999_ns"`
	// CPUPerRequest is 0 when not measured.
	CPUPerRequest time.Duration `json:"cpu_per_request_ns"`
}

func (s *series) add(r *loadgen.Result) { s.Rounds = append(s.Rounds, r) }

func (s *series) summarize() {
	var rps []float64
	var p50, p99, p999 []time.Duration
	s.Errors, s.Requests, s.ErrorKinds = 0, 0, nil
	for _, r := range s.Rounds {
		rps = append(rps, r.Throughput)
		p50 = append(p50, r.Latency.P50)
		p99 = append(p99, r.Latency.P99)
		p999 = append(p999, r.Latency.P999)
		s.Errors += r.Errors
		s.Requests += r.OK + r.Errors
		s.ErrorKinds = loadgen.Merge(s.ErrorKinds, r.ErrorKinds)
	}
	s.Median = stats{
		Throughput: loadgen.Median(rps),
		P50:        loadgen.MedianDuration(p50),
		P99:        loadgen.MedianDuration(p99),
		P999:       loadgen.MedianDuration(p999),
	}
	if len(s.CPUPerRequest) > 0 {
		s.Median.CPUPerRequest = loadgen.MedianDuration(s.CPUPerRequest)
	}
}

// coldSample is one cold start.
type coldSample struct {
	Plugins int `json:"plugins"`
	// Ready is from starting the host process to reading its ready line.
	Ready time.Duration `json:"ready_ns"`
	// HostStartup is the start-up time the host logs itself.
	HostStartup time.Duration `json:"host_startup_ns"`
	// CPU is the CPU time the host and its plugins had used when the host
	// was ready: the work of starting, which other load on the machine
	// does not inflate as it inflates Ready.
	CPU    time.Duration `json:"cpu_ns"`
	Models int           `json:"models"`
}

type coldSummary struct {
	Plugins     int           `json:"plugins"`
	Runs        int           `json:"runs"`
	Median      time.Duration `json:"median_ready_ns"`
	Min         time.Duration `json:"min_ready_ns"`
	Max         time.Duration `json:"max_ready_ns"`
	HostStartup time.Duration `json:"median_host_startup_ns"`
	CPU         time.Duration `json:"median_cpu_ns"`
}

func (r *report) addCold(s coldSample) { r.Cold = append(r.Cold, s) }

// memTotals sums the memory of a host and its plugins.
type memTotals struct {
	Server     string `json:"server"`
	HostRSS    int64  `json:"host_rss_bytes"`
	Plugins    int    `json:"plugins"`
	PluginsRSS int64  `json:"plugins_rss_bytes"`
	// PluginsAnon and PluginsPSS total the plugins' own memory and their
	// proportional share of shared pages (the executable's): what they
	// really cost together.
	PluginsAnon int64 `json:"plugins_rss_anon_bytes"`
	PluginsPSS  int64 `json:"plugins_pss_bytes"`
	MaxPlugin   int64 `json:"max_plugin_rss_bytes"`
}

func summarizeMemory(server string, procs []procMemory) memTotals {
	t := memTotals{Server: server}
	for _, p := range procs {
		if p.Role == "plugin" {
			t.Plugins++
			t.PluginsRSS += p.RSS
			t.PluginsAnon += p.Anon
			t.PluginsPSS += p.PSS
			t.MaxPlugin = max(t.MaxPlugin, p.RSS)
		} else {
			t.HostRSS = p.RSS
		}
	}
	return t
}

type profile struct {
	Process string `json:"process"`
	// Kind is profileCPU or profileAllocs.
	Kind        string        `json:"kind"`
	Concurrency int           `json:"concurrency"`
	Duration    time.Duration `json:"duration_ns"`
	Path        string        `json:"path"`
	Top         string        `json:"top"`
}

// target is one goal of the issue.
type target struct {
	Name     string `json:"name"`
	Want     string `json:"want"`
	Measured string `json:"measured"`
	// Result is PASS, FAIL or SKIP (not measured in this run).
	Result string `json:"result"`
}

func (r *report) find(list []*series, server string, c int) *series {
	for _, s := range list {
		if s.Server == server && s.Concurrency == c {
			return s
		}
	}
	return nil
}

const mib = 1 << 20

// evaluate summarises the cold starts and judges the targets.
func (r *report) evaluate() {
	byN := map[int][]coldSample{}
	for _, c := range r.Cold {
		byN[c.Plugins] = append(byN[c.Plugins], c)
	}
	r.ColdSummary = nil
	for _, n := range slices.Sorted(maps.Keys(byN)) {
		var ready, own, cpu []time.Duration
		for _, c := range byN[n] {
			ready = append(ready, c.Ready)
			own = append(own, c.HostStartup)
			cpu = append(cpu, c.CPU)
		}
		r.ColdSummary = append(r.ColdSummary, coldSummary{
			Plugins: n, Runs: len(ready), Median: loadgen.MedianDuration(ready),
			Min: slices.Min(ready), Max: slices.Max(ready), HostStartup: loadgen.MedianDuration(own),
			CPU: loadgen.MedianDuration(cpu),
		})
	}

	r.Targets = nil
	add := func(name, want, measured string, pass, measuredOK bool) {
		res := "SKIP"
		if measuredOK {
			res = "FAIL"
			if pass {
				res = "PASS"
			}
		} else {
			measured = "not measured in this run"
		}
		r.Targets = append(r.Targets, target{Name: name, Want: want, Measured: measured, Result: res})
	}

	base64, iris64 := r.find(r.Load, nameBaseline, 64), r.find(r.Load, nameHostIris, 64)
	if base64 != nil && iris64 != nil && base64.Median.Throughput > 0 {
		ratio := iris64.Median.Throughput / base64.Median.Throughput
		add("throughput at concurrency 64, host/baseline", "≥ 0.50×",
			fmt.Sprintf("%.2f× (%.0f vs %.0f req/s)", ratio, iris64.Median.Throughput, base64.Median.Throughput), ratio >= 0.5, true)
	} else {
		add("throughput at concurrency 64, host/baseline", "≥ 0.50×", "", false, false)
	}

	base1, iris1, hop1 := r.find(r.Load, nameBaseline, 1), r.find(r.Load, nameHostIris, 1), r.find(r.Load, nameHop, 1)
	if iris1 != nil {
		measured := fmtDur(iris1.Median.P50)
		// A request crosses TCP loopback once each way and the Unix
		// socket once each way: the floors say what that alone costs here.
		if tcp, unix := r.find(r.Load, nameTCP, 1), r.find(r.Load, nameUnix, 1); tcp != nil && unix != nil {
			measured += fmt.Sprintf(" (machine floors, no code of ours: TCP loopback round trip %s, Unix socket round trip %s)",
				fmtDur(tcp.Median.P50), fmtDur(unix.Median.P50))
		}
		add("p50 at concurrency 1 through the plugin", "≤ 300µs", measured, iris1.Median.P50 <= 300*time.Microsecond, true)
	} else {
		add("p50 at concurrency 1 through the plugin", "≤ 300µs", "", false, false)
	}
	if iris1 != nil && base1 != nil && hop1 != nil {
		bound := time.Duration(1.3 * float64(base1.Median.P50+hop1.Median.P50))
		add("p50 at concurrency 1 through the plugin vs 1.3 × (baseline p50 + bare round trip p50)",
			"≤ "+fmtDur(bound),
			fmt.Sprintf("%s (baseline %s + round trip %s = %s)", fmtDur(iris1.Median.P50), fmtDur(base1.Median.P50), fmtDur(hop1.Median.P50), fmtDur(base1.Median.P50+hop1.Median.P50)),
			iris1.Median.P50 <= bound, true)
	} else {
		add("p50 at concurrency 1 through the plugin vs 1.3 × (baseline p50 + bare round trip p50)", "≤ 1.3 × sum", "", false, false)
	}

	var hostRSS int64 = -1
	var plugins []procMemory
	for _, m := range r.Memory {
		switch {
		case m.Role == "host" && m.Server == "host":
			hostRSS = m.RSS
		case m.Role == "plugin" && m.Server != "hop":
			plugins = append(plugins, m)
		}
	}
	for _, m := range r.pluginRSS {
		if m.Role == "plugin" {
			plugins = append(plugins, m)
		}
	}
	add("host RSS after the load (iris and echo plugins)", "< 40 MiB", fmtBytes(hostRSS), hostRSS >= 0 && hostRSS < 40*mib, hostRSS >= 0)
	if len(plugins) > 0 {
		worst := slices.MaxFunc(plugins, func(a, b procMemory) int { return cmp.Compare(a.RSS, b.RSS) })
		add("RSS of each Go plugin served by a host", "< 20 MiB",
			fmt.Sprintf("largest %s (%s of %s), %d plugins measured", fmtBytes(worst.RSS), worst.Name, worst.Server, len(plugins)),
			worst.RSS < 20*mib, true)
	} else {
		add("RSS of each Go plugin served by a host", "< 20 MiB", "", false, false)
	}
	var cold50 *coldSummary
	for i := range r.ColdSummary {
		if r.ColdSummary[i].Plugins == 50 {
			cold50 = &r.ColdSummary[i]
		}
	}
	if cold50 != nil {
		add("50 plugins ready", "< 2s", fmt.Sprintf("%s (median of %d; host's own count %s)", fmtDur(cold50.Median), cold50.Runs, fmtDur(cold50.HostStartup)),
			cold50.Median < 2*time.Second, true)
	} else {
		add("50 plugins ready", "< 2s", "", false, false)
	}

	r.summarizeBatch()
	batchTarget := fmt.Sprintf("rows/s of a %d-row batch vs single predicts, concurrency 1", batchTargetRows)
	batchWant := fmt.Sprintf("≥ %.0f×", batchTargetRatio)
	var big *batchSummary
	for i := range r.BatchSummary {
		if x := &r.BatchSummary[i]; x.Server == batchName(batchTargetRows) && x.Concurrency == 1 && x.RatioToSingle > 0 {
			big = x
		}
	}
	if big != nil {
		single := r.find(r.Batch, nameSingle, 1)
		add(batchTarget, batchWant, fmt.Sprintf("%.1f× (%.0f vs %.0f rows/s; errors %d)", big.RatioToSingle, big.RowsPS, single.Median.Throughput, big.Errors+single.Errors),
			big.RatioToSingle >= batchTargetRatio && big.Errors == 0 && single.Errors == 0, true)
	} else {
		add(batchTarget, batchWant, "", false, false)
	}
}

func (r *report) failed() bool {
	return slices.ContainsFunc(r.Targets, func(t target) bool { return t.Result == "FAIL" })
}

func (r *report) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644)
}

// markdown renders the report as Markdown tables.
func (r *report) markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "## Benchmark results\n\n")
	fmt.Fprintf(&b, "%s, %d CPUs, %s RAM, %s, %s; source %s; started %s; load average %s at the start, %s at the end.\n",
		m.CPU, m.CPUs, fmtBytes(m.MemTotal), m.Go, m.OS, m.Source, r.Started.Format(time.RFC3339), m.LoadStart, m.LoadEnd)
	s := r.Settings
	fmt.Fprintf(&b, "Closed loop, one keep-alive HTTP/1.1 connection per worker; %d round(s) of %v per server and concurrency (after %v of unrecorded warm-up), servers alternating; each figure is the median across rounds.\n\n",
		s.Rounds, s.Duration, s.Warmup)

	if len(r.Load) > 0 {
		b.WriteString("### Throughput and latency\n\n")
		loadTable(&b, "server", r.Load)
		b.WriteString("\n")
		seen := map[string]bool{}
		for _, x := range r.Load {
			if !seen[x.Server] {
				seen[x.Server] = true
				fmt.Fprintf(&b, "- **%s**: %s\n", x.Server, x.Description)
			}
		}
		b.WriteString("\n### Host / baseline\n\n")
		b.WriteString("| concurrency | host/iris throughput | host/iris p50 | host/iris CPU/req | host/echo throughput | host/echo p50 | host/echo CPU/req | throughput ceiling |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range s.Concurrency {
			base := r.find(r.Load, nameBaseline, c)
			iris, echo := r.find(r.Load, nameHostIris, c), r.find(r.Load, nameHostEcho, c)
			if base == nil {
				continue
			}
			row := func(x *series) string {
				if x == nil {
					return "– | – | –"
				}
				return ratio(x.Median.Throughput, base.Median.Throughput) + " | " + ratio(float64(x.Median.P50), float64(base.Median.P50)) +
					" | " + ratio(float64(x.Median.CPUPerRequest), float64(base.Median.CPUPerRequest))
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", c, row(iris), row(echo), throughputCeiling(base, r.find(r.Load, nameHop, c)))
		}
		b.WriteString("\n*Throughput ceiling*: what a host with no cost of its own would reach, relative to the baseline, when the machine's CPUs are the bottleneck: " +
			"it would do the baseline's work and the bare round trip's (client and plugin) per request, so its throughput would be 1 / (1/baseline + 1/hop), " +
			"that is hop / (baseline + hop) of the baseline's, from the two servers' throughputs at the same concurrency in this run.\n\n")
	}

	if len(r.Memory) > 0 {
		b.WriteString("### Memory (after the load)\n\n| process | role | VmRSS | VmHWM (peak) | RssAnon (own) | RssFile (mapped files) | PSS |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, p := range r.Memory {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", p.Name, p.Role, fmtBytes(p.RSS), fmtBytes(p.HWM), fmtBytes(p.Anon), fmtBytes(p.File), fmtBytes(p.PSS))
		}
		b.WriteString("\n")
	}

	if len(r.ColdSummary) > 0 {
		b.WriteString("### Cold start: `modelhost serve` to `host ready`\n\n| plugins | median | min | max | runs | host's own count (median) | CPU used by host and plugins (median) |\n|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range r.ColdSummary {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %d | %s | %s |\n", c.Plugins, fmtDur(c.Median), fmtDur(c.Min), fmtDur(c.Max), c.Runs, fmtDur(c.HostStartup), fmtDur(c.CPU))
		}
		b.WriteString("\n")
	}

	if len(r.Models) > 0 {
		fmt.Fprintf(&b, "### Models loaded: 1 vs %d\n\n", r.Settings.Models)
		loadTable(&b, "host", r.Models)
		b.WriteString("\n| host | host VmRSS | plugins | plugins' VmRSS, total | plugins' RssAnon, total | plugins' PSS, total | largest plugin VmRSS |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, t := range r.ModelsMemory {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s |\n", t.Server, fmtBytes(t.HostRSS), t.Plugins, fmtBytes(t.PluginsRSS),
				fmtBytes(t.PluginsAnon), fmtBytes(t.PluginsPSS), fmtBytes(t.MaxPlugin))
		}
		b.WriteString("\n")
	}

	if len(r.BatchSummary) > 0 {
		b.WriteString("### Batch endpoint: rows/s vs single predicts\n\n")
		b.WriteString("Rows are the three iris examples in turn; ratio to single is the batch's rows/s over the req/s (= rows/s) of single predicts to the same host at the same concurrency.\n\n")
		b.WriteString("| request | rows/request | concurrency | requests/s | rows/s | p50 per request | ratio to single | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range r.BatchSummary {
			errs := "0"
			if s := r.find(r.Batch, x.Server, x.Concurrency); s != nil {
				errs = fmtErrors(s)
			}
			ratio := "–"
			if x.RatioToSingle > 0 {
				ratio = fmt.Sprintf("%.1f×", x.RatioToSingle)
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %.0f | %s | %s | %s |\n", x.Server, x.Rows, x.Concurrency, x.RequestsPS, x.RowsPS, fmtDur(x.P50), ratio, errs)
		}
		b.WriteString("\n")
	}

	if len(r.Targets) > 0 {
		b.WriteString("### Targets\n\n| target | want | measured | result |\n|---|---|---|---|\n")
		for _, t := range r.Targets {
			fmt.Fprintf(&b, "| %s | %s | %s | **%s** |\n", t.Name, t.Want, t.Measured, t.Result)
		}
		b.WriteString("\n")
	}

	for _, p := range r.Profiles {
		what, by := "CPU profile", "by cumulative time"
		if p.Kind == profileAllocs {
			what, by = "Allocations", "objects allocated over the whole run, by cumulative count"
		}
		fmt.Fprintf(&b, "### %s: %s, %d workers, %v (`%s`, %s)\n\n```\n%s```\n\n", what, p.Process, p.Concurrency, p.Duration, filepath.Base(p.Path), by, firstLines(p.Top, 36))
	}
	return b.String()
}

// loadTable writes one row per series.
func loadTable(b *strings.Builder, first string, list []*series) {
	fmt.Fprintf(b, "| %s | concurrency | req/s | p50 | p99 | p99.9 | server CPU/req | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", first)
	for _, x := range list {
		cpu := "–"
		if x.Median.CPUPerRequest > 0 {
			cpu = fmtDur(x.Median.CPUPerRequest)
		}
		fmt.Fprintf(b, "| %s | %d | %.0f | %s | %s | %s | %s | %s |\n", x.Server, x.Concurrency, x.Median.Throughput,
			fmtDur(x.Median.P50), fmtDur(x.Median.P99), fmtDur(x.Median.P999), cpu, fmtErrors(x))
	}
}

func fmtErrors(s *series) string {
	if s.Errors == 0 {
		return "0"
	}
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(s.ErrorKinds)) {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, s.ErrorKinds[k]))
	}
	return fmt.Sprintf("%d of %d (%s)", s.Errors, s.Requests, strings.Join(kinds, ", "))
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// fmtDur formats a latency with three significant digits in a unit that
// suits it.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func fmtBytes(n int64) string {
	if n < 0 {
		return "?"
	}
	if n >= 10<<30 {
		return fmt.Sprintf("%.0f GiB", float64(n)/(1<<30))
	}
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/mib)
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// throughputCeiling formats, as a ratio to the baseline's throughput, the
// throughput of a host that would add nothing to the baseline's work and
// the bare round trip's: with the CPUs saturated, the CPU time of one
// request would be the sum of theirs, so its rate 1/(1/b + 1/h) = h/(b+h)
// of b. "–" if either was not measured.
func throughputCeiling(base, hop *series) string {
	if base == nil || hop == nil || base.Median.Throughput <= 0 || hop.Median.Throughput <= 0 {
		return "–"
	}
	b, h := base.Median.Throughput, hop.Median.Throughput
	return fmt.Sprintf("%.2f×", h/(b+h))
}
