package launcher

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/modelhost/modelhost/host/internal/config"
)

// Spec says how to start one plugin.
type Spec struct {
	// Key identifies the plugin across reloads: "model NAME" for a model
	// block, "file PATH" for a binary discovered in the plugin directory.
	Key string
	// Name identifies the plugin in logs: the model block's label, or the
	// file name of a discovered binary.
	Name string
	// Command is the absolute path of the plugin binary.
	Command string
	// Args are passed to the binary.
	Args []string
	// Env is the plugin's whole environment, as "KEY=value" strings.
	Env []string
	// PredictTimeout bounds each Predict call to the model.
	PredictTimeout time.Duration
	// Origin says where the spec came from, for log lines: a config file
	// position or the plugin directory.
	Origin string
	// SHA256, if not nil, pins the binary: every launch first checks that
	// the file has this SHA-256 digest, and refuses to run it otherwise.
	SHA256 []byte
	// ChecksumOrigin says where SHA256 comes from, for error messages.
	ChecksumOrigin string
}

// Skipped is a file in the plugin directory that is not launched, with the
// reason.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Discover returns the specs of the explicitly configured models followed by
// those of the executable regular files in cfg.Plugins.Directory (sorted by
// name), and the files it skipped. A binary that a model block already
// names is not launched a second time. A missing directory is not an error;
// an unreadable one is.
//
// With cfg.Plugins.RequireChecksums, only the files listed in the
// directory's SHA256SUMS are launched, each pinned to its digest there.
// The file SHA256SUMS itself is never launched.
func Discover(cfg *config.Config) ([]Spec, []Skipped, error) {
	var specs []Spec
	seen := map[string]bool{}
	for _, m := range cfg.Models {
		spec := Spec{
			Key:            "model " + m.Name,
			Name:           m.Name,
			Command:        m.Command,
			Args:           m.Args,
			Env:            m.Environ(),
			PredictTimeout: m.PredictTimeout,
			Origin:         fmt.Sprintf("model %q at %s", m.Name, m.DeclRange),
		}
		if m.SHA256 != "" {
			spec.SHA256, _ = hex.DecodeString(m.SHA256) // validated by config
			spec.ChecksumOrigin = fmt.Sprintf("the sha256 of model %q (%s)", m.Name, m.DeclRange)
		}
		specs = append(specs, spec)
		seen[canonical(m.Command)] = true
	}
	dir := cfg.Plugins.Directory
	if dir == "" {
		return specs, nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return specs, nil, nil
	}
	if err != nil {
		return specs, nil, fmt.Errorf("read plugin directory: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var skipped []Skipped
	var sums map[string][]byte
	sumsPath := filepath.Join(dir, ChecksumFile)
	if cfg.Plugins.RequireChecksums {
		sums, skipped = readChecksumFile(sumsPath)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") || e.Name() == ChecksumFile {
			continue // editor swap files, partial downloads, .DS_Store
		}
		info, err := os.Stat(path) // follows symbolic links
		switch {
		case err != nil:
			skipped = append(skipped, Skipped{path, fmt.Sprintf("cannot stat: %v", err)})
			continue
		case info.IsDir():
			continue
		case !info.Mode().IsRegular():
			skipped = append(skipped, Skipped{path, "not a regular file"})
			continue
		case info.Mode().Perm()&0o111 == 0:
			skipped = append(skipped, Skipped{path, "not executable (chmod +x it to serve it)"})
			continue
		}
		if seen[canonical(path)] {
			continue
		}
		spec := Spec{
			Key:            "file " + path,
			Name:           e.Name(),
			Command:        path,
			Env:            []string{},
			PredictTimeout: cfg.Plugins.PredictTimeout,
			Origin:         "plugin directory " + dir,
		}
		if cfg.Plugins.RequireChecksums {
			digest, ok := sums[e.Name()]
			if !ok {
				skipped = append(skipped, Skipped{path, "not listed in " + sumsPath + " (plugins.require_checksums is true); " +
					"if it is trusted, add the line that \"modelhost checksum " + path + "\" prints"})
				continue
			}
			spec.SHA256 = digest
			spec.ChecksumOrigin = sumsPath
		}
		specs = append(specs, spec)
	}
	return specs, skipped, nil
}

// readChecksumFile reads the SHA256SUMS at path. Its problems are reported
// as skipped entries, so that the operator sees them and the lines that are
// well formed still count.
func readChecksumFile(path string) (map[string][]byte, []Skipped) {
	f, err := os.Open(path)
	if err != nil {
		reason := fmt.Sprintf("cannot read it (%v), so no plugin of the directory is launched (plugins.require_checksums is true)", err)
		if errors.Is(err, fs.ErrNotExist) {
			reason = "missing, so no plugin of the directory is launched (plugins.require_checksums is true); create it with sha256sum or modelhost checksum"
		}
		return nil, []Skipped{{path, reason}}
	}
	defer f.Close()
	sums, errs := ParseChecksums(f)
	var skipped []Skipped
	for _, err := range errs {
		skipped = append(skipped, Skipped{path, "malformed line ignored: " + err.Error()})
	}
	return sums, skipped
}

// canonical resolves symbolic links so that one binary reached by two paths
// is recognised.
func canonical(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	return filepath.Clean(path)
}
