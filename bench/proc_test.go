package bench

import (
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// spinSink keeps the busy loop from being optimised away.
var spinSink uint64

// spinCPU burns at least d of this process's CPU time, as getrusage counts it.
func spinCPU(t *testing.T, d time.Duration) {
	t.Helper()
	start := rusageCPU(t)
	deadline := time.Now().Add(30 * time.Second)
	for rusageCPU(t)-start < d {
		for i := range 1_000_000 {
			spinSink = spinSink*31 + uint64(i)
		}
		if time.Now().After(deadline) {
			t.Fatalf("could not burn %s of CPU in 30s", d)
		}
	}
}

// rusageCPU is this process's user+system CPU time from getrusage, a source
// independent of /proc, with microsecond resolution.
func rusageCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// statusVmRSS reads VmRSS of /proc/self/status by hand, in bytes.
func statusVmRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// TestProcCPU checks procCPU against getrusage: same process, same seconds
// (the kernel counts /proc in 10ms ticks), and it grows with work.
func TestProcCPU(t *testing.T) {
	pid := os.Getpid()
	const tick = 10 * time.Millisecond
	check := func() time.Duration {
		t.Helper()
		before := rusageCPU(t)
		got, err := procCPU(pid)
		after := rusageCPU(t)
		if err != nil {
			t.Fatal(err)
		}
		if got < before-2*tick || got > after+2*tick {
			t.Fatalf("procCPU = %s, getrusage says %s..%s", got, before, after)
		}
		return got
	}
	c0 := check()
	spinCPU(t, 300*time.Millisecond)
	c1 := check()
	if c1-c0 < 300*time.Millisecond-2*tick {
		t.Fatalf("procCPU grew %s (%s to %s) over 300ms of spinning", c1-c0, c0, c1)
	}
}

// TestProcRSS checks procRSS against VmRSS read by hand. (getrusage's
// peak is no bound: the kernel updates it lazily.)
func TestProcRSS(t *testing.T) {
	pid := os.Getpid()
	want := statusVmRSS(t)
	got, err := procRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if got <= 0 || math.Abs(float64(got-want)) > max(0.1*float64(want), 4<<20) {
		t.Fatalf("procRSS = %d bytes, /proc/self/status VmRSS = %d bytes", got, want)
	}
}

// TestProcGone checks that a process that does not exist is an error.
func TestProcGone(t *testing.T) {
	const pid = 1 << 30 // above any pid_max
	if c, err := procCPU(pid); err == nil {
		t.Errorf("procCPU of a missing process = %s, want an error", c)
	}
	if r, err := procRSS(pid); err == nil {
		t.Errorf("procRSS of a missing process = %d, want an error", r)
	}
}

// TestProcMeter measures this process over a busy window.
func TestProcMeter(t *testing.T) {
	m := startMeter([]int{os.Getpid()})
	spinCPU(t, 300*time.Millisecond)
	s := m.end(2)
	t.Logf("%+v", s)
	if s.CPUSeconds < 0.28 {
		t.Errorf("CPUSeconds = %g, want at least 0.28 after 300ms of spinning", s.CPUSeconds)
	}
	if s.Cores <= 0 || s.Cores > float64(numCPU())+0.5 {
		t.Errorf("Cores = %g, want in (0, %d]", s.Cores, numCPU())
	}
	if math.Abs(s.CoresPerCamera-s.Cores/2) > 1e-9 {
		t.Errorf("CoresPerCamera = %g, want Cores/2 = %g", s.CoresPerCamera, s.Cores/2)
	}
	if s.RSSAvgBytes <= 0 || s.RSSMaxBytes < s.RSSAvgBytes {
		t.Errorf("RSS avg %d max %d, want 0 < avg <= max", s.RSSAvgBytes, s.RSSMaxBytes)
	}
}
