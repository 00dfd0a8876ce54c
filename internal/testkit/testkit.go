// Package testkit is what the end-to-end tests of several packages share:
// a simulator on loopback, the embedded clips, a port nothing listens on,
// a goroutine-safe log buffer, the goroutines a package runs. Real parts
// only.
package testkit

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-video/vigil/sim"
)

// StartSim serves cams on a loopback simulator closed with the test.
func StartSim(t testing.TB, cams ...sim.Camera) *sim.Server {
	t.Helper()
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", Cameras: cams})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// Clip returns an embedded clip ("motion", "static", "motion-h265").
func Clip(t testing.TB, name string) *sim.Clip {
	t.Helper()
	c, err := sim.EmbeddedClip(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// camClipsDir returns the directory of the camera-realistic clips made
// from real footage by scripts/camclips.sh ($VIGIL_CAMCLIPS, or .cache/camclips
// at the repository root), making them when missing (about a minute).
var camClipsDir = sync.OnceValues(func() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := os.Getenv("VIGIL_CAMCLIPS")
	if dir == "" {
		dir = filepath.Join(root, ".cache", "camclips")
	}
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "camclips.sh"), dir).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("scripts/camclips.sh: %v\n%s", err, out)
	}
	return dir, nil
})

// CamClip returns the path of a camera-realistic clip ("sub-motion.h264",
// "main-static.h265.mkv", ...; see scripts/camclips.sh), made when missing.
func CamClip(t testing.TB, name string) string {
	t.Helper()
	dir, err := camClipsDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// gateMatrixDir returns the directory of the activity gate's encoding
// matrix made by scripts/gatematrix.sh ($VIGIL_GATEMATRIX, or
// .cache/gatematrix at the repository root), making it when missing
// (2 to 4 minutes: deterministic encodings, one thread each).
var gateMatrixDir = sync.OnceValues(func() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := os.Getenv("VIGIL_GATEMATRIX")
	if dir == "" {
		dir = filepath.Join(root, ".cache", "gatematrix")
	}
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "gatematrix.sh"), dir).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("scripts/gatematrix.sh: %v\n%s", err, out)
	}
	return dir, nil
})

// GateMatrix returns the directory of the gate's encoding matrix (its
// MANIFEST lists the clips; see scripts/gatematrix.sh), made when missing.
func GateMatrix(t testing.TB) string {
	t.Helper()
	dir, err := gateMatrixDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// ClosedPort returns a loopback address nothing listens on.
func ClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// SyncBuffer is a goroutine-safe log sink.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SilentServer accepts TCP connections on loopback and never writes a
// byte itself: a TLS handshake or an RTSP request sent to it is never
// answered. onAccept, when not nil, runs on each connection in a
// goroutine of its own. The listener and connections close with the test.
// It returns the address.
func SilentServer(t testing.TB, onAccept func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if onAccept != nil {
				go onAccept(c)
			}
		}
	}()
	return ln.Addr().String()
}

// Goroutines returns the goroutines now running whose stack holds a
// function of a package under prefix (such as "github.com/nats-io/"), one
// stack each, for a test that checks what a constructor or Close left
// running.
func Goroutines(prefix string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "\n"+prefix) || strings.Contains(g, "\ncreated by "+prefix) {
			out = append(out, g)
		}
	}
	return out
}

// Started returns the stacks of after (Goroutines) whose goroutine was not
// in before.
func Started(before, after []string) []string {
	id := func(g string) string { return strings.Fields(g + " _ _")[1] }
	had := map[string]bool{}
	for _, g := range before {
		had[id(g)] = true
	}
	var out []string
	for _, g := range after {
		if !had[id(g)] {
			out = append(out, g)
		}
	}
	return out
}

// Process is a child process a test started (StartProcess).
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // of Wait, read after exited
}

// StartProcess starts cmd; when the test ends, the process is killed if it
// is still running, and waited for.
func StartProcess(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill() //nolint:errcheck // it may have just exited
			<-p.exited
		}
	})
	return p
}

// Exited is closed once the process has exited; Err then says how.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process exited (cmd.Wait's error), once Exited is closed.
func (p *Process) Err() error { return p.err }

// Stop sends sig and waits up to d for the process to exit, then kills
// it: when Stop returns, the process has exited and its output is
// complete. It returns how it exited, or that it had to be killed.
func (p *Process) Stop(sig os.Signal, d time.Duration) error {
	p.cmd.Process.Signal(sig) //nolint:errcheck // it may have exited already: Wait says how
	select {
	case <-p.exited:
		return p.err
	case <-time.After(d):
		p.cmd.Process.Kill() //nolint:errcheck // it may have just exited
		<-p.exited
		return fmt.Errorf("still running %s after %v: killed", d, sig)
	}
}
