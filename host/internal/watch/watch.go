// Package watch notices when the plugin directory changes, so that the host
// can reload its models: operators deploy a model by dropping its plugin
// binary into the directory, replace it to upgrade it, and remove it to
// retire it.
//
// [Run] watches the directory (not its subdirectories) with fsnotify and
// reacts to files being created, written, removed, renamed and having their
// mode changed (chmod +x makes a file launchable). It calls back once per
// burst of changes, after the directory stayed quiet for a while, and the
// callback is expected to rescan the whole directory: the list of changed
// paths it receives is for logs and hints, never the whole truth, since
// events can be lost.
//
// # Uploads
//
// Names that start with "." are ignored, so that their events alone never
// cause a reload. Upload a binary under such a name and rename it into
// place when it is complete, for example:
//
//	scp model host:/plugins/.model.tmp
//	ssh host 'chmod +x /plugins/.model.tmp && mv /plugins/.model.tmp /plugins/model'
//
// The rename is atomic, so the host sees either the old binary or the
// whole new one. The file SHA256SUMS, which pins the binaries, is watched
// like the binaries, although it is not executable.
//
// # Incomplete files
//
// Whether another process still has a file open for writing cannot be
// learnt portably (inotify can tell when a writer closes a file; kqueue,
// Windows and FEN cannot). The defence is a stability check instead: before
// calling back, Run stats every changed file again and keeps waiting while
// its size or modification time differs from what it was at the file's last
// event. A writer that pauses for longer than Options.Debounce in the middle
// of a file can still be mistaken for one that finished; uploading under a
// dot name and renaming avoids the question. A regular file without any
// execute bit is not launchable, so its changes are logged and ignored until
// it is made executable (unless it was executable before: then it was
// served, and the host must learn that it no longer can be).
//
// # Missing directory
//
// If the directory does not exist, or is removed or renamed while watched,
// Run watches its parent for it to reappear, and calls back both when it
// disappears (its models are gone) and when it reappears. If the parent is
// missing too, Run checks once a second: fsnotify can only watch paths that
// exist, and watching every ancestor up to the first one that exists would
// mean keeping a chain of watches in step with renames anywhere along it,
// for a case (a mount that is not there yet, a typo in the configuration)
// where one stat a second costs nothing.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"
)

const (
	// DefaultDebounce is the quiet time used when Options.Debounce is not
	// positive.
	DefaultDebounce = 500 * time.Millisecond
	// DefaultMaxWait is the bound used when Options.MaxWait is not
	// positive.
	DefaultMaxWait = time.Minute

	// pollInterval is how often Run looks for the directory while its
	// parent does not exist either.
	pollInterval = time.Second
	// checksumFile pins the binaries of the directory (launcher.ChecksumFile);
	// it is watched although it is not executable.
	checksumFile = "SHA256SUMS"
	// relevant are the operations that can change what the directory
	// serves.
	relevant = fsnotify.Create | fsnotify.Write | fsnotify.Remove | fsnotify.Rename | fsnotify.Chmod
)

// Options configures Run.
type Options struct {
	// Debounce is the quiet time after the last change before onChange
	// runs; DefaultDebounce (500ms) if not positive.
	Debounce time.Duration
	// Logger receives the changes, the files ignored and the watcher's
	// errors; nil means hclog.NewNullLogger().
	Logger hclog.Logger
	// MaxWait bounds how long a file that keeps changing delays onChange;
	// DefaultMaxWait (1 minute) if not positive.
	MaxWait time.Duration
}

func (o Options) withDefaults() Options {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o
}

// Run watches dir until ctx ends, and calls onChange(ctx, changed) after the
// directory's content changed and then stayed quiet for opts.Debounce;
// changed lists the affected paths (sorted, deduped), and includes dir
// itself when the directory disappeared or reappeared, or when events were
// lost (fsnotify.ErrEventOverflow). onChange should rescan the whole
// directory rather than trust changed to be complete.
//
// onChange calls never overlap; changes during a call are batched into the
// next call. Run returns once the call in progress, if any, has returned,
// so onChange should give up when ctx ends.
//
// Run returns nil when ctx ends, or an error if watching cannot start at
// all: fsnotify fails, dir exists but is not a directory, or it or its
// parent cannot be watched. (Should fsnotify close its channels, which it
// does only when closed, Run would return an error too.) A watch that
// fails later, when the directory reappears, falls back to checking every
// second, with a Warn log.
func Run(ctx context.Context, dir string, opts Options, onChange func(ctx context.Context, changed []string)) error {
	return run(ctx, dir, opts, onChange, nil)
}

// run is Run; ready, if not nil, is called with the watcher once it
// watches, so that tests know when their changes will be seen.
func run(ctx context.Context, dir string, opts Options, onChange func(ctx context.Context, changed []string), ready func(*fsnotify.Watcher)) error {
	opts = opts.withDefaults()
	dir = filepath.Clean(dir)
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return fmt.Errorf("watch plugin directory %s: not a directory", dir)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch plugin directory %s: %w", dir, err)
	}
	defer fw.Close()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	l := &loop{
		dir:      dir,
		parent:   filepath.Dir(dir),
		opts:     opts,
		log:      opts.Logger.With("dir", dir),
		fw:       fw,
		onChange: onChange,
		timer:    timer,
		pending:  map[string]fileState{},
		execs:    map[string]bool{},
	}
	defer l.stopPolling()
	m, err := l.arm()
	if err != nil {
		return fmt.Errorf("watch plugin directory %s: %w", dir, err)
	}
	l.enter(m)
	if m == modeDir {
		for _, p := range l.entries() {
			if st := statFile(p); st.executable() {
				l.execs[p] = true
			}
		}
	}
	if ready != nil {
		ready(fw)
	}
	return l.run(ctx)
}

// mode says how the loop learns of the directory's changes.
type mode int

const (
	modeNone   mode = iota
	modeDir         // watching the directory
	modeParent      // the directory is missing: watching its parent
	modePoll        // the parent is missing too: checking every second
)

// loop is the state of one Run. Only Run's goroutine uses it.
type loop struct {
	dir, parent string
	opts        Options
	log         hclog.Logger
	fw          *fsnotify.Watcher
	onChange    func(context.Context, []string)

	mode mode
	poll *time.Ticker // while mode is modePoll

	// pending are the paths changed since the last call, each with what a
	// stat said at its last event.
	pending map[string]fileState
	// first and last are when the pending burst began and when its last
	// change was seen.
	first, last time.Time
	timer       *time.Timer // fires when pending may be due
	due         bool        // pending became due while onChange ran
	running     chan struct{}

	// execs are the paths last seen as executable regular files: served
	// binaries, whose losing the execute bit is a change.
	execs map[string]bool
}

func (l *loop) run(ctx context.Context) error {
	for {
		var pollC <-chan time.Time
		if l.poll != nil {
			pollC = l.poll.C
		}
		select {
		case <-ctx.Done():
			l.wait()
			return nil
		case ev, ok := <-l.fw.Events:
			if !ok {
				l.wait()
				return errors.New("watch plugin directory: fsnotify stopped")
			}
			l.event(ev)
		case err, ok := <-l.fw.Errors:
			if !ok {
				l.wait()
				return errors.New("watch plugin directory: fsnotify stopped")
			}
			l.error(err)
		case <-l.timer.C:
			l.fire(ctx)
		case <-pollC:
			l.rearm()
		case <-l.running:
			l.running = nil
			if l.due {
				l.fire(ctx)
			}
		}
	}
}

// wait returns once the onChange call in progress, if any, has returned.
func (l *loop) wait() {
	if l.running != nil {
		<-l.running
		l.running = nil
	}
}

func (l *loop) event(ev fsnotify.Event) {
	if ev.Op&relevant == 0 {
		return
	}
	name := filepath.Clean(ev.Name)
	switch l.mode {
	case modeDir:
		if name == l.dir {
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				l.log.Info("plugin directory disappeared", "op", ev.Op.String())
				l.mode = modeNone
				l.touch(l.dir)
				l.rearm()
			}
			// Other events on the directory itself (kqueue and Windows
			// report a Write for every entry added) say nothing that
			// the events of its entries do not.
			return
		}
		if filepath.Dir(name) != l.dir {
			return // a late event of the parent's watch
		}
		if strings.HasPrefix(filepath.Base(name), ".") {
			l.log.Trace("ignoring event of a hidden file", "path", name, "op", ev.Op.String())
			return
		}
		l.log.Debug("plugin directory event", "path", name, "op", ev.Op.String())
		l.touch(name)
	case modeParent:
		if name == l.dir || name == l.parent {
			l.log.Debug("plugin directory parent event", "path", name, "op", ev.Op.String())
			l.rearm()
		}
	}
}

func (l *loop) error(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		l.log.Warn("events of the plugin directory were lost; reloading it all", "error", err)
		l.touch(l.dir)
		return
	}
	l.log.Warn("watching the plugin directory", "error", err)
}

// touch adds path to the pending burst and delays the call.
func (l *loop) touch(path string) {
	now := time.Now()
	if len(l.pending) == 0 {
		l.first = now
	}
	l.pending[path] = statFile(path)
	l.last = now
	l.schedule(now)
}

// schedule sets the timer for when the pending burst is due: after the
// quiet time, but no later than the maximum wait.
func (l *loop) schedule(now time.Time) {
	at := l.last.Add(l.opts.Debounce)
	if limit := l.first.Add(l.opts.MaxWait); limit.Before(at) {
		at = limit
	}
	l.timer.Reset(max(at.Sub(now), 0))
}

// fire calls onChange with the pending burst if it is due: quiet, and its
// files stable, or waiting for longer than the maximum wait.
func (l *loop) fire(ctx context.Context) {
	if len(l.pending) == 0 || ctx.Err() != nil {
		return
	}
	if l.running != nil {
		l.due = true
		return
	}
	l.due = false
	now := time.Now()
	if !l.quiet(now) {
		if now.Sub(l.first) < l.opts.MaxWait {
			l.schedule(now)
			return
		}
		l.log.Warn("plugin directory kept changing for longer than the maximum wait; reloading anyway",
			"max_wait", l.opts.MaxWait, "paths", l.pendingPaths())
	}
	changed := l.launchable()
	clear(l.pending)
	if len(changed) == 0 {
		return
	}
	l.log.Info("plugin directory changed", "paths", changed)
	done := make(chan struct{})
	l.running = done
	go func() {
		defer close(done)
		l.onChange(ctx, changed)
	}()
}

// quiet reports whether nothing changed for the quiet time: no event, and
// every pending file that exists has the size and modification time it had
// at its last event. A file found changed counts as an event now.
func (l *loop) quiet(now time.Time) bool {
	if now.Sub(l.last) < l.opts.Debounce {
		return false
	}
	stable := true
	for p, was := range l.pending {
		if is := statFile(p); !is.same(was) {
			l.log.Debug("plugin file still changing", "path", p, "size", is.size)
			l.pending[p] = is
			stable = false
		}
	}
	if !stable {
		l.last = now
	}
	return stable
}

// launchable returns the sorted pending paths whose change matters: all
// but those of regular files without an execute bit, which are logged, and
// ignored until they are made executable, unless they were executable
// before.
func (l *loop) launchable() []string {
	var changed []string
	for p := range l.pending {
		st := statFile(p)
		switch {
		case !st.exists || !st.mode.IsRegular() || filepath.Base(p) == checksumFile:
			changed = append(changed, p)
		case st.executable():
			changed = append(changed, p)
		case l.execs[p]:
			l.log.Info("plugin file is no longer executable; it will not be served", "path", p)
			changed = append(changed, p)
		default:
			l.log.Info("plugin file is not executable; ignored until it is (chmod +x it)", "path", p)
		}
		if st.executable() {
			l.execs[p] = true
		} else {
			delete(l.execs, p)
		}
	}
	slices.Sort(changed)
	return changed
}

func (l *loop) pendingPaths() []string {
	paths := make([]string, 0, len(l.pending))
	for p := range l.pending {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

// rearm watches the directory, or its parent, or polls, whichever is
// possible now. When the directory has (re)appeared, its entries are
// pending, since their events may have come before the watch.
func (l *loop) rearm() {
	prev := l.mode
	m, err := l.arm()
	if err != nil {
		if prev != modePoll {
			l.log.Warn("cannot watch the plugin directory; checking every second", "error", err)
		}
		m = modePoll
	}
	l.enter(m)
	if m == modeDir && prev != modeDir {
		l.log.Info("plugin directory appeared")
		l.touch(l.dir)
		for _, p := range l.entries() {
			l.touch(p)
		}
	}
}

// arm sets up the watch that suits what exists now and returns its mode.
// It fails if a path that exists cannot be watched.
func (l *loop) arm() (mode, error) {
	for _, p := range l.fw.WatchList() {
		_ = l.fw.Remove(p) // already gone, if it was removed
	}
	// The directory may come and go while we look: try a few times, then
	// let polling sort it out.
	for range 3 {
		if isDir(l.dir) {
			err := l.fw.Add(l.dir)
			if err == nil {
				return modeDir, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return modePoll, err
			}
			continue
		}
		if !isDir(l.parent) {
			return modePoll, nil
		}
		err := l.fw.Add(l.parent)
		if errors.Is(err, fs.ErrNotExist) {
			return modePoll, nil
		}
		if err != nil {
			return modePoll, fmt.Errorf("watch parent directory: %w", err)
		}
		if !isDir(l.dir) {
			return modeParent, nil
		}
		// It appeared before the parent's watch began: watch it instead.
		_ = l.fw.Remove(l.parent)
	}
	return modePoll, nil
}

// enter switches to mode m, and logs the change.
func (l *loop) enter(m mode) {
	if m == l.mode {
		return
	}
	switch m {
	case modeDir:
		l.log.Debug("watching the plugin directory")
	case modeParent:
		l.log.Info("plugin directory does not exist; watching its parent for it to appear", "parent", l.parent)
	case modePoll:
		l.log.Info("neither the plugin directory nor its parent exists; checking every second", "parent", l.parent)
	}
	if m == modePoll && l.poll == nil {
		l.poll = time.NewTicker(pollInterval)
	}
	if m != modePoll {
		l.stopPolling()
	}
	l.mode = m
}

func (l *loop) stopPolling() {
	if l.poll != nil {
		l.poll.Stop()
		l.poll = nil
	}
}

// entries returns the paths of the directory's entries but the hidden
// ones; none if it cannot be read.
func (l *loop) entries() []string {
	des, err := os.ReadDir(l.dir)
	if err != nil {
		l.log.Debug("cannot read the plugin directory", "error", err)
	}
	var paths []string
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), ".") {
			paths = append(paths, filepath.Join(l.dir, de.Name()))
		}
	}
	return paths
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// fileState is what a stat (following symbolic links) says of a path.
type fileState struct {
	exists bool
	size   int64
	mod    time.Time
	mode   fs.FileMode
}

// statFile stats path. A path that cannot be stated counts as missing:
// there is nothing to wait for, and the rescan will report it.
func statFile(path string) fileState {
	info, err := os.Stat(path)
	if err != nil {
		return fileState{}
	}
	return fileState{exists: true, size: info.Size(), mod: info.ModTime(), mode: info.Mode()}
}

// same reports whether s and t show the same content: same existence, size
// and modification time.
func (s fileState) same(t fileState) bool {
	return s.exists == t.exists && s.size == t.size && s.mod.Equal(t.mod)
}

// executable reports whether s is a regular file with an execute bit.
func (s fileState) executable() bool {
	return s.exists && s.mode.IsRegular() && s.mode.Perm()&0o111 != 0
}
