// Command bench measures what the plugin architecture costs: it serves
// the iris model through the real host (HTTP, the host's handler, a
// go-plugin gRPC hop to the plugin process) and, in the same run, through
// an in-process baseline (the same model, the same JSON parsing and schema
// validation, no hop), and drives both with the same closed-loop HTTP/1.1
// load. It also measures the floor of the hop (an echo model through the
// host, and a bare go-plugin round trip without HTTP), the memory of every
// process, the host's cold start with 1, 10 and 50 plugins, and the cost
// of a request with 1 or 50 models loaded, and the rows/s of the batch
// endpoint against single predicts. It prints a Markdown report,
// writes it and a JSON one, and says PASS or FAIL for each target.
//
// Run it from the repository (make bench, or go run ./host/bench); it
// builds what it measures. See docs/performance.md.
//
//	bench [-rounds 5] [-duration 3s] [-concurrency 1,8,64] [-quick] [-out DIR] ...
//	bench baseline [-address 127.0.0.1:0] [-cpuprofile FILE]   (started by bench itself)
//	bench peer [-network tcp|unix] [-address ADDR]            (started by bench itself)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the benchmark's settings, from its flags.
type options struct {
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	concurrency []int
	quick       bool
	out         string
	cold        []int
	coldRuns    int
	models      int
	batchConc   []int
	cpuprofile  bool
	profileFor  time.Duration
	hostBin     string
	strict      bool
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "baseline":
			os.Exit(runBaseline(os.Args[2:]))
		case "peer":
			os.Exit(runPeer(os.Args[2:]))
		}
	}
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		stop()
		os.Exit(1)
	}
	if opts.strict && rep.failed() {
		stop()
		os.Exit(3)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&o.rounds, "rounds", 5, "rounds of load per server and concurrency; the report gives the median across rounds")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "length of one round")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unrecorded load before each round")
	conc := fs.String("concurrency", "1,8,64", "comma-separated `list` of concurrencies (closed-loop workers, one connection each)")
	fs.BoolVar(&o.quick, "quick", false, "a fast smoke run: 1 round of 1s, one cold start each; flags given explicitly still apply")
	fs.StringVar(&o.out, "out", "", "`directory` for results.json, results.md, logs and profiles (default bin/bench in the repository)")
	cold := fs.String("coldstart", "1,10,50", "comma-separated `list` of plugin counts for the cold-start measurement (empty: skip)")
	fs.IntVar(&o.coldRuns, "coldstart-runs", 3, "cold starts per plugin count; the report gives the median")
	fs.IntVar(&o.models, "models", 50, "models loaded for the per-request cost with many models, compared with 1 (0: skip)")
	batchConc := fs.String("batch-concurrency", "1,8", "comma-separated `list` of concurrencies for the batch endpoint (batches of 1, 100 and 1000 rows vs single predicts; empty: skip)")
	fs.BoolVar(&o.cpuprofile, "cpuprofile", false, "after measuring, profile the host (a build of it with a CPU profile), a plugin and the baseline under load and write the CPU profiles, the allocation profiles of host and plugin, and their top functions to the out directory")
	fs.DurationVar(&o.profileFor, "profile-duration", 10*time.Second, "length of the load for each CPU profile")
	fs.StringVar(&o.hostBin, "host", "", "measure this modelhost `binary` instead of building ./host/cmd/modelhost (e.g. an older build, to compare)")
	fs.BoolVar(&o.strict, "strict", false, "exit with status 3 if a target fails")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: bench [flags]\n\nBuilds the host and the plugins, measures the host against an in-process baseline, and reports.\nSee docs/performance.md.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["rounds"] {
			o.rounds = 1
		}
		if !set["duration"] {
			o.duration = time.Second
		}
		if !set["warmup"] {
			o.warmup = 200 * time.Millisecond
		}
		if !set["coldstart-runs"] {
			o.coldRuns = 1
		}
		if !set["profile-duration"] {
			o.profileFor = 3 * time.Second
		}
	}
	var err error
	if o.concurrency, err = intList(*conc); err != nil || len(o.concurrency) == 0 {
		return o, fmt.Errorf("-concurrency %q: want a list of positive numbers such as 1,8,64", *conc)
	}
	if o.cold, err = intList(*cold); err != nil {
		return o, fmt.Errorf("-coldstart %q: want a list of positive numbers such as 1,10,50", *cold)
	}
	if o.batchConc, err = intList(*batchConc); err != nil {
		return o, fmt.Errorf("-batch-concurrency %q: want a list of positive numbers such as 1,8", *batchConc)
	}
	switch {
	case o.rounds < 1:
		return o, errors.New("-rounds must be at least 1")
	case o.duration <= 0:
		return o, errors.New("-duration must be positive")
	case o.warmup < 0:
		return o, errors.New("-warmup must not be negative")
	case o.coldRuns < 1:
		return o, errors.New("-coldstart-runs must be at least 1")
	case o.models < 0 || o.models == 1:
		return o, errors.New("-models must be 0 (skip) or at least 2")
	case o.profileFor <= 0:
		return o, errors.New("-profile-duration must be positive")
	}
	return o, nil
}

// intList parses "1,8,64"; the empty string is the empty list.
func intList(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

var begin = time.Now()

// logf reports progress on standard error.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(begin).Seconds(), fmt.Sprintf(format, args...))
}

// outDir returns the directory the results go to, created.
func outDir(root, flagValue string) (string, error) {
	dir := flagValue
	if dir == "" {
		dir = filepath.Join(root, "bin", "bench")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}
