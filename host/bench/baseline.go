package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/modelhost/modelhost/host/bench/internal/baseline"
	"github.com/modelhost/modelhost/host/bench/internal/benchmodel"
	"github.com/modelhost/modelhost/plugins/iris/irismodel"
)

// baselineReady is the @message of the line the baseline logs once it
// listens, with its address, as the host logs "host ready".
const baselineReady = "baseline ready"

// runBaseline is the "baseline" subcommand: it serves the iris model (and
// the echo model) in process, without plugins, until SIGINT or SIGTERM.
func runBaseline(args []string) int {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	addr := fs.String("address", "127.0.0.1:0", "listen `address`")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	e, err := baseline.New(baseline.Options{}, irismodel.New(), benchmodel.Echo(""))
	if err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		return 1
	}
	// The host's default server settings (host/internal/config).
	srv := &http.Server{
		Handler:           e,
		ReadTimeout:       30 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logReady(baselineReady, "http://"+ln.Addr().String())
	select {
	case err := <-errc:
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "baseline: shutdown: %v\n", err)
	}
	return 0
}
