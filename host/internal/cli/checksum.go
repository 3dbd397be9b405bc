package cli

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/modelhost/modelhost/host/internal/launcher"
)

// checksum prints the SHA-256 digest of each file, as a line of a
// SHA256SUMS file (the base name, since the list names files of its own
// directory) or, with --hcl, as the sha256 argument of a model block.
func checksum(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("checksum", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hcl := fs.Bool("hcl", false, `print sha256 = "..." lines for model blocks instead of SHA256SUMS lines`)
	fs.Usage = commandUsage(fs, stdout, `Usage: modelhost checksum [--hcl] PATH...

Print the SHA-256 digest of each plugin binary in the format sha256sum
writes, "DIGEST  NAME", with NAME the file's base name: the lines of the
SHA256SUMS file that plugins { require_checksums = true } reads in the plugin
directory. For example:

    modelhost checksum bin/plugins/iris bin/plugins/sentiment > bin/plugins/SHA256SUMS

With --hcl, print the argument that pins a binary in its model block,
sha256 = "DIGEST", followed by a comment naming the file.

Exit status 1 if a file cannot be read; the others are still printed.

Flags:
`)
	if code, ok := parseFlagsAndArgs(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		usageError(fs, stderr, "no files given")
		return exitUsage
	}
	code := exitOK
	for _, path := range fs.Args() {
		info, err := os.Stat(path)
		if err == nil && !info.Mode().IsRegular() {
			err = errors.New("not a regular file")
		}
		var digest []byte
		if err == nil {
			digest, err = launcher.FileSHA256(path)
		}
		if err != nil {
			fmt.Fprintf(stderr, "modelhost checksum: %s: %v\n", path, unwrapPathError(err))
			code = exitFailed
			continue
		}
		if *hcl {
			quoted := strconv.Quote(path) // no newline can end the comment early
			fmt.Fprintf(stdout, "sha256 = %q # %s\n", hex.EncodeToString(digest), quoted[1:len(quoted)-1])
		} else {
			fmt.Fprintln(stdout, launcher.ChecksumLine(digest, filepath.Base(path)))
		}
	}
	return code
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
