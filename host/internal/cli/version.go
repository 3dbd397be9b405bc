package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/modelhost/modelhost/host/internal/buildinfo"
)

// printVersion prints how the binary was built: one line, or with --json
// a JSON object with the fields of buildinfo.Info.
func printVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the build information as a JSON object")
	fs.Usage = commandUsage(fs, stdout, `Usage: modelhost version [--json]

Print the module version, the VCS revision (short) and its commit time,
"modified" if the working tree had uncommitted changes, the Go version and
the platform the binary was built with, on one line:

    modelhost v0.0.0-20261125215946-812876259bbb+dirty rev 8128762 2026-11-25T21:59:46Z modified go1.26.8 linux/amd64

What the Go toolchain did not record is left out: built with
-buildvcs=false, the version is "(devel)" and there is no revision. With --json, print the same as a
JSON object with the members version, revision (in full), time, modified,
go_version and platform.

Flags:
`)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	info := buildinfo.Read()
	if !*asJSON {
		fmt.Fprintf(stdout, "modelhost %s\n", info)
		return exitOK
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(info); err != nil {
		fmt.Fprintf(stderr, "modelhost version: %v\n", err)
		return exitFailed
	}
	return exitOK
}
