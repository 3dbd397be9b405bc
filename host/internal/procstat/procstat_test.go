package procstat

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	status := "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nRssAnon:\t     256 kB\nRssFile:\t     768 kB\nThreads:\t3\n"
	m, err := parseStatus([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Memory{RSS: 1 << 20, HWM: 2 << 20, Anon: 256 << 10, File: 768 << 10}); m != want {
		t.Errorf("parseStatus = %+v, want %+v", m, want)
	}
	if _, err := parseStatus([]byte("Name:\tkthreadd\n")); err == nil {
		t.Error("parseStatus(no VmRSS): got no error")
	}
}

func TestParentOf(t *testing.T) {
	for _, tt := range []struct {
		stat string
		want int
	}{
		{"42 (bash) S 7 42 42 0", 7},
		{"43 (a) b (c)) R 1234 1 1", 1234},
		{"44 (x y) Z 1 0", 1},
	} {
		if got, ok := parentOf([]byte(tt.stat)); !ok || got != tt.want {
			t.Errorf("parentOf(%q) = %d, %v; want %d", tt.stat, got, ok, tt.want)
		}
	}
	if _, ok := parentOf([]byte("garbage")); ok {
		t.Error("parentOf(garbage): got ok")
	}
}

func TestParseCPUTime(t *testing.T) {
	stat := "42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 4 0 1234 5678 9"
	got, err := parseCPUTime([]byte(stat))
	if err != nil || got != 2870*time.Millisecond {
		t.Errorf("parseCPUTime = %v, %v; want 2.87s", got, err)
	}
	if _, err := parseCPUTime([]byte("42 (a) S 1")); err == nil {
		t.Error("parseCPUTime(short): got no error")
	}
}

func TestLiveProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.HWM < m.RSS || m.Anon <= 0 || m.File <= 0 || m.PSS <= 0 {
		t.Errorf("ReadMemory(self) = %+v, want 0 < RSS <= HWM and Anon, File, PSS > 0", m)
	}
	if rss, err := ResidentMemory(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("ResidentMemory(self) = %d, %v; want > 0", rss, err)
	}
	if _, err := ResidentMemory(-1); err == nil {
		t.Error("ResidentMemory(-1): got no error")
	}
	cmd := exec.Command("sleep", "10")
	cmd.Env = []string{"PROCSTAT_TEST=yes"}
	if err := cmd.Start(); err != nil {
		t.Skip("cannot start sleep:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	kids, err := Children(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("Children(self) = %v, want it to hold %d", kids, cmd.Process.Pid)
	}
	if got := Env(cmd.Process.Pid, "PROCSTAT_TEST"); got != "yes" {
		t.Errorf("Env(child, PROCSTAT_TEST) = %q, want yes", got)
	}
	if got := Exe(cmd.Process.Pid); got == "" { // "sleep", or a multi-call binary's name
		t.Errorf("Exe(child) = %q, want a name", got)
	}
	if _, err := CPUTime(os.Getpid()); err != nil {
		t.Errorf("CPUTime(self): %v", err)
	}
	if CPUModel() == "" || MemTotal() <= 0 {
		t.Errorf("CPUModel() = %q, MemTotal() = %d", CPUModel(), MemTotal())
	}
}
