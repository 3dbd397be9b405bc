//go:build unix

package launcher

import (
	"os/exec"
	"syscall"
)

// isolate puts the plugin in a process group of its own, so that a signal
// sent to the host's group (Ctrl-C in a terminal, `timeout`, a service
// manager's SIGTERM to the group) does not reach the plugin before the host
// has drained its requests. The host alone decides when a plugin stops.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
