// Package logsink writes the host's log output without making requests
// wait for it.
//
// The host logs one access line per request. Written directly, each line
// is a write system call made while the request is still being answered,
// under hclog's lock, so that concurrent requests queue behind one
// another's writes, and whatever reads the log (journald, a pipe, a
// terminal) is woken once per line. A Writer instead queues lines below
// warning level and writes them from one goroutine, as many as have
// queued up in one call: the lines a busy server logs cost a memory copy
// each on the request path, and a few writes per batch off it.
//
// Warnings and errors are not queued: they are written before the call
// that logs them returns, after every line queued before them, so that the
// last words of a host that is about to fail are on the output. Order is
// kept across all lines. When the queue holds more than its limit, logging
// waits for the writes rather than dropping lines.
//
// hclog hands a Writer each line with its level (hclog.LevelWriter); a
// plain Write, without a level, is written at once like a warning.
package logsink

import (
	"io"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// DefaultMaxQueued is the default limit, in bytes, of the lines queued and
// not yet written: a few thousand access lines.
const DefaultMaxQueued = 1 << 20

// maxKeptBuffer is the largest buffer kept for reuse between batches.
const maxKeptBuffer = 64 << 10

// Writer queues log lines for a goroutine that writes them to an
// underlying writer. It implements io.Writer and hclog.LevelWriter. Close
// writes what is queued and stops the goroutine.
type Writer struct {
	out       io.Writer
	maxQueued int

	// writing serialises writes to out; it is taken before mu by whoever
	// takes the queue, so that batches reach out in the order they were
	// queued.
	writing sync.Mutex

	mu     sync.Mutex
	queue  []byte // lines not yet written
	spare  []byte // an empty buffer to swap with queue
	closed bool
	err    error // the first error of a write to out

	wake chan struct{} // a token when the queue gained lines
	done chan struct{} // closed when the goroutine has returned
}

var (
	_ io.Writer         = (*Writer)(nil)
	_ hclog.LevelWriter = (*Writer)(nil)
)

// New returns a Writer to out that queues at most maxQueued bytes
// (DefaultMaxQueued if maxQueued is not positive), and starts its goroutine.
func New(out io.Writer, maxQueued int) *Writer {
	if maxQueued <= 0 {
		maxQueued = DefaultMaxQueued
	}
	w := &Writer{
		out:       out,
		maxQueued: maxQueued,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	go w.run()
	return w
}

// LevelWrite implements hclog.LevelWriter: a line below hclog.Warn is
// queued, any other is written with Write.
func (w *Writer) LevelWrite(level hclog.Level, p []byte) (int, error) {
	if level >= hclog.Warn || level == hclog.NoLevel {
		return w.Write(p)
	}
	w.mu.Lock()
	if w.closed || len(w.queue)+len(p) > w.maxQueued {
		w.mu.Unlock()
		return w.Write(p)
	}
	w.queue = append(w.queue, p...)
	select {
	case w.wake <- struct{}{}:
	default: // the goroutine has a token already
	}
	w.mu.Unlock()
	return len(p), nil
}

// Write writes what is queued, then p, before it returns.
func (w *Writer) Write(p []byte) (int, error) {
	w.writing.Lock()
	defer w.writing.Unlock()
	if err := w.writeQueuedLocked(); err != nil {
		return 0, err
	}
	return w.out.Write(p)
}

// Close writes what is queued, stops the goroutine and returns the first
// error of a write to the underlying writer, if any. Lines logged after
// Close are written at once. Close does not close the underlying writer.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.wake)
	}
	w.mu.Unlock()
	<-w.done
	w.writing.Lock()
	defer w.writing.Unlock()
	_ = w.writeQueuedLocked()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// run writes the queue whenever it gains lines, until Close.
func (w *Writer) run() {
	defer close(w.done)
	for range w.wake {
		w.writing.Lock()
		_ = w.writeQueuedLocked()
		w.writing.Unlock()
	}
}

// writeQueuedLocked writes the queued lines, if any, in one write. The
// caller holds w.writing.
func (w *Writer) writeQueuedLocked() error {
	w.mu.Lock()
	if len(w.queue) == 0 {
		w.mu.Unlock()
		return nil
	}
	batch := w.queue
	w.queue, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	_, err := w.out.Write(batch)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && w.err == nil {
		w.err = err
	}
	// Keep the buffer for the next batch unless a burst made it large.
	if cap(batch) <= maxKeptBuffer {
		w.spare = batch[:0]
	}
	return err
}
