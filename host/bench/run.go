package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelhost/modelhost/host/bench/internal/benchmodel"
	"github.com/modelhost/modelhost/host/bench/internal/loadgen"
	"github.com/modelhost/modelhost/host/internal/procstat"
	"github.com/modelhost/modelhost/plugins/iris/irismodel"
)

// predictTimeout is the host's default predict timeout, used as the
// deadline of the bare round trips as the host uses it.
const predictTimeout = 30 * time.Second

// stopTimeout bounds the graceful stop of a server.
const stopTimeout = 60 * time.Second

// bench is one run: its settings, its binaries and its results.
type bench struct {
	opts options
	root string
	out  string // results
	work string // configurations and logs
	self string // this program, for "bench baseline"

	hostBin, irisBin, pluginBin string

	input   []byte // the request body: a setosa flower
	irisOut []byte // the iris model's answer to it

	rep *report
}

func run(ctx context.Context, opts options) (*report, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	out, err := outDir(root, opts.out)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b := &bench{opts: opts, root: root, out: out, work: filepath.Join(out, "run"), self: self}
	if err := os.RemoveAll(b.work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.work, 0o755); err != nil {
		return nil, err
	}
	if b.input, err = json.Marshal(irismodel.Examples()[0]); err != nil {
		return nil, err
	}
	if b.irisOut, err = irismodel.New().Predict(ctx, b.input); err != nil {
		return nil, err
	}
	b.rep = newReport(opts)
	b.rep.Machine = machine(ctx, root)
	logf("machine: %s, %d CPUs, %s; results in %s", b.rep.Machine.CPU, b.rep.Machine.CPUs, b.rep.Machine.Go, out)

	if err := b.build(ctx); err != nil {
		return nil, err
	}
	if len(opts.cold) > 0 {
		if err := b.coldStarts(ctx); err != nil {
			return nil, err
		}
	}
	if err := b.mainPhase(ctx); err != nil {
		return nil, err
	}
	if opts.models > 0 {
		if err := b.modelsPhase(ctx); err != nil {
			return nil, err
		}
	}
	if len(opts.batchConc) > 0 {
		if err := b.batchPhase(ctx); err != nil {
			return nil, err
		}
	}
	if opts.cpuprofile {
		if err := b.profilePhase(ctx); err != nil {
			return nil, err
		}
	}
	b.rep.Machine.LoadEnd = procstat.LoadAvg()
	b.rep.evaluate()
	if err := b.rep.write(out); err != nil {
		return nil, err
	}
	fmt.Print(b.rep.markdown())
	fmt.Println()
	for _, t := range b.rep.Targets {
		fmt.Printf("%s  %s: %s (target %s)\n", t.Result, t.Name, t.Measured, t.Want)
	}
	fmt.Printf("\nwrote %s and %s\n", filepath.Join(out, "results.json"), filepath.Join(out, "results.md"))
	return b.rep, nil
}

func (b *bench) build(ctx context.Context) error {
	bin := filepath.Join(b.root, "bin", "bench")
	b.irisBin = filepath.Join(bin, "plugins", "iris")
	b.pluginBin = filepath.Join(bin, "plugins", "benchplugin")
	b.hostBin = filepath.Join(bin, "modelhost")
	if b.opts.hostBin != "" {
		p, err := filepath.Abs(b.opts.hostBin)
		if err != nil {
			return err
		}
		b.hostBin = p
		logf("measuring the host binary %s (not built)", p)
	} else if err := goBuild(ctx, b.root, "./host/cmd/modelhost", b.hostBin); err != nil {
		return err
	}
	// Plugins are built as `make build` builds the bundled ones: static,
	// without cgo (see pluginBuildEnv).
	if err := goBuild(ctx, b.root, "./plugins/iris", b.irisBin, pluginBuildEnv...); err != nil {
		return err
	}
	return goBuild(ctx, b.root, "./host/bench/benchplugin", b.pluginBin, pluginBuildEnv...)
}

// startHost starts the host binary bin with the configuration cfg in a
// directory of its own under the work directory, on a free loopback port,
// and waits until it is ready. env, if not nil, is added to the host's
// environment.
func (b *bench) startHost(name, bin, cfg string, env []string) (*server, error) {
	dir := filepath.Join(b.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", path, "--address", "127.0.0.1:0")
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	return startServer(name, cmd, "host ready", 5*time.Minute)
}

// stop stops s and keeps its log.
func (b *bench) stop(s *server) error {
	err := s.Stop(stopTimeout)
	_ = os.WriteFile(filepath.Join(b.work, s.name+".log"), []byte(s.logs.String()+"\n"), 0o644)
	return err
}

// irisCopies returns n model blocks serving the iris model through the
// benchmark's plugin as iris_0 ... iris_{n-1}.
func (b *bench) irisCopies(n int) []modelBlock {
	models := make([]modelBlock, n)
	for i := range models {
		name := fmt.Sprintf("iris_%d", i)
		models[i] = modelBlock{Name: name, Command: b.pluginBin, Env: map[string]string{
			benchmodel.EnvModel: "iris", benchmodel.EnvName: name,
		}}
	}
	return models
}

// coldStarts measures the time from starting the host to its ready line
// with each number of plugins in opts.cold.
func (b *bench) coldStarts(ctx context.Context) error {
	logf("cold start: %v plugins, %d run(s) each", b.opts.cold, b.opts.coldRuns)
	// A first start, not recorded, so that the binaries are in the page
	// cache for every recorded one.
	s, err := b.startHost("cold-warmup", b.hostBin, hostConfig(b.irisCopies(1)), nil)
	if err != nil {
		return err
	}
	if err := b.stop(s); err != nil {
		return err
	}
	for run := range b.opts.coldRuns {
		for _, n := range b.opts.cold {
			if err := ctx.Err(); err != nil {
				return err
			}
			s, err := b.startHost(fmt.Sprintf("cold-%d", n), b.hostBin, hostConfig(b.irisCopies(n)), nil)
			if err != nil {
				return err
			}
			sample := coldSample{Plugins: n, Ready: s.ReadyAfter, CPU: cpuTime(processes(s)()), Models: s.Ready.Models, HostStartup: s.Ready.Startup}
			if err := b.stop(s); err != nil {
				return err
			}
			if sample.Models != n {
				return fmt.Errorf("cold start with %d plugins: the host serves %d models; see %s", n, sample.Models, filepath.Join(b.work, s.name+".log"))
			}
			b.rep.addCold(sample)
			logf("cold start run %d: %2d plugins ready after %v (host's own count: %v), CPU used %v",
				run+1, n, sample.Ready.Round(time.Millisecond), sample.HostStartup, sample.CPU)
		}
	}
	return nil
}

// mainPhase measures the baseline, the host with the iris and echo
// plugins, and the bare round trip, alternating between them.
func (b *bench) mainPhase(ctx context.Context) error {
	logf("main: starting the baseline, the host (iris_model, bench_echo) and the hop plugin")
	base, err := startServer("baseline", exec.Command(b.self, "baseline", "-address", "127.0.0.1:0"), baselineReady, time.Minute)
	if err != nil {
		return err
	}
	defer b.stop(base)
	host, err := b.startHost("host", b.hostBin, hostConfig([]modelBlock{
		{Name: "iris", Command: b.irisBin, Env: map[string]string{benchmodel.EnvName: "iris_model"}},
		{Name: "echo", Command: b.pluginBin, Env: map[string]string{benchmodel.EnvModel: "echo", benchmodel.EnvName: benchmodel.DefaultEchoName}},
	}), nil)
	if err != nil {
		return err
	}
	defer b.stop(host)
	hop, err := startHop(ctx, b.pluginBin, []string{benchmodel.EnvModel + "=echo", benchmodel.EnvName + "=hop_echo"})
	if err != nil {
		return err
	}
	defer hop.Stop()

	irisPath := "/api/models/iris_model/predict"
	echoPath := "/api/models/" + benchmodel.DefaultEchoName + "/predict"
	targets := []loadTarget{
		httpTarget(nameBaseline, "iris_model compiled into a minimal Echo handler: same parsing and validation, no plugin hop", base,
			loadgen.HTTPRequest{Addr: base.Addr, Path: irisPath, Body: b.input, Expect: b.irisOut}),
		httpTarget(nameHostIris, "iris_model through the host and its plugin process", host,
			loadgen.HTTPRequest{Addr: host.Addr, Path: irisPath, Body: b.input, Expect: b.irisOut}),
		httpTarget(nameHostEcho, "an echo model (returns its input) through the host and its plugin process", host,
			loadgen.HTTPRequest{Addr: host.Addr, Path: echoPath, Body: b.input, Expect: b.input}),
		{name: nameHop, desc: "one unary gRPC call (RemoteModel.PredictUnary) to an echo plugin launched with go-plugin (gRPC, AutoMTLS, Unix socket), no HTTP",
			newWorker: func(int) (loadgen.Worker, error) { return hop.worker(b.input, b.input, predictTimeout), nil }},
	}
	if slices.Contains(b.opts.concurrency, 1) {
		unixPeer, err := startPeer(b.self, "peer-unix", "unix", filepath.Join(b.work, "peer.sock"))
		if err != nil {
			return err
		}
		defer b.stop(unixPeer)
		tcpPeer, err := startPeer(b.self, "peer-tcp", "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer b.stop(tcpPeer)
		targets = append(targets,
			floorTarget(nameUnix, "the machine's floor under the hop: the input's bytes to another process and back over a Unix socket, no gRPC (concurrency 1 only)", "unix", unixPeer, b.input),
			floorTarget(nameTCP, "the machine's floor under HTTP: the input's bytes to another process and back over TCP loopback, no HTTP (concurrency 1 only)", "tcp", tcpPeer, b.input))
	}
	if err := check(ctx, targets); err != nil {
		return err
	}
	series, err := b.measure(ctx, targets, b.opts.concurrency)
	if err != nil {
		return err
	}
	b.rep.Load = series

	// Memory after the load, while everything still runs.
	for _, s := range []struct {
		srv  *server
		role string
	}{{host, "host"}, {base, "baseline"}} {
		mem, err := s.srv.Memory(s.role)
		if err != nil {
			return err
		}
		b.rep.Memory = append(b.rep.Memory, mem...)
	}
	if m, err := procstat.ReadMemory(hop.PID()); err == nil {
		b.rep.Memory = append(b.rep.Memory, procMemory{Server: "hop", Role: "plugin", Name: "hop_echo", PID: hop.PID(), Memory: m})
	}
	return nil
}

// modelsPhase compares the cost of a request to a host with one model
// and to a host with opts.models models.
func (b *bench) modelsPhase(ctx context.Context) error {
	n := b.opts.models
	logf("models: starting a host with 1 model and a host with %d", n)
	one, err := b.startHost("host-1", b.hostBin, hostConfig(b.irisCopies(1)), nil)
	if err != nil {
		return err
	}
	defer b.stop(one)
	many, err := b.startHost(fmt.Sprintf("host-%d", n), b.hostBin, hostConfig(b.irisCopies(n)), nil)
	if err != nil {
		return err
	}
	defer b.stop(many)
	if many.Ready.Models != n {
		return fmt.Errorf("the host with %d models serves %d, by its ready line: %s", n, many.Ready.Models, many.Ready.Line)
	}
	req := func(s *server, model string) loadgen.HTTPRequest {
		return loadgen.HTTPRequest{Addr: s.Addr, Path: "/api/models/" + model + "/predict", Body: b.input, Expect: b.irisOut}
	}
	spread := loadTarget{
		name: fmt.Sprintf("%d models, all", n),
		desc: fmt.Sprintf("worker i asks iris_{i mod %d} of the host with %d models", n, n),
		pids: processes(many),
		newWorker: func(i int) (loadgen.Worker, error) {
			return loadgen.NewHTTPWorker(req(many, fmt.Sprintf("iris_%d", i%n)))
		},
	}
	targets := []loadTarget{
		httpTarget("1 model", "iris_0 of a host that serves only it", one, req(one, "iris_0")),
		httpTarget(fmt.Sprintf("%d models, one", n), fmt.Sprintf("iris_0 of a host that serves %d models", n), many, req(many, "iris_0")),
		spread,
	}
	if err := check(ctx, targets); err != nil {
		return err
	}
	conc := []int{b.opts.concurrency[0]}
	if last := b.opts.concurrency[len(b.opts.concurrency)-1]; last != conc[0] {
		conc = append(conc, last)
	}
	series, err := b.measure(ctx, targets, conc)
	if err != nil {
		return err
	}
	b.rep.Models = series
	for _, s := range []*server{one, many} {
		mem, err := s.Memory("host")
		if err != nil {
			return err
		}
		b.rep.ModelsMemory = append(b.rep.ModelsMemory, summarizeMemory(s.name, mem))
		b.rep.pluginRSS = append(b.rep.pluginRSS, mem...)
	}
	return nil
}

// loadTarget is something the load generator drives.
type loadTarget struct {
	name, desc string
	newWorker  func(i int) (loadgen.Worker, error)
	// onlyConcurrency, if not 0, is the one concurrency the target is
	// measured at.
	onlyConcurrency int
	// pids, if not nil, lists the server's processes, whose CPU time per
	// request the round reports.
	pids func() []int
}

// measuredAt reports whether t is measured at concurrency c.
func (t loadTarget) measuredAt(c int) bool { return t.onlyConcurrency == 0 || t.onlyConcurrency == c }

// processes returns a function listing s's process and its children.
func processes(s *server) func() []int {
	return func() []int {
		kids, _ := procstat.Children(s.PID())
		return append([]int{s.PID()}, kids...)
	}
}

// cpuTime sums the CPU time of pids; processes that are gone count 0.
func cpuTime(pids []int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		d, _ := procstat.CPUTime(pid)
		sum += d
	}
	return sum
}

// The names of the main phase's targets.
const (
	nameBaseline = "baseline"
	nameHostIris = "host/iris"
	nameHostEcho = "host/echo"
	nameHop      = "hop"
	nameUnix     = "floor/unix"
	nameTCP      = "floor/tcp"
)

func httpTarget(name, desc string, srv *server, req loadgen.HTTPRequest) loadTarget {
	return loadTarget{name: name, desc: desc, pids: processes(srv), newWorker: func(int) (loadgen.Worker, error) {
		return loadgen.NewHTTPWorker(req)
	}}
}

// check sends one request to every target with one worker and fails if
// the answer is wrong, so that a misconfigured run stops before it
// measures errors.
func check(ctx context.Context, targets []loadTarget) error {
	for _, t := range targets {
		w, err := t.newWorker(0)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		err = w.Do(ctx)
		if err != nil {
			if hw, ok := w.(*loadgen.HTTPWorker); ok {
				err = fmt.Errorf("%w: %s", err, hw.LastBody())
			}
		}
		_ = w.Close()
		if err != nil {
			return fmt.Errorf("first request to %s: %w", t.name, err)
		}
	}
	return nil
}

// measure runs opts.rounds rounds; in each, every concurrency, and for
// each, every target in turn, starting with a different target each
// round, so that drift in the machine's speed spreads over all targets.
func (b *bench) measure(ctx context.Context, targets []loadTarget, conc []int) ([]*series, error) {
	var all []*series
	byKey := map[string]*series{}
	for _, c := range conc {
		for _, t := range targets {
			if !t.measuredAt(c) {
				continue
			}
			s := &series{Server: t.name, Description: t.desc, Concurrency: c}
			byKey[t.name+"/"+strconv.Itoa(c)] = s
			all = append(all, s)
		}
	}
	for r := range b.opts.rounds {
		for _, c := range conc {
			for k := range targets {
				t := targets[(k+r)%len(targets)]
				if !t.measuredAt(c) {
					continue
				}
				if b.opts.warmup > 0 {
					if _, err := loadgen.Run(ctx, loadgen.Config{Concurrency: c, Duration: b.opts.warmup}, t.newWorker); err != nil {
						return nil, fmt.Errorf("%s: %w", t.name, err)
					}
				}
				var pids []int
				var cpu0 time.Duration
				if t.pids != nil {
					pids = t.pids()
					cpu0 = cpuTime(pids)
				}
				res, err := loadgen.Run(ctx, loadgen.Config{Concurrency: c, Duration: b.opts.duration}, t.newWorker)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", t.name, err)
				}
				s := byKey[t.name+"/"+strconv.Itoa(c)]
				s.add(res)
				cpu := "n/a"
				if pids != nil && res.OK > 0 {
					if d := cpuTime(pids) - cpu0; d > 0 {
						perReq := d / time.Duration(res.OK)
						s.CPUPerRequest = append(s.CPUPerRequest, perReq)
						cpu = fmtDur(perReq)
					}
				}
				logf("round %d/%d  c=%-3d %-16s %8.0f req/s  p50 %-9s p99 %-9s p99.9 %-9s CPU/req %-7s errors %d",
					r+1, b.opts.rounds, c, t.name, res.Throughput, fmtDur(res.Latency.P50), fmtDur(res.Latency.P99), fmtDur(res.Latency.P999), cpu, res.Errors)
			}
		}
	}
	for _, s := range all {
		s.summarize()
	}
	return all, nil
}

// profilePhase profiles, under load at the highest concurrency, a build of
// the host with a CPU profile and its iris plugin (the benchmark's plugin
// serving iris_model, which profiles itself), then the baseline, and
// writes each profile's top functions next to it.
func (b *bench) profilePhase(ctx context.Context) error {
	prof := filepath.Join(b.root, "bin", "bench", "modelhost-pprof")
	if err := goBuild(ctx, b.root, "./host/bench/profhost", prof); err != nil {
		return err
	}
	c := b.opts.concurrency[len(b.opts.concurrency)-1]
	hostProf := filepath.Join(b.out, "host.cpu.pprof")
	pluginProf := filepath.Join(b.out, "plugin.cpu.pprof")
	baseProf := filepath.Join(b.out, "baseline.cpu.pprof")
	hostAllocs := filepath.Join(b.out, "host.alloc.pprof")
	pluginAllocs := filepath.Join(b.out, "plugin.alloc.pprof")
	// The plugin stops its profile after a fixed time (its host ends it
	// with os.Exit): long enough for the warm-up and the load.
	pluginSeconds := int((b.opts.warmup + b.opts.profileFor + 3*time.Second) / time.Second)
	logf("profile: host and plugin under %d workers for %v", c, b.opts.profileFor)
	started := time.Now()
	host, err := b.startHost("host-pprof", prof, hostConfig([]modelBlock{{
		Name: "iris", Command: b.pluginBin, Env: map[string]string{
			benchmodel.EnvModel: "iris", benchmodel.EnvName: "iris_model",
			benchmodel.EnvCPUProfile: pluginProf, benchmodel.EnvCPUProfileSeconds: strconv.Itoa(pluginSeconds),
			benchmodel.EnvAllocProfile: pluginAllocs,
		},
	}}), []string{"MODELHOST_BENCH_CPUPROFILE=" + hostProf, "MODELHOST_BENCH_ALLOCPROFILE=" + hostAllocs})
	if err != nil {
		return err
	}
	t := httpTarget(nameHostIris, "", host, loadgen.HTTPRequest{Addr: host.Addr, Path: "/api/models/iris_model/predict", Body: b.input, Expect: b.irisOut})
	if err := b.profileLoad(ctx, t, c); err != nil {
		_ = b.stop(host)
		return err
	}
	if wait := time.Until(started.Add(time.Duration(pluginSeconds)*time.Second + time.Second)); wait > 0 {
		time.Sleep(wait) // until the plugin has written its profile
	}
	if !host.Running() {
		logf("profile: the host exited before it was asked to; the plugin's profile may be missing (see %s)", filepath.Join(b.work, host.name+".log"))
	}
	if err := b.stop(host); err != nil {
		return err
	}

	logf("profile: baseline under %d workers for %v", c, b.opts.profileFor)
	base, err := startServer("baseline-pprof", exec.Command(b.self, "baseline", "-address", "127.0.0.1:0", "-cpuprofile", baseProf), baselineReady, time.Minute)
	if err != nil {
		return err
	}
	t = httpTarget(nameBaseline, "", base, loadgen.HTTPRequest{Addr: base.Addr, Path: "/api/models/iris_model/predict", Body: b.input, Expect: b.irisOut})
	if err := b.profileLoad(ctx, t, c); err != nil {
		_ = b.stop(base)
		return err
	}
	if err := b.stop(base); err != nil {
		return err
	}

	for _, p := range []struct{ name, kind, path string }{
		{"host", profileCPU, hostProf}, {"plugin", profileCPU, pluginProf}, {"baseline", profileCPU, baseProf},
		{"host", profileAllocs, hostAllocs}, {"plugin", profileAllocs, pluginAllocs},
	} {
		top, err := pprofTop(ctx, p.path, p.kind)
		if err != nil {
			logf("profile %s: %v", p.path, err)
			continue
		}
		txt := p.path[:len(p.path)-len(".pprof")] + ".top.txt"
		if err := os.WriteFile(txt, top, 0o644); err != nil {
			return err
		}
		b.rep.Profiles = append(b.rep.Profiles, profile{Process: p.name, Kind: p.kind, Concurrency: c, Duration: b.opts.profileFor, Path: p.path, Top: string(top)})
	}
	return nil
}

func (b *bench) profileLoad(ctx context.Context, t loadTarget, c int) error {
	if err := check(ctx, []loadTarget{t}); err != nil {
		return err
	}
	if _, err := loadgen.Run(ctx, loadgen.Config{Concurrency: c, Duration: b.opts.warmup}, t.newWorker); err != nil {
		return err
	}
	res, err := loadgen.Run(ctx, loadgen.Config{Concurrency: c, Duration: b.opts.profileFor}, t.newWorker)
	if err != nil {
		return err
	}
	logf("profile: %s %8.0f req/s  p50 %s  errors %d", t.name, res.Throughput, fmtDur(res.Latency.P50), res.Errors)
	return nil
}

// The kinds of profile the -cpuprofile phase writes.
const (
	profileCPU    = "cpu"
	profileAllocs = "allocs"
)

// pprofTop returns the top functions of a profile of kind profileCPU (by
// time) or profileAllocs (by objects allocated), cumulative and flat, as go
// tool pprof prints them.
func pprofTop(ctx context.Context, path, kind string) ([]byte, error) {
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil, errors.New("no profile written")
	}
	var index []string
	if kind == profileAllocs {
		index = []string{"-sample_index=alloc_objects"}
	}
	var out bytes.Buffer
	for _, args := range [][]string{
		append(append([]string{"tool", "pprof", "-top", "-cum", "-nodecount=40"}, index...), path),
		append(append([]string{"tool", "pprof", "-top", "-nodecount=30"}, index...), path),
	} {
		cmd := exec.CommandContext(ctx, "go", args...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("go %v: %w\n%s", args, err, b)
		}
		out.Write(b)
		out.WriteString("\n")
	}
	return out.Bytes(), nil
}

// machine describes the computer the run is on, and the source measured.
func machine(ctx context.Context, root string) machineInfo {
	host, _ := os.Hostname()
	return machineInfo{
		CPU:       procstat.CPUModel(),
		CPUs:      runtime.NumCPU(),
		MemTotal:  procstat.MemTotal(),
		Go:        runtime.Version(),
		OS:        runtime.GOOS + "/" + runtime.GOARCH,
		Hostname:  host,
		Source:    source(ctx, root),
		LoadStart: procstat.LoadAvg(),
	}
}

// source names the commit of the working tree at root, and says whether
// it has uncommitted changes.
func source(ctx context.Context, root string) string {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	rev, err := git("rev-parse", "--short", "HEAD")
	if err != nil {
		return "unknown (not a git checkout?)"
	}
	if st, err := git("status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
		return rev + " with uncommitted changes"
	}
	return rev
}
