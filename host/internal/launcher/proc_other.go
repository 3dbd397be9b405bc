//go:build !unix

package launcher

import (
	"errors"
	"io/fs"
)

func killGroup(int) {}

func processAlive(int) bool { return true }

func ownedByMe(fs.FileInfo) bool { return false }

func processStartTime(int) (uint64, error) {
	return 0, errors.New("process start times are not available on this system")
}
