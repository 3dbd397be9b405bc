//go:build unix

package launcher

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// killGroup sends SIGKILL to the process group led by pid (plugins run in a
// group of their own, see isolate), and to pid itself in case it is not a
// group leader. It never signals group 0 or this process's own group.
func killGroup(pid int) {
	if pid <= 1 || pid == os.Getpid() {
		return
	}
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == syscall.Getpgrp() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// processAlive reports whether a process with this PID exists and has not
// exited (a zombie has).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !isZombie(pid)
}

// ownedByMe reports whether the file belongs to this process's user.
func ownedByMe(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
