//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing outside Linux, where the benchmark does not
// run: it reads /proc.
func dieWithParent(*exec.Cmd) {}

// startCmd starts cmd.
func startCmd(cmd *exec.Cmd) error { return cmd.Start() }
