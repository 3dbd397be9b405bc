// Command benchplugin is the benchmark's own modelhost plugin: the echo
// model (the floor of a prediction through the host) or the iris model
// under a qualified name of the host's choosing, selected by the
// environment variables of package benchmodel (BENCH_MODEL, BENCH_NAME).
// It lets one binary be served many times by one host for the cold-start
// measurements. It is built and started by the benchmark (host/bench).
package main

import (
	"fmt"
	"os"

	"github.com/modelhost/modelhost/host/bench/internal/benchmodel"
	"github.com/modelhost/modelhost/sdk/plugin"
)

func main() {
	model, err := benchmodel.FromEnv(os.Getenv)
	if err == nil {
		err = benchmodel.ProfileFromEnv(os.Getenv)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchplugin: %v\n", err)
		os.Exit(1)
	}
	plugin.Serve(model)
}
