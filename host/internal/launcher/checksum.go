package launcher

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ChecksumFile is the name of the file, in the plugin directory, that lists
// the SHA-256 digests of the plugins that plugins.require_checksums lets
// discovery launch.
const ChecksumFile = "SHA256SUMS"

// FileSHA256 returns the SHA-256 digest of the file at path.
func FileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// ChecksumLine formats digest and name as sha256sum prints them, with two
// spaces between (text mode); the line ends without a newline. A name that
// holds a backslash or a newline is escaped as GNU sha256sum escapes it.
func ChecksumLine(digest []byte, name string) string {
	if strings.ContainsAny(name, "\\\n\r") {
		esc := strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r").Replace(name)
		return "\\" + hex.EncodeToString(digest) + "  " + esc
	}
	return hex.EncodeToString(digest) + "  " + name
}

// ParseChecksums reads a checksum list in the formats sha256sum writes:
// "<hex>  <name>" (text mode), "<hex> *<name>" (binary mode), a leading
// backslash for escaped names, and the BSD style "SHA256 (<name>) = <hex>"
// of sha256sum --tag. Blank lines and lines starting with # are ignored. A
// leading "./" of a name is dropped. It returns the digests by name and an
// error for each malformed line; the well-formed lines are used even when
// some are not.
func ParseChecksums(r io.Reader) (map[string][]byte, []error) {
	sums := map[string][]byte{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, digest, err := parseChecksumLine(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		if prev, dup := sums[name]; dup && !bytes.Equal(prev, digest) {
			errs = append(errs, fmt.Errorf("line %d: %q is listed again with another digest", n, name))
			delete(sums, name)
			continue
		}
		sums[name] = digest
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return sums, errs
}

func parseChecksumLine(line string) (name string, digest []byte, err error) {
	if rest, ok := strings.CutPrefix(line, "SHA256 ("); ok {
		i := strings.LastIndex(rest, ") = ")
		if i < 0 {
			return "", nil, errors.New(`want "SHA256 (NAME) = DIGEST"`)
		}
		name, hexDigest := rest[:i], rest[i+len(") = "):]
		digest, err = decodeDigest(hexDigest)
		if err != nil {
			return "", nil, err
		}
		name, err = cleanChecksumName(name, false)
		return name, digest, err
	}
	escaped := strings.HasPrefix(line, "\\")
	if escaped {
		line = line[1:]
	}
	hexDigest, rest, ok := strings.Cut(line, " ")
	if !ok || (!strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "*")) {
		return "", nil, errors.New(`want "DIGEST  NAME" or "DIGEST *NAME", as sha256sum prints them`)
	}
	if digest, err = decodeDigest(hexDigest); err != nil {
		return "", nil, err
	}
	name, err = cleanChecksumName(rest[1:], escaped)
	return name, digest, err
}

func decodeDigest(s string) ([]byte, error) {
	d, err := hex.DecodeString(s)
	if err != nil || len(d) != sha256.Size {
		return nil, fmt.Errorf("%q is not a SHA-256 digest (64 hexadecimal digits)", s)
	}
	return d, nil
}

// cleanChecksumName unescapes name if needed and drops a leading "./".
// Names of files in other directories are refused: the list speaks of the
// directory it is in.
func cleanChecksumName(name string, escaped bool) (string, error) {
	if escaped {
		var b strings.Builder
		for i := 0; i < len(name); i++ {
			if name[i] != '\\' || i+1 == len(name) {
				b.WriteByte(name[i])
				continue
			}
			i++
			switch name[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(name[i])
			}
		}
		name = b.String()
	}
	name = strings.TrimPrefix(name, "./")
	switch {
	case name == "":
		return "", errors.New("no file name")
	case strings.ContainsRune(name, '/'):
		return "", fmt.Errorf("%q is not a file of this directory: list plain file names", name)
	}
	return name, nil
}

// ChecksumError is a plugin binary whose SHA-256 digest is not the one it
// is pinned to. Relaunching does not help: the model is failed until the
// configuration or the binary changes.
type ChecksumError struct {
	Path     string
	Want     []byte
	Got      []byte // nil if the file could not be read
	Origin   string // where Want comes from: a model block or SHA256SUMS
	ReadFail error
}

func (e *ChecksumError) Error() string {
	if e.Got == nil {
		return fmt.Sprintf("plugin binary %s not launched: its checksum cannot be verified: %v", e.Path, e.ReadFail)
	}
	return fmt.Sprintf("plugin binary %s not launched: its SHA-256 digest is %s, but %s pins %s; "+
		"if the new binary is trusted, update the pin (modelhost checksum prints it)",
		e.Path, hex.EncodeToString(e.Got), e.Origin, hex.EncodeToString(e.Want))
}

// Permanent marks the error as one that relaunching does not cure.
func (e *ChecksumError) Permanent() bool { return true }
