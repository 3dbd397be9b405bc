package launcher

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/host/internal/config"
)

func digestOf(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

func hexOf(s string) string { return hex.EncodeToString(digestOf(s)) }

func TestParseChecksums(t *testing.T) {
	a, b, c, d, e := hexOf("a"), hexOf("b"), hexOf("c"), hexOf("d"), hexOf("e")
	src := strings.Join([]string{
		a + "  iris",                        // text mode
		b + " *sentiment",                   // binary mode
		"# a comment",                       //
		"",                                  //
		"SHA256 (penguin-size) = " + c,      // BSD style, sha256sum --tag
		"\\" + d + "  odd\\nname\\\\x",      // escaped name
		strings.ToUpper(e) + "  ./dotted\r", // upper case, ./ prefix, CRLF
		"abc  short",                        // bad digest
		a + " oneSpace",                     // neither text nor binary mode
		a + "  sub/dir",                     // another directory
		a + "  ",                            // no name
		"SHA256 (broken = " + a,             // bad BSD line
	}, "\n")
	sums, errs := ParseChecksums(strings.NewReader(src))
	want := map[string][]byte{
		"iris":         digestOf("a"),
		"sentiment":    digestOf("b"),
		"penguin-size": digestOf("c"),
		"odd\nname\\x": digestOf("d"),
		"dotted":       digestOf("e"),
	}
	if diff := cmp.Diff(want, sums); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	wantErrs := []string{
		`line 8: "abc" is not a SHA-256 digest (64 hexadecimal digits)`,
		`line 9: want "DIGEST  NAME" or "DIGEST *NAME", as sha256sum prints them`,
		`line 10: "sub/dir" is not a file of this directory: list plain file names`,
		`line 11: no file name`,
		`line 12: want "SHA256 (NAME) = DIGEST"`,
	}
	if diff := cmp.Diff(wantErrs, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestParseChecksumsConflict(t *testing.T) {
	src := hexOf("a") + "  iris\n" + hexOf("a") + "  iris\n" + hexOf("b") + "  iris\n"
	sums, errs := ParseChecksums(strings.NewReader(src))
	if _, ok := sums["iris"]; ok || len(errs) != 1 || !strings.Contains(errs[0].Error(), "listed again with another digest") {
		t.Errorf("sums = %x, errs = %v; want iris dropped for its two digests", sums, errs)
	}
}

func TestChecksumLineRoundTrip(t *testing.T) {
	for _, name := range []string{"iris", "with space", "back\\slash", "new\nline"} {
		line := ChecksumLine(digestOf(name), name)
		sums, errs := ParseChecksums(strings.NewReader(line + "\n"))
		if len(errs) != 0 || !cmp.Equal(sums[name], digestOf(name)) {
			t.Errorf("ChecksumLine(%q) = %q parses to %x, %v", name, line, sums, errs)
		}
	}
}

func TestChecksumMismatchMessage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "iris")
	if err := os.WriteFile(path, []byte("new binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Name: "iris", Command: path, SHA256: digestOf("old binary"), ChecksumOrigin: "the sha256 of model \"iris\" (config.hcl:3,1-13)"}
	err := checksumError(spec, nil)
	msg := err.Error()
	for _, want := range []string{path, hexOf("new binary"), hexOf("old binary"), "config.hcl:3,1-13", "modelhost checksum"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
	if !Permanent(err) {
		t.Error("a checksum mismatch is not permanent")
	}
	if strings.Index(msg, hexOf("new binary")) > strings.Index(msg, hexOf("old binary")) {
		t.Errorf("message %q: want the actual digest, then the pinned one", msg)
	}
}

func TestDiscoverRequireChecksums(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"iris": "iris", "sentiment": "sentiment", "unlisted": "x"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sums := hexOf("iris") + "  iris\n" + hexOf("tampered") + " *sentiment\nnot a line\n"
	// Executable or not, SHA256SUMS is never a plugin.
	if err := os.WriteFile(filepath.Join(dir, ChecksumFile), []byte(sums), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Plugins.Directory = dir
	cfg.Plugins.RequireChecksums = true
	cfg.Models = []config.Model{{Name: "pinned", Command: "/opt/pinned", SHA256: hexOf("pinned")}}
	specs, skipped, err := Discover(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range specs {
		got[s.Name] = hex.EncodeToString(s.SHA256) + " from " + s.ChecksumOrigin
	}
	want := map[string]string{
		"pinned":    hexOf("pinned") + ` from the sha256 of model "pinned" (:0,0-0)`,
		"iris":      hexOf("iris") + " from " + filepath.Join(dir, ChecksumFile),
		"sentiment": hexOf("tampered") + " from " + filepath.Join(dir, ChecksumFile), // refused at launch
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pinned specs (-want +got):\n%s", diff)
	}
	var reasons []string
	for _, s := range skipped {
		reasons = append(reasons, filepath.Base(s.Path)+": "+s.Reason)
	}
	joined := strings.Join(reasons, "\n")
	for _, want := range []string{"SHA256SUMS: malformed line ignored: line 3", "unlisted: not listed in", "modelhost checksum"} {
		if !strings.Contains(joined, want) {
			t.Errorf("skipped:\n%s\nwant a reason containing %q", joined, want)
		}
	}

	// Without the file, nothing of the directory is launched.
	if err := os.Remove(filepath.Join(dir, ChecksumFile)); err != nil {
		t.Fatal(err)
	}
	specs, skipped, _ = Discover(cfg)
	if len(specs) != 1 || !strings.Contains(skipped[0].Reason, "missing, so no plugin of the directory is launched") {
		t.Errorf("without SHA256SUMS: specs %v, skipped %v", specs, skipped)
	}
}
