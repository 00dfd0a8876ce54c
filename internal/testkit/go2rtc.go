package testkit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// go2rtcBinary builds go2rtc once (scripts/go2rtc.sh: pinned in
// internal/tools/go2rtc, into .cache/bin at the repository root) and
// returns its path.
var go2rtcBinary = sync.OnceValues(func() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := filepath.Join(root, ".cache", "bin")
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "go2rtc.sh"), dir).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("scripts/go2rtc.sh: %v\n%s", err, out)
	}
	return filepath.Join(dir, "go2rtc"), nil
})

// Go2RTC runs go2rtc, the RTSP restreamer Frigate ships (an RTSP server
// no one here wrote, with its own RTSP and RTP code), on a free loopback
// port and returns its rtsp://127.0.0.1:port prefix. Each mount is
// path=clip: the clip (a container with timestamps, such as the .mkv
// clips of scripts/camclips.sh) is played in a loop, in real time and
// unchanged, by the ffmpeg that go2rtc starts at the path's first reader
// (its "ffmpeg:" source with video=copy); readers of one path share it.
// go2rtc serves RTP over TCP only (it answers a UDP SETUP with 461). The
// server and its ffmpegs stop with the test.
func Go2RTC(t testing.TB, mounts ...string) *Go2RTCServer {
	t.Helper()
	bin, err := go2rtcBinary()
	if err != nil {
		t.Fatal(err)
	}
	addr := ClosedPort(t)
	var cfg strings.Builder
	// Only the RTSP server: the API, WebRTC and the rest off.
	fmt.Fprintf(&cfg, "api:\n  listen: \"\"\nwebrtc:\n  listen: \"\"\nsrtp:\n  listen: \"\"\nrtmp:\n  listen: \"\"\n")
	fmt.Fprintf(&cfg, "rtsp:\n  listen: %q\n", addr)
	fmt.Fprintf(&cfg, "ffmpeg:\n  file: \"-re -stream_loop -1 -i {input}\"\n")
	fmt.Fprintf(&cfg, "log:\n  level: info\nstreams:\n")
	for _, m := range mounts {
		path, clip, ok := strings.Cut(m, "=")
		if !ok {
			t.Fatalf("go2rtc mount %q: want path=clip", m)
		}
		fmt.Fprintf(&cfg, "  %s: %q\n", path, "ffmpeg:"+clip+"#video=copy")
	}
	conf := filepath.Join(t.TempDir(), "go2rtc.yaml")
	if err := os.WriteFile(conf, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var log SyncBuffer
	cmd := exec.Command(bin, "-config", conf)
	cmd.Stdout, cmd.Stderr = &log, &log
	// Its own process group: the ffmpegs it starts stop with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := StartProcess(t, cmd)
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // gone already is fine
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return &Go2RTCServer{URL: "rtsp://" + addr, pid: cmd.Process.Pid}
		}
		select {
		case <-p.Exited():
			t.Fatalf("go2rtc exited: %v\n%s", p.Err(), log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("go2rtc not listening on %s after 20 s:\n%s", addr, log.String())
		}
	}
}

// Go2RTCServer is a running go2rtc (Go2RTC).
type Go2RTCServer struct {
	URL string // rtsp://127.0.0.1:port
	pid int
}

// KillSources kills the ffmpegs that go2rtc runs for its paths, as when
// the cameras behind a restreamer drop: go2rtc starts them again for the
// readers still connected, which keep their RTSP sessions and receive the
// new sources' packets (new SSRCs, sequence numbers and timestamps). It
// returns how many it killed.
func (g *Go2RTCServer) KillSources(t testing.TB) int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // gone
		}
		// pid (comm) state ppid ...: comm may hold spaces, so after the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		var state string
		var ppid, pid int
		if i < 0 || !strings.Contains(string(b[:i]), "(ffmpeg") {
			continue
		}
		if _, err := fmt.Sscan(string(b[i+1:]), &state, &ppid); err != nil || ppid != g.pid {
			continue
		}
		if _, err := fmt.Sscan(filepath.Base(filepath.Dir(f)), &pid); err == nil && syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}
