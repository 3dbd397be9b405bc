package plugin

// Benchmarks of the host-to-plugin round trip: RemoteModel.Predict to an
// echo model, in process over gRPC (ServeTest) and to a real plugin
// process launched with go-plugin as the host launches one (gRPC,
// AutoMTLS, a Unix socket). Run them with
//
//	go test -run '^$' -bench RoundTrip -benchmem ./sdk/plugin
//
// Besides ns/op (the mean), each reports the exact p50 and p99 of its
// calls. docs/performance.md in the repository has the method.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/modelhost/modelhost/sdk"
)

// benchServeEnv makes the test binary serve benchEcho as a plugin instead
// of running tests, for the real-process benchmarks.
const benchServeEnv = "MODELHOST_SDK_BENCH_SERVE_ECHO"

func init() {
	if os.Getenv(benchServeEnv) == "1" {
		Serve(benchEcho()) // exits
	}
}

// flower is the benchmark's input: the shape of the bundled iris model's.
type flower struct {
	SepalLength float64 `json:"sepal_length" jsonschema:"exclusiveMinimum=0"`
	SepalWidth  float64 `json:"sepal_width" jsonschema:"exclusiveMinimum=0"`
	PetalLength float64 `json:"petal_length" jsonschema:"exclusiveMinimum=0"`
	PetalWidth  float64 `json:"petal_width" jsonschema:"exclusiveMinimum=0"`
}

// benchEcho returns a model, built with the SDK as any model is, whose
// prediction is its input.
func benchEcho() *sdk.Model[flower, flower] {
	info := sdk.Info{QualifiedName: "bench_echo", DisplayName: "Benchmark echo", Version: "1.0.0"}
	return sdk.NewModel(info, func(_ context.Context, in flower) (flower, error) { return in, nil })
}

var benchFlower = []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)

// predictOnce calls Predict with the host's default predict timeout as
// its deadline, as the host's handler does.
func predictOnce(m *RemoteModel) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := m.Predict(ctx, benchFlower)
	if err != nil {
		return err
	}
	if string(out) != string(benchFlower) {
		return fmt.Errorf("Predict = %s, want %s", out, benchFlower)
	}
	return nil
}

// benchSequential calls Predict one call at a time and reports the exact
// percentiles of the calls' latencies.
func benchSequential(b *testing.B, m *RemoteModel) {
	if err := predictOnce(m); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, 1<<14)
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		if err := predictOnce(m); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportPercentiles(b, lat)
}

// reportPercentiles reports the nearest-rank p50 and p99 of lat.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p int) time.Duration { return lat[max(0, (p*len(lat)+99)/100-1)] }
	b.ReportMetric(float64(at(50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(at(99).Nanoseconds()), "p99-ns")
}

// startBenchPlugin launches this test binary as a plugin process serving
// benchEcho, configured as the host's launcher configures its plugins.
func startBenchPlugin(b *testing.B) *RemoteModel {
	b.Helper()
	if testing.Short() {
		b.Skip("starts a plugin process")
	}
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = []string{benchServeEnv + "=1", LogLevelEnv + "=warn"}
	// BENCH_PLUGIN_GOGC, if set, is the plugin's GOGC, to compare the
	// plugin's GC settings with one test binary.
	if v, ok := os.LookupEnv("BENCH_PLUGIN_GOGC"); ok {
		cmd.Env = append(cmd.Env, "GOGC="+v)
	}
	if v, ok := os.LookupEnv("BENCH_PLUGIN_GOMAXPROCS"); ok {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+v)
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  HandshakeConfig(),
		Plugins:          PluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     time.Minute,
		Logger:           hclog.NewNullLogger(),
		GRPCDialOptions:  GRPCDialOptions(),
	})
	b.Cleanup(client.Kill)
	protocol, err := client.Client()
	if err != nil {
		b.Fatalf("start plugin: %v", err)
	}
	remote, err := Connect(context.Background(), protocol)
	if err != nil {
		b.Fatalf("Connect: %v", err)
	}
	return remote
}

// BenchmarkRoundTrip is one Predict at a time: in-process over an
// in-memory gRPC connection, and to a real plugin process.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("in-process", func(b *testing.B) {
		benchSequential(b, ServeTest(b, benchEcho()))
	})
	b.Run("process", func(b *testing.B) {
		benchSequential(b, startBenchPlugin(b))
	})
}

// BenchmarkRoundTripParallel is 64 Predict calls in flight at once to a
// real plugin process (ns/op is the inverse of the throughput).
func BenchmarkRoundTripParallel(b *testing.B) {
	remote := startBenchPlugin(b)
	if err := predictOnce(remote); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var lat []time.Duration
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((64 + procs - 1) / procs)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mine := make([]time.Duration, 0, 1<<12)
		for pb.Next() {
			t0 := time.Now()
			if err := predictOnce(remote); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	reportPercentiles(b, lat)
}
