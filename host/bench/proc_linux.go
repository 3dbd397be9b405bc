package main

import (
	"os/exec"
	"runtime"
	"syscall"
)

// dieWithParent makes the kernel send the process SIGTERM when the
// benchmark dies, so that an interrupted run leaves no server behind (the
// host then stops its plugins).
//
// The kernel sends the signal when the thread that started the process
// exits, not the process (see PR_SET_PDEATHSIG in prctl(2)), and Go may
// run a goroutine on any thread: startCmd starts such processes from one
// goroutine locked to a thread that lives as long as the benchmark.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

var spawns = make(chan spawnRequest)

func init() {
	go func() {
		runtime.LockOSThread() // never unlocked: the thread outlives every child
		for r := range spawns {
			r.done <- r.cmd.Start()
		}
	}()
}

// startCmd starts cmd from the benchmark's spawning thread.
func startCmd(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	spawns <- spawnRequest{cmd: cmd, done: done}
	return <-done
}
