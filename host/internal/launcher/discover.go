package launcher

import (
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
}

// Skipped is a file in the plugin directory that is not launched, with the
// reason.
type Skipped struct {
	Path   string
	Reason string
}

// Discover returns the specs of the explicitly configured models followed by
// those of the executable regular files in cfg.Plugins.Directory (sorted by
// name), and the files it skipped. A binary that a model block already
// names is not launched a second time. A missing directory is not an error;
// an unreadable one is.
func Discover(cfg *config.Config) ([]Spec, []Skipped, error) {
	var specs []Spec
	seen := map[string]bool{}
	for _, m := range cfg.Models {
		specs = append(specs, Spec{
			Name:           m.Name,
			Command:        m.Command,
			Args:           m.Args,
			Env:            m.Environ(),
			PredictTimeout: m.PredictTimeout,
			Origin:         fmt.Sprintf("model %q at %s", m.Name, m.DeclRange),
		})
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
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
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
		specs = append(specs, Spec{
			Name:           e.Name(),
			Command:        path,
			Env:            []string{},
			PredictTimeout: cfg.Plugins.PredictTimeout,
			Origin:         "plugin directory " + dir,
		})
	}
	return specs, skipped, nil
}

// canonical resolves symbolic links so that one binary reached by two paths
// is recognised.
func canonical(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	return filepath.Clean(path)
}
