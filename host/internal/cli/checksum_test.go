package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/host/internal/config"
	"github.com/modelhost/modelhost/host/internal/launcher"
)

func TestChecksum(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "iris"), filepath.Join(dir, "sentiment")
	for path, content := range map[string]string{a: "iris binary", b: "sentiment binary"} {
		if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sum := func(s string) string {
		d := sha256.Sum256([]byte(s))
		return hex.EncodeToString(d[:])
	}

	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"checksum", a, b}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr.String())
	}
	want := sum("iris binary") + "  iris\n" + sum("sentiment binary") + "  sentiment\n"
	if stdout.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", stdout.String(), want)
	}
	// The lines are a SHA256SUMS file as discovery reads it.
	sums, errs := launcher.ParseChecksums(&stdout)
	if len(errs) != 0 || hex.EncodeToString(sums["iris"]) != sum("iris binary") || len(sums) != 2 {
		t.Errorf("ParseChecksums(output) = %x, %v", sums, errs)
	}

	// --hcl prints an argument that a model block accepts.
	stdout.Reset()
	if code := Main(context.Background(), []string{"checksum", "--hcl", a}, &stdout, &stderr); code != exitOK {
		t.Fatalf("--hcl: exit %d; stderr: %s", code, stderr.String())
	}
	if want := fmt.Sprintf("sha256 = %q # %s\n", sum("iris binary"), a); stdout.String() != want {
		t.Errorf("--hcl output = %q, want %q", stdout.String(), want)
	}
	src := fmt.Sprintf("model \"iris\" {\n  command = %q\n  %s}\n", a, stdout.String())
	cfg, err := config.Parse([]byte(src), "config.hcl", dir)
	if err != nil {
		t.Fatalf("the printed line does not parse in a model block: %v\n%s", err, src)
	}
	if cfg.Models[0].SHA256 != sum("iris binary") {
		t.Errorf("sha256 = %q", cfg.Models[0].SHA256)
	}
}

func TestChecksumErrors(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"checksum", filepath.Join(dir, "missing"), dir, ok}, &stdout, &stderr)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	for _, want := range []string{"missing: no such file or directory", dir + ": not a regular file"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not say %q", stderr.String(), want)
		}
	}
	// The files that could be read are still printed.
	if !strings.HasSuffix(stdout.String(), "  ok\n") {
		t.Errorf("stdout = %q", stdout.String())
	}
	stderr.Reset()
	if code := Main(context.Background(), []string{"checksum"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("no files: exit %d, want %d", code, exitUsage)
	}
}
