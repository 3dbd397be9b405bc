// Command profhost is the modelhost binary with a CPU profile, for the
// benchmark's -cpuprofile phase only: the host has no profiling option of
// its own, and the benchmark must not change it. It runs the same command
// line code as host/cmd/modelhost; with MODELHOST_BENCH_CPUPROFILE set to a
// file, it profiles the whole run and writes the profile when the command
// returns (after SIGTERM's graceful shutdown). With
// MODELHOST_BENCH_ALLOCPROFILE set to a file, it then also writes the
// allocations of the whole run there (pprof's "allocs" profile).
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/modelhost/modelhost/host/internal/cli"
)

// EnvCPUProfile names the file the CPU profile is written to;
// EnvAllocProfile the file of the allocation profile.
const (
	EnvCPUProfile   = "MODELHOST_BENCH_CPUPROFILE"
	EnvAllocProfile = "MODELHOST_BENCH_ALLOCPROFILE"
)

func main() {
	stop := func() {}
	if path := os.Getenv(EnvCPUProfile); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "profhost: cpu profile: %v\n", err)
			os.Exit(1)
		}
		stop = func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}
	}
	code := cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if path := os.Getenv(EnvAllocProfile); path != "" {
		if err := writeAllocs(path); err != nil {
			fmt.Fprintf(os.Stderr, "profhost: allocation profile: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// writeAllocs writes the allocations made since the start to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
