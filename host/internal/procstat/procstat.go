// Package procstat reads facts about processes from Linux's /proc:
// resident memory, CPU time, and the children of a process. The host
// exports its plugins' resident memory as a metric; the benchmark reports
// all of them.
package procstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Memory is a process's memory use, in bytes, from /proc/PID/status and
// /proc/PID/smaps_rollup.
type Memory struct {
	// RSS is VmRSS: resident memory now.
	RSS int64 `json:"rss_bytes"`
	// HWM is VmHWM: the largest RSS so far.
	HWM int64 `json:"hwm_bytes"`
	// Anon is RssAnon: the resident memory that is the process's own
	// (heap, stacks, runtime); File is RssFile: resident pages of mapped
	// files, mostly the executable, which processes running the same
	// binary share.
	Anon int64 `json:"rss_anon_bytes"`
	File int64 `json:"rss_file_bytes"`
	// PSS is the proportional set size: each page shared with n processes
	// counts 1/n. Summed over processes it is their real footprint. 0 if
	// unknown.
	PSS int64 `json:"pss_bytes"`
}

// ReadMemory returns the memory use of process pid.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	m, err := parseStatus(b)
	if err != nil {
		return Memory{}, err
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		m.PSS = kBField(b, "Pss")
	}
	return m, nil
}

// ResidentMemory returns VmRSS, the resident memory of process pid in
// bytes. It reads only /proc/PID/status, which is cheap whatever the size
// of the process, where ReadMemory also reads smaps_rollup, which walks
// every mapping.
func ResidentMemory(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	rss := kBField(b, "VmRSS")
	if rss == 0 {
		return 0, fmt.Errorf("status of %d: no VmRSS (a kernel thread or a zombie?)", pid)
	}
	return rss, nil
}

// kBField returns the value of the "key: N kB" line of b in bytes, or 0.
func kBField(b []byte, key string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n << 10
		}
	}
	return 0
}

func parseStatus(b []byte) (Memory, error) {
	var m Memory
	if m.RSS = kBField(b, "VmRSS"); m.RSS == 0 {
		return Memory{}, errors.New("status: no VmRSS (a kernel thread or a zombie?)")
	}
	m.HWM = kBField(b, "VmHWM")
	m.Anon = kBField(b, "RssAnon")
	m.File = kBField(b, "RssFile")
	return m, nil
}

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// CPUTime returns the CPU time process pid has used so far, in user and
// kernel mode, all its threads together (10ms resolution).
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPUTime(b)
}

func parseCPUTime(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:])) // state ppid ... utime(11) stime(12)
	if len(f) < 13 {
		return 0, errors.New("stat: too few fields")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// Children returns the process IDs whose parent is pid, sorted.
func Children(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		if ppid, ok := parentOf(b); ok && ppid == pid {
			kids = append(kids, child)
		}
	}
	slices.Sort(kids)
	return kids, nil
}

// parentOf returns the ppid field of a /proc/PID/stat line: the second
// field after the command name, which is in parentheses and may itself
// hold spaces and parentheses.
func parentOf(stat []byte) (int, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:])) // state ppid pgrp ...
	if len(f) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil
}

// Env returns the value of the environment variable key of process pid as
// it was when the process started, or "".
func Env(pid int, key string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return ""
	}
	for kv := range bytes.SplitSeq(b, []byte{0}) {
		if k, v, ok := bytes.Cut(kv, []byte{'='}); ok && string(k) == key {
			return string(v)
		}
	}
	return ""
}

// Exe returns the base name of process pid's executable, or "".
func Exe(pid int) string {
	p, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(filepath.Base(p), " (deleted)")
}

// CPUModel returns the "model name" of the first processor in
// /proc/cpuinfo, or "unknown".
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// MemTotal returns MemTotal from /proc/meminfo in bytes, or 0.
func MemTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// LoadAvg returns the 1, 5 and 15 minute load averages from /proc/loadavg
// as the kernel writes them, such as "0.52 0.61 0.70", or "unknown".
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
