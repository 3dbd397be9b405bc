//go:build linux

package launcher

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStat returns the fields of /proc/<pid>/stat that follow the command
// name: index 0 is the state, index 19 the start time.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return nil, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return fields, nil
}

// processStartTime returns when the process started, in clock ticks since
// boot: with the PID, it identifies a process across PID reuse.
func processStartTime(pid int) (uint64, error) {
	fields, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

func isZombie(pid int) bool {
	fields, err := procStat(pid)
	return err == nil && (fields[0] == "Z" || fields[0] == "X")
}
