package plugin

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// HostPIDEnv names the environment variable through which the host tells
// a plugin its process ID, so that the plugin can exit when the host is
// gone.
const HostPIDEnv = "MODELHOST_HOST_PID"

// parentPollInterval is how often a serving plugin checks that the host is
// still there.
const parentPollInterval = 500 * time.Millisecond

// processInfo is what the host watch needs to know about processes;
// tests replace it.
type processInfo struct {
	getppid func() int
	// alive reports whether a process with this PID exists; nil when it
	// cannot be known (the watch then relies on the parent PID alone).
	alive func(pid int) bool
}

// hostGone returns a function that reports whether the host that launched
// this process has gone, and why. A host that dies, even by SIGKILL, makes
// the kernel hand its children to another parent, so the parent PID
// changes. When the host is not the direct parent (a wrapper script that
// did not exec the plugin), hostPID, from the environment, is checked
// directly. A plugin started by hand (hostPID 0) is watched for its parent
// changing too.
func hostGone(hostPID int, procs processInfo) func() (bool, string) {
	parent := procs.getppid()
	return func() (bool, string) {
		if now := procs.getppid(); now != parent {
			return true, fmt.Sprintf("parent process %d is gone (the parent is now %d)", parent, now)
		}
		if hostPID > 0 && hostPID != parent && procs.alive != nil && !procs.alive(hostPID) {
			return true, fmt.Sprintf("host process %d is gone", hostPID)
		}
		return false, ""
	}
}

// watchHost polls gone every interval and, once it reports the host gone,
// writes why to w and calls exit. It never returns before that.
func watchHost(gone func() (bool, string), interval time.Duration, w io.Writer, exit func(code int)) {
	for {
		if g, why := gone(); g {
			fmt.Fprintf(w, "modelhost plugin exiting: %s\n", why)
			exit(1)
			return
		}
		time.Sleep(interval)
	}
}

// startHostWatch makes the serving process exit when the host that launched
// it is gone, so that a host killed with SIGKILL leaves no plugin behind.
func startHostWatch(stderr io.Writer) {
	if !hostWatchSupported {
		return
	}
	pid, _ := strconv.Atoi(os.Getenv(HostPIDEnv))
	gone := hostGone(pid, processInfo{getppid: os.Getppid, alive: processAlive})
	go watchHost(gone, parentPollInterval, stderr, os.Exit)
}
