package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/grpc"

	"github.com/modelhost/modelhost/sdk"
)

// Serve serves model to the host that launched this process and returns
// only when the host stops it. It is the whole of a plugin's main function.
//
// Run by hand (without the host's handshake), Serve prints what the binary
// is and how to serve it, and exits with status 2; run with the single
// argument --describe, it prints the model's metadata and schemas as JSON and
// exits. If the model's metadata or schemas are invalid, Serve reports why on
// standard error and exits with status 1, which the host logs.
//
// Serve never writes to standard output while serving: go-plugin uses it for
// the handshake. Whatever the model prints there is forwarded to the host's
// log instead.
//
// While serving, the process exits on its own, within a second, once the
// host that launched it is gone (killed without the chance to stop its
// plugins): on Unix it watches its parent process, and the host whose PID
// the host passes in MODELHOST_HOST_PID.
func Serve(model sdk.MLModel) {
	os.Exit(serve(model, os.Args, os.Stdout, os.Stderr))
}

func serve(model sdk.MLModel, args []string, stdout, stderr io.Writer) int {
	hs := HandshakeConfig()
	if len(args) == 2 && args[1] == "--describe" {
		return describe(model, stdout, stderr)
	}
	if os.Getenv(hs.MagicCookieKey) != hs.MagicCookieValue {
		printUsage(model, args, stderr)
		return 2
	}
	if err := Check(model); err != nil {
		fmt.Fprintf(stderr, "cannot serve model: %v\n", err)
		return 1
	}
	level := hclog.LevelFromString(os.Getenv(LogLevelEnv))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	hl := hclog.New(&hclog.LoggerOptions{
		Level:      level,
		Output:     stderr,
		JSONFormat: true,
	})
	startHostWatch(stderr)
	setGCPercent()
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins: goplugin.PluginSet{
			pluginName: &grpcPlugin{server: newServer(model, newSlogLogger(hl))},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpcServerOptions()...)...)
		},
		// nil unless the host set up PrepareTLS; nil means go-plugin's AutoMTLS.
		TLSProvider: launchTLSProvider(stderr),
		Logger:      hl,
	})
	return 0
}

// pluginGCPercent is the GOGC a plugin runs with unless its environment
// sets GOGC or GOMEMLIMIT. A plugin's live heap is small (a few MiB), so
// Go's default of 100 lets the heap grow to its 4 MiB minimum target before
// each collection; 50 halves that headroom for a collection of a small heap
// twice as often.
const pluginGCPercent = 50

func setGCPercent() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(pluginGCPercent)
	}
}

// Check reports whether model's metadata is valid and its schemas are JSON
// Schemas that compile. Serve refuses to serve a model that fails it.
func Check(model sdk.MLModel) error {
	if err := model.Info().Validate(); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		doc  json.RawMessage
	}{{"input", model.InputSchema()}, {"output", model.OutputSchema()}} {
		if _, err := CompileSchema(s.doc); err != nil {
			return fmt.Errorf("%s schema: %w", s.name, err)
		}
	}
	return nil
}

// CompileSchema compiles a JSON Schema document (draft 2020-12 unless its
// "$schema" says otherwise). References outside the document are refused.
func CompileSchema(doc json.RawMessage) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoader{})
	const url = "mem:///schema.json"
	if err := c.AddResource(url, v); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return s, nil
}

type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references %s: only references inside the schema are allowed", url)
}

func describe(model sdk.MLModel, stdout, stderr io.Writer) int {
	info := model.Info()
	doc := struct {
		sdk.Info
		InputSchema  json.RawMessage `json:"input_schema"`
		OutputSchema json.RawMessage `json:"output_schema"`
		SDKVersion   string          `json:"sdk_version"`
	}{info, model.InputSchema(), model.OutputSchema(), SDKVersion}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		fmt.Fprintf(stderr, "describe: %v\n", err)
		return 1
	}
	if err := Check(model); err != nil {
		fmt.Fprintf(stderr, "the host would refuse this model: %v\n", err)
		return 1
	}
	return 0
}

func printUsage(model sdk.MLModel, args []string, w io.Writer) {
	name := "plugin"
	if len(args) > 0 {
		name = filepath.Base(args[0])
	}
	info := model.Info()
	fmt.Fprintf(w, `%s is a modelhost plugin: it serves the model %q (%s %s).
It is started by the modelhost host, not by hand. To serve it, copy it into
the host's plugin directory (plugins { directory = "..." } in config.hcl) or
name it in a model block, then run:

    modelhost serve --config config.hcl

Run "%s --describe" to print its metadata and JSON schemas.
`, name, info.QualifiedName, info.DisplayName, info.Version, name)
}
