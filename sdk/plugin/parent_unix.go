//go:build unix

package plugin

import (
	"errors"
	"syscall"
)

// hostWatchSupported says whether a plugin can notice that its host is
// gone: on Unix, orphans are handed to another parent.
const hostWatchSupported = true

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
