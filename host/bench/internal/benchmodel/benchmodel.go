// Package benchmodel holds the models of the benchmark's own plugin
// (host/bench/benchplugin): a trivial echo model, the floor of a
// prediction through the host, and the iris model under another qualified
// name, so that one binary can be served many times by one host.
//
// A qualified name is compiled into an ordinary plugin; the benchmark's
// plugin reads it, and which model to serve, from its environment, which
// the host sets from a model block:
//
//	model "iris_7" {
//	  command = "bin/bench/benchplugin"
//	  env     = { BENCH_MODEL = "iris", BENCH_NAME = "iris_7" }
//	}
package benchmodel

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/modelhost/modelhost/plugins/iris/irismodel"
	"github.com/modelhost/modelhost/sdk"
)

// The environment variables the benchmark's plugin reads.
const (
	// EnvModel selects the model: "echo" (the default) or "iris".
	EnvModel = "BENCH_MODEL"
	// EnvName is the model's qualified name; the default is
	// DefaultEchoName or the iris model's own, "iris_model".
	EnvName = "BENCH_NAME"
	// EnvCPUProfile, if set, is a file the plugin writes a CPU profile to:
	// from its start for EnvCPUProfileSeconds (default 30) seconds.
	EnvCPUProfile = "BENCH_CPUPROFILE"
	// EnvCPUProfileSeconds is the length of that profile.
	EnvCPUProfileSeconds = "BENCH_CPUPROFILE_SECONDS"
	// EnvAllocProfile, if set with EnvCPUProfile, is a file the plugin
	// writes its allocations since its start to when the CPU profile ends.
	EnvAllocProfile = "BENCH_ALLOCPROFILE"
)

// DefaultEchoName is the echo model's qualified name when EnvName is not
// set.
const DefaultEchoName = "bench_echo"

// Echo returns a model whose prediction is its input: the iris model's
// input type, decoded and encoded again by the SDK as any model's is, and
// nothing else. Its input schema is the iris model's, so the host does the
// same validation work for both.
func Echo(name string) *sdk.Model[irismodel.Input, irismodel.Input] {
	if name == "" {
		name = DefaultEchoName
	}
	info := sdk.Info{
		QualifiedName: name,
		DisplayName:   "Benchmark echo",
		Description:   "Returns its input, an iris flower's measurements, unchanged. The benchmark measures the cost of a prediction through the host with it.",
		Version:       "1.0.0",
	}
	return sdk.NewModel(info, func(_ context.Context, in irismodel.Input) (irismodel.Input, error) {
		return in, nil
	}, sdk.WithExamples(irismodel.Examples()...))
}

// Iris returns the iris model (irismodel.New) under the qualified name
// name, or under its own if name is empty.
func Iris(name string) sdk.MLModel {
	m := irismodel.New()
	if name == "" {
		return m
	}
	info := m.Info()
	info.DisplayName = fmt.Sprintf("%s (%s)", info.DisplayName, name)
	info.QualifiedName = name
	return renamed{MLModel: m, info: info}
}

// renamed is a model with other metadata; everything else is the wrapped
// model's.
type renamed struct {
	sdk.MLModel
	info sdk.Info
}

func (r renamed) Info() sdk.Info { return r.info }

// FromEnv returns the model that EnvModel and EnvName select.
func FromEnv(getenv func(string) string) (sdk.MLModel, error) {
	name := getenv(EnvName)
	switch kind := getenv(EnvModel); kind {
	case "", "echo":
		return Echo(name), nil
	case "iris":
		return Iris(name), nil
	default:
		return nil, fmt.Errorf("%s=%q: want echo or iris", EnvModel, kind)
	}
}

// ProfileFromEnv starts the CPU profile that EnvCPUProfile asks for, if
// any; it stops by itself, and then the allocation profile EnvAllocProfile
// asks for, if any, is written. A plugin is stopped by its host with
// os.Exit, so the profiles have a fixed length rather than ending with the
// process.
func ProfileFromEnv(getenv func(string) string) error {
	path := getenv(EnvCPUProfile)
	if path == "" {
		return nil
	}
	seconds := 30
	if s := getenv(EnvCPUProfileSeconds); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s=%q: want a number of seconds", EnvCPUProfileSeconds, s)
		}
		seconds = n
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	allocs := getenv(EnvAllocProfile)
	time.AfterFunc(time.Duration(seconds)*time.Second, func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		if allocs == "" {
			return
		}
		if a, err := os.Create(allocs); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(a, 0)
			_ = a.Close()
		}
	})
	return nil
}
