// Package cli implements the modelhost command line: it parses subcommands
// and flags, builds the logger and configuration, and runs the host.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/modelhost/modelhost/host/internal/buildinfo"
	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/logsink"
	"github.com/modelhost/modelhost/host/internal/openapi"
	"github.com/modelhost/modelhost/host/internal/server"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the command ran and failed
	exitUsage  = 2 // bad command line or invalid configuration
)

const usage = `modelhost serves machine-learning models that run as plugin processes.

Usage:
  modelhost serve    [--config FILE] [--address HOST:PORT]  serve the models over HTTP
  modelhost validate --config FILE                          check a configuration and list the plugins it launches
  modelhost models   [--url URL] [--json]                   list the models of a running host
  modelhost openapi  [--config FILE]                        print the OpenAPI document of the models
  modelhost checksum [--hcl] PATH...                        print the SHA-256 lines that pin plugin binaries
  modelhost version  [--json]                               print the version and build information
  modelhost help                                            print this help

Run "modelhost COMMAND --help" for a command's flags.

Exit codes:
  0  success
  1  the command ran and failed
  2  bad command line or invalid configuration
`

// Main runs the command line args (without the program name) and returns
// the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "models":
		return listModels(ctx, args[1:], stdout, stderr)
	case "openapi":
		return printOpenAPI(ctx, args[1:], stdout, stderr)
	case "checksum":
		return checksum(args[1:], stdout, stderr)
	case "version", "--version":
		return printVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "modelhost: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// serveUsage is the usage text of the serve command.
const serveUsage = `Usage: modelhost serve [--config FILE] [--address HOST:PORT]

Serve the models of every plugin over HTTP until SIGINT or SIGTERM, which
shut the server down gracefully. SIGHUP reloads the configuration file:
changed plugins are swapped without dropping requests, removed ones
stopped, new ones started; an invalid file is rejected with its
diagnostics and changes nothing.

Flags:
`

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (HCL); without it, built-in defaults apply")
	address := fs.String("address", "", "listen address HOST:PORT, overriding server.address")
	fs.Usage = commandUsage(fs, stdout, serveUsage)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	cfg, ok := loadConfig(*configPath, stderr)
	if !ok {
		return exitUsage
	}
	// Command-line flags win over the file, at start and at every reload.
	overrides := func(c *config.Config) {
		if *address != "" {
			c.Server.Address = *address
		}
	}
	overrides(cfg)

	// Signals are caught before the first log line, so that whoever waits
	// for "starting" may signal at once. SIGHUP reloads: its default action
	// would end the host, and one sent during start-up is kept for when the
	// host is up.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// Log lines below warning level are written off the request path.
	sink := logsink.New(stderr, 0)
	defer sink.Close()
	logger := newLogger(cfg.Log, sink)
	logger.Info("starting", "version", version(), "config", *configPath, "plugin_directory", cfg.Plugins.Directory)

	srv, err := server.Start(ctx, cfg, logger, server.Options{ConfigPath: *configPath, Build: buildinfo.Read(), Overrides: overrides})
	if err != nil {
		logger.Error("cannot start", "error", err)
		return exitFailed
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				// The outcome is logged by the server.
				_, _ = srv.Reload(ctx, server.TriggerSignal)
			}
		}
	}()
	if err := srv.Serve(ctx); err != nil {
		logger.Error("server failed", "error", err)
		return exitFailed
	}
	return exitOK
}

// printOpenAPI starts the plugins as serve does, writes the OpenAPI document
// of their models to stdout, and stops them. Logs go to stderr.
func printOpenAPI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (HCL); without it, built-in defaults apply")
	fs.Usage = commandUsage(fs, stdout, `Usage: modelhost openapi [--config FILE]

Start the plugins that "modelhost serve" would start, write the OpenAPI 3.1
document of their models to standard output, stop the plugins and exit. The
document is the one that "modelhost serve" answers GET /openapi.json with.
Logs go to standard error; a plugin that does not start is logged and left
out of the document. No address is listened on.

Flags:
`)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	cfg, ok := loadConfig(*configPath, stderr)
	if !ok {
		return exitUsage
	}
	logger := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	reg, stopPlugins, err := server.LoadModels(ctx, cfg, logger)
	if err != nil {
		logger.Error("cannot start the plugins", "error", err)
		return exitFailed
	}
	doc, err := openapi.Build(reg.List(), openapi.Options{
		MaxBodyBytes:   cfg.Server.MaxBodyBytes,
		MaxHeaderBytes: cfg.Server.MaxHeaderBytes,
		AuthEnabled:    cfg.Auth.Enabled(),
		MaxBatchSize:   cfg.Plugins.MaxBatchSize,
		IsDefault:      reg.IsDefault,
	})
	stopPlugins()
	if err != nil {
		logger.Error("cannot build the OpenAPI document", "error", err)
		return exitFailed
	}
	if _, err := stdout.Write(doc); err != nil {
		logger.Error("cannot write the OpenAPI document", "error", err)
		return exitFailed
	}
	return exitOK
}

// parseFlags parses a subcommand's flags and refuses positional arguments.
// When ok is false the command must exit with code: 0 after --help (the
// usage printed by fs.Usage), 2 after a usage error (already reported on
// stderr).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	if code, ok := parseFlagsAndArgs(fs, args, stderr); !ok {
		return code, false
	}
	if fs.NArg() > 0 {
		usageError(fs, stderr, fmt.Sprintf("unexpected arguments %q", fs.Args()))
		return exitUsage, false
	}
	return 0, true
}

// parseFlagsAndArgs parses a subcommand's flags, leaving its positional
// arguments in fs.Args(). fs.Usage, called only for --help or -h, must
// print to standard output (see commandUsage). A bad flag is reported on
// stderr with a pointer to --help, not with the whole usage. When ok is
// false the command must exit with code, as for parseFlags.
func parseFlagsAndArgs(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	usage, output := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard) // the error is reported below
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(output)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return exitOK, false
	case err != nil:
		usageError(fs, stderr, err.Error())
		return exitUsage, false
	}
	return 0, true
}

// usageError reports a bad command line of fs's command on stderr.
func usageError(fs *flag.FlagSet, stderr io.Writer, msg string) {
	fmt.Fprintf(stderr, "modelhost %s: %s\nRun \"modelhost %s --help\" for usage.\n", fs.Name(), msg, fs.Name())
}

// commandUsage returns a Usage function for fs that prints text followed
// by the flags and their defaults to w, standard output: it is called for
// --help only, and help that was asked for is not an error.
func commandUsage(fs *flag.FlagSet, w io.Writer, text string) func() {
	return func() {
		fmt.Fprint(w, text)
		output := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(output)
	}
}

// loadConfig loads the configuration file at path, or the defaults when
// path is empty, reporting errors (with file, line and column) on stderr.
func loadConfig(path string, stderr io.Writer) (*config.Config, bool) {
	if path == "" {
		return config.Default(), true
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "modelhost: %v\n", err)
		return nil, false
	}
	return cfg, true
}

func newLogger(c config.Log, w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "modelhost",
		Level:      hclog.LevelFromString(c.Level),
		Output:     w,
		JSONFormat: c.Format == "json",
	})
}

// version returns the module version the binary was built from, or
// "devel".
func version() string {
	if v := buildinfo.Read().Version; v != buildinfo.DevelVersion {
		return v
	}
	return "devel"
}
