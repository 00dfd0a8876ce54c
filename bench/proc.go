package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// procCPU returns a process's user+system CPU time, as /proc/PID/stat
// counts it (in USER_HZ ticks, 10ms).
func procCPU(pid int) (time.Duration, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0, fmt.Errorf("cpu time of process %d: %w", pid, err)
	}
	st, err := p.Stat()
	if err != nil {
		return 0, fmt.Errorf("cpu time of process %d: %w", pid, err)
	}
	return time.Duration(math.Round(st.CPUTime() * float64(time.Second))), nil
}

// procRSS returns a process's resident set size in bytes (VmRSS of
// /proc/PID/status).
func procRSS(pid int) (int64, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0, fmt.Errorf("rss of process %d: %w", pid, err)
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, fmt.Errorf("rss of process %d: %w", pid, err)
	}
	return int64(st.VmRSS), nil
}

// ProcStats is what a benchmark measured of one process (or a group of
// processes, summed) from outside, through /proc.
type ProcStats struct {
	// CPUSeconds is user+system CPU time over the measurement window.
	CPUSeconds float64 `json:"cpu_seconds"`
	// Cores is CPUSeconds divided by the window's wall time.
	Cores float64 `json:"cores"`
	// CoresPerCamera is Cores divided by the camera count.
	CoresPerCamera float64 `json:"cores_per_camera"`
	// RSSMaxBytes and RSSAvgBytes are the peak and mean resident set size
	// sampled over the window (summed over the group).
	RSSMaxBytes int64 `json:"rss_max_bytes"`
	RSSAvgBytes int64 `json:"rss_avg_bytes"`
}

// meter samples the CPU and RSS of a set of processes.
type meter struct {
	pids   []int
	cpu0   time.Duration
	t0     time.Time
	mu     sync.Mutex
	rssMax int64
	rssSum int64
	rssN   int64
	stop   chan struct{}
	done   chan struct{}
}

func cpuOf(pids []int) time.Duration {
	var sum time.Duration
	for _, p := range pids {
		c, _ := procCPU(p)
		sum += c
	}
	return sum
}

// startMeter begins a measurement window now.
func startMeter(pids []int) *meter {
	m := &meter{pids: pids, cpu0: cpuOf(pids), t0: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			var rss int64
			for _, p := range m.pids {
				r, _ := procRSS(p)
				rss += r
			}
			m.mu.Lock()
			m.rssMax = max(m.rssMax, rss)
			m.rssSum += rss
			m.rssN++
			m.mu.Unlock()
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// end closes the window and returns its figures for n cameras.
func (m *meter) end(n int) ProcStats {
	cpu := cpuOf(m.pids) - m.cpu0
	wall := time.Since(m.t0)
	close(m.stop)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	s := ProcStats{CPUSeconds: cpu.Seconds(), RSSMaxBytes: m.rssMax}
	if m.rssN > 0 {
		s.RSSAvgBytes = m.rssSum / m.rssN
	}
	if wall > 0 {
		s.Cores = cpu.Seconds() / wall.Seconds()
	}
	if n > 0 {
		s.CoresPerCamera = s.Cores / float64(n)
	}
	return s
}

// child is a process the benchmark started, in its own process group so
// that stopping it stops its children too.
type child struct {
	cmd  *exec.Cmd
	name string
	wait chan error
}

// startChild starts name with args; stdout goes to the returned reader
// when wantStdout, stderr to errOut.
func startChild(ctx context.Context, name string, args []string, env []string, errOut io.Writer, wantStdout bool) (*child, io.Reader, error) {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = errOut
	var out io.Reader
	if wantStdout {
		r, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		out = r
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{cmd: cmd, name: name, wait: make(chan error, 1)}
	go func() { c.wait <- cmd.Wait() }()
	context.AfterFunc(ctx, func() { c.kill() })
	return c, out, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop asks the process group to end (SIGTERM), then kills it after grace.
// It returns once the process has been reaped.
func (c *child) stop(grace time.Duration) {
	syscall.Kill(-c.pid(), syscall.SIGTERM) //nolint:errcheck // already gone is fine
	select {
	case err := <-c.wait:
		c.wait <- err
	case <-time.After(grace):
		c.kill()
		err := <-c.wait
		c.wait <- err
	}
}

func (c *child) kill() { syscall.Kill(-c.pid(), syscall.SIGKILL) } //nolint:errcheck

// freeAddr returns a free loopback TCP address.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// vigilBinary returns the vigil executable to run children with.
func vigilBinary(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	return os.Executable()
}

func numCPU() int { return runtime.NumCPU() }
