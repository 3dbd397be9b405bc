//go:build !unix

package plugin

// hostWatchSupported is false where a process's parent PID does not change
// when the parent dies (Windows).
const hostWatchSupported = false

func processAlive(int) bool { return true }
