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
	"runtime/debug"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/modelhost/modelhost/host/internal/config"
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
  modelhost serve   [--config FILE] [--address HOST:PORT]   serve the models over HTTP
  modelhost openapi [--config FILE]                         print the OpenAPI document of the models
  modelhost checksum [--hcl] PATH...                        print the SHA-256 lines that pin plugin binaries
  modelhost version                                         print the version

Run "modelhost COMMAND --help" for a command's flags.
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
		return serve(ctx, args[1:], stderr)
	case "openapi":
		return printOpenAPI(ctx, args[1:], stdout, stderr)
	case "checksum":
		return checksum(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "modelhost %s\n", version())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "modelhost: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (HCL); without it, built-in defaults apply")
	address := fs.String("address", "", "listen address HOST:PORT, overriding server.address")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: modelhost serve [--config FILE] [--address HOST:PORT]\n\nServe the models of every plugin until SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	cfg, ok := loadConfig(*configPath, stderr)
	if !ok {
		return exitUsage
	}
	if *address != "" {
		cfg.Server.Address = *address
	}
	logger := newLogger(cfg.Log, stderr)
	logger.Info("starting", "version", version(), "config", *configPath, "plugin_directory", cfg.Plugins.Directory)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.Start(ctx, cfg, logger)
	if err != nil {
		logger.Error("cannot start", "error", err)
		return exitFailed
	}
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
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: modelhost openapi [--config FILE]

Start the plugins that "modelhost serve" would start, write the OpenAPI 3.1
document of their models to standard output, stop the plugins and exit. The
document is the one that "modelhost serve" answers GET /openapi.json with.
Logs go to standard error; a plugin that does not start is logged and left
out of the document. No address is listened on.

Flags:
`)
		fs.PrintDefaults()
	}
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
// When ok is false the command must exit with code: 0 after --help, 2
// after a usage error (already reported on stderr).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "modelhost %s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return exitUsage, false
	}
	return 0, true
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
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
