//go:build unix && !linux

package launcher

import "errors"

// processStartTime is unknown without /proc: leftover plugins are then
// never killed by CleanStale, only their directories removed.
func processStartTime(int) (uint64, error) {
	return 0, errors.New("process start times are not available on this system")
}

func isZombie(int) bool { return false }
