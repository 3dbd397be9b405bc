package cli

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/launcher"
)

// validate loads and checks a configuration file, runs plugin discovery
// without launching anything, and prints what serve would launch and
// skip.
func validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (HCL) to check; required")
	fs.Usage = commandUsage(fs, stdout, `Usage: modelhost validate --config FILE

Check the configuration file as "modelhost serve" would, without starting
anything: report every error in it with its file, line and column on
standard error; if there is none, discover the plugins (the model blocks
and the executables of plugins.directory) and print on standard output the
model blocks, the plugin directory, the binaries that would be launched
and the files that would be skipped, with the reason.

Nothing is launched. A binary that is missing, not executable or whose
SHA-256 digest differs from its pin is flagged, since its launch would fail,
but does not make the file invalid.

Exit status 0 if the file is valid, 2 if it is not (or cannot be read),
1 if discovery fails, for example on an unreadable plugin directory.

Flags:
`)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if *configPath == "" {
		usageError(fs, stderr, "--config FILE is required")
		return exitUsage
	}
	cfg, ok := loadConfig(*configPath, stderr)
	if !ok {
		return exitUsage
	}
	specs, skipped, err := launcher.Discover(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "modelhost validate: %s is valid, but plugin discovery failed: %v\n", *configPath, err)
		return exitFailed
	}
	var out bytes.Buffer
	writeValidation(&out, *configPath, cfg, specs, skipped)
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "modelhost validate: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// writeValidation prints the summary of a valid configuration and of what
// discovery found: specs and skipped as launcher.Discover returns them.
func writeValidation(w io.Writer, path string, cfg *config.Config, specs []launcher.Spec, skipped []launcher.Skipped) {
	fmt.Fprintf(w, "%s: valid\n", path)

	if len(cfg.Models) == 0 {
		fmt.Fprintln(w, "Model blocks: none")
	} else {
		fmt.Fprintf(w, "Model blocks: %d\n", len(cfg.Models))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, m := range cfg.Models {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", m.Name, m.Command, m.DeclRange)
		}
		tw.Flush()
	}

	dir := cfg.Plugins.Directory
	switch _, err := os.Stat(dir); {
	case dir == "":
		fmt.Fprintln(w, `Plugin directory: none (plugins.directory = ""): only model blocks are launched`)
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(w, "Plugin directory: %s (does not exist: nothing is discovered)\n", dir)
	default:
		fmt.Fprintf(w, "Plugin directory: %s\n", dir)
		if cfg.Plugins.RequireChecksums {
			fmt.Fprintf(w, "  only the binaries listed in %s are launched (plugins.require_checksums)\n", launcher.ChecksumFile)
		}
	}

	fmt.Fprintf(w, "Would launch %s:\n", count(len(specs), "plugin", "plugins"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, s := range specs {
		from := "plugin directory"
		if i < len(cfg.Models) { // Discover lists the model blocks first
			from = "model block"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s%s\n", s.Name, s.Command, from, launchProblem(s))
	}
	tw.Flush()

	if len(skipped) == 0 {
		fmt.Fprintln(w, "Would skip: nothing")
		return
	}
	fmt.Fprintf(w, "Would skip %s:\n", count(len(skipped), "file", "files"))
	for _, s := range skipped {
		fmt.Fprintf(w, "  %s: %s\n", s.Path, s.Reason)
	}
}

// launchProblem returns why launching s would fail, if its binary is
// missing, not executable or not the one pinned; otherwise ", sha256
// pinned" if it is pinned, or "".
func launchProblem(s launcher.Spec) string {
	info, err := os.Stat(s.Command)
	switch {
	case err != nil:
		return fmt.Sprintf("; launch would fail: %v", unwrapPathError(err))
	case !info.Mode().IsRegular():
		return "; launch would fail: not a regular file"
	case info.Mode().Perm()&0o111 == 0:
		return "; launch would fail: not executable"
	case s.SHA256 == nil:
		return ""
	}
	digest, err := launcher.FileSHA256(s.Command)
	switch {
	case err != nil:
		return fmt.Sprintf("; launch would fail: cannot compute its SHA-256: %v", unwrapPathError(err))
	case !bytes.Equal(digest, s.SHA256):
		return fmt.Sprintf("; launch would fail: its SHA-256 is %s, %s pins %s", hex.EncodeToString(digest), s.ChecksumOrigin, hex.EncodeToString(s.SHA256))
	}
	return ", sha256 pinned"
}

// count formats n with the singular or plural noun.
func count(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}
