package launcher

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// runtimeDirPrefix starts the name of every host's runtime directory:
// modelhost-<host pid>.
const runtimeDirPrefix = "modelhost-"

// pidFile names the file, in a runtime directory and in each of its launch
// directories, that records a process: "<pid> <start time>", the start time
// in the kernel's clock ticks since boot ("-" where unknown).
const pidFile = "pid"

// RuntimeDir is one host's directory for what its plugins leave on disk:
// $TMPDIR/modelhost-<pid>/. Each launch gets a numbered directory in it
// holding the plugin's Unix socket (go-plugin's PLUGIN_UNIX_SOCKET_DIR) and
// a pid file, so that a host started after this one was killed can remove
// the sockets and stop the plugins it left behind (see CleanStale).
type RuntimeDir struct {
	path string
	seq  atomic.Int64
}

// NewRuntimeDir creates this process's runtime directory under base
// (os.TempDir() if empty), replacing a leftover directory of the same name,
// and records this process in it.
func NewRuntimeDir(base string) (*RuntimeDir, error) {
	if base == "" {
		base = os.TempDir()
	}
	path := filepath.Join(base, runtimeDirPrefix+strconv.Itoa(os.Getpid()))
	// A directory of this name belongs to a dead host whose PID this
	// process now has.
	if err := os.RemoveAll(path); err != nil {
		return nil, fmt.Errorf("runtime directory: %w", err)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, fmt.Errorf("runtime directory: %w", err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		return nil, fmt.Errorf("runtime directory: %w", err)
	}
	if err := writePIDFile(path, os.Getpid()); err != nil {
		_ = os.RemoveAll(path)
		return nil, fmt.Errorf("runtime directory: %w", err)
	}
	return &RuntimeDir{path: path}, nil
}

// Path returns the directory's path.
func (d *RuntimeDir) Path() string { return d.path }

// Remove deletes the directory and everything in it. Call it once every
// plugin has stopped.
func (d *RuntimeDir) Remove() error { return os.RemoveAll(d.path) }

// newLaunchDir creates the directory of one launch.
func (d *RuntimeDir) newLaunchDir() (string, error) {
	dir := filepath.Join(d.path, strconv.FormatInt(d.seq.Add(1), 10))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

func writePIDFile(dir string, pid int) error {
	start := "-"
	if t, err := processStartTime(pid); err == nil {
		start = strconv.FormatUint(t, 10)
	}
	return os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(pid)+" "+start+"\n"), 0o600)
}

// readPIDFile returns the process recorded in dir's pid file; start is 0
// when its start time was not recorded.
func readPIDFile(dir string) (pid int, start uint64, err error) {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0, 0, err
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("malformed pid file %q", b)
	}
	pid, err = strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return 0, 0, fmt.Errorf("malformed pid file %q", b)
	}
	if fields[1] != "-" {
		if start, err = strconv.ParseUint(fields[1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("malformed pid file %q", b)
		}
	}
	return pid, start, nil
}

// sameProcess reports whether the process pid is running and is the one
// that was recorded with start time start. Without a recorded or readable
// start time it cannot tell a process from a later one that reuses its PID,
// and answers false for a plugin (do not kill a stranger) — callers pass
// whether a live PID alone is enough.
func sameProcess(pid int, start uint64, pidAloneEnough bool) bool {
	if !processAlive(pid) {
		return false
	}
	now, err := processStartTime(pid)
	if err != nil || start == 0 {
		return pidAloneEnough
	}
	return now == start
}

// CleanStale removes the runtime directories under base (os.TempDir() if
// empty) whose host is no longer running, after stopping the plugin
// processes still alive that such a host recorded, with their process
// groups. A plugin is stopped only if its PID and its start time both
// match the record, so that an unrelated process that now has the PID is
// never touched; where start times are unknown (systems without /proc),
// nothing is killed and only the directory is removed. Directories not
// owned by this user, symbolic links and this process's own directory are
// left alone. It returns the directories removed.
func CleanStale(base string, logger hclog.Logger) []string {
	if base == "" {
		base = os.TempDir()
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		pidText, ok := strings.CutPrefix(e.Name(), runtimeDirPrefix)
		if !ok {
			continue
		}
		hostPID, err := strconv.Atoi(pidText)
		if err != nil || hostPID <= 0 || hostPID == os.Getpid() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		info, err := os.Lstat(dir)
		if err != nil || !info.IsDir() || !ownedByMe(info) {
			continue
		}
		if pid, start, err := readPIDFile(dir); err == nil && pid == hostPID {
			if sameProcess(pid, start, true) {
				continue // that host is running
			}
		} else if processAlive(hostPID) {
			continue // cannot tell: leave it
		}
		stopLeftovers(dir, logger)
		if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			logger.Warn("cannot remove the runtime directory of a host that is gone", "dir", dir, "error", err)
			continue
		}
		logger.Info("removed the runtime directory of a host that is gone", "dir", dir)
		removed = append(removed, dir)
	}
	return removed
}

// stopLeftovers kills the process groups of the plugins recorded in the
// launch directories of dir that are still running.
func stopLeftovers(dir string, logger hclog.Logger) {
	launches, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, l := range launches {
		if !l.IsDir() {
			continue
		}
		pid, start, err := readPIDFile(filepath.Join(dir, l.Name()))
		if err != nil || !sameProcess(pid, start, false) {
			continue
		}
		killGroup(pid)
		logger.Warn("stopped a plugin left running by a host that is gone", "pid", pid, "dir", dir)
	}
}
