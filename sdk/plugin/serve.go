package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/modelhost/modelhost/sdk"
)

// Serve serves model to the host that launched this process and returns
// only when the host stops it. It is the whole of a plugin's main function.
//
// Run by hand (without the host's handshake), Serve prints what the binary
// is and how to serve it, and exits with status 2; run with the single
// argument --describe, it prints the model's metadata and schemas as JSON and
// exits.
//
// Before serving, Serve checks what needs no JSON Schema compiler: that the
// model's metadata is valid (sdk.Info.Validate) and that each schema is a
// JSON object (or the boolean schema true or false). If not, it reports why
// on standard error and exits with status 1, which the host logs. That the
// schemas compile is checked by the host when it loads the plugin (it
// refuses the model, with the reason in its log and in /readyz), and before
// that by the model's tests: schemacheck.Model or modeltest.Check do the
// host's full check. Serve leaves it to them so that the plugin binary does
// not link a JSON Schema compiler, whose initialisation alone costs every
// plugin process memory and start-up time.
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
	if err := checkServable(model); err != nil {
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

// checkServable is the check Serve and --describe make: the model's
// metadata is valid and each schema is a JSON object or boolean, as a JSON
// Schema must be. It compiles nothing; see Serve.
func checkServable(model sdk.MLModel) error {
	if err := model.Info().Validate(); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		doc  json.RawMessage
	}{{"input", model.InputSchema()}, {"output", model.OutputSchema()}} {
		if err := checkSchemaJSON(s.doc); err != nil {
			return fmt.Errorf("%s schema: %w", s.name, err)
		}
	}
	return nil
}

// checkSchemaJSON reports whether doc is one JSON value that can be a JSON
// Schema: an object, or true or false.
func checkSchemaJSON(doc json.RawMessage) error {
	if !json.Valid(doc) {
		var v any
		err := json.Unmarshal(doc, &v) // for its description of the error
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return fmt.Errorf("not valid JSON: %w", err)
	}
	switch v := bytes.TrimSpace(doc); v[0] {
	case '{', 't', 'f':
		return nil
	default:
		return fmt.Errorf("%.40s is not a JSON Schema: want a JSON object (or true or false)", v)
	}
}

// describeScope says, after a failed --describe, what it did not check.
const describeScope = `(--describe checks the metadata and that the schemas are JSON objects; the
full check, that the schemas compile as the host compiles them, is
schemacheck.Model or modeltest.Check in the model's tests, and the host's
own when it loads the plugin.)
`

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
	if err := checkServable(model); err != nil {
		fmt.Fprintf(stderr, "the host would refuse this model: %v\n%s", err, describeScope)
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
