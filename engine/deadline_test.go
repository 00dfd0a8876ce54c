package engine

import (
	"fmt"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// returnsWithin runs f and fails t if it does not return within d.
func returnsWithin(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		f()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		// t.Fatal would hang in the engine's cleanup, wedged the same way:
		// say why and where, and end the test binary.
		fmt.Fprintf(os.Stderr, "--- FAIL: %s: %s did not return within %s\n", t.Name(), what, d)
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		os.Exit(1)
	}
}

// TestWedgedHandshakeNeverWedgesTheEngine: an rtsps camera whose server
// accepts TCP and never answers the TLS handshake errors with reason
// timeout after its connect timeout; a reload removing a camera stuck in
// that handshake returns, and so does the engine's Close, while a good
// camera streams throughout.
func TestWedgedHandshakeNeverWedgesTheEngine(t *testing.T) {
	addr := testkit.SilentServer(t, nil)
	srv := startSim(t, sim.Camera{Path: "good", Clip: clip(t, "static")})
	good := fastCamera("good", srv.URL("good"))
	timesOut := fastCamera("times-out", "rtsps://"+addr+"/x")
	timesOut.TLSSkipVerify = true
	timesOut.ConnectTimeout = 500 * time.Millisecond
	stuck := fastCamera("stuck", "rtsps://"+addr+"/y")
	stuck.TLSSkipVerify = true
	stuck.ConnectTimeout = 10 * time.Minute // only a close can end its handshake
	cfg := testConfig(good, timesOut, stuck)
	e, _, _ := startEngineConfig(t, cfg)
	// Runs before startEngineConfig's Close: a failure below must not
	// hang the test in a wedged Close.
	t.Cleanup(func() { returnsWithin(t, 10*time.Second, "engine Close", func() { e.Close() }) })

	await.Until(t, 15*time.Second, "the camera with a 0.5 s connect timeout to back off with reason timeout", func() bool {
		s := e.statusOf(t, "times-out")
		return s.State == "backing_off" && s.Reason == "timeout"
	})
	await.Until(t, 15*time.Second, "the good camera streaming", func() bool { return e.statusOf(t, "good").State == "streaming" })
	if s := e.statusOf(t, "stuck"); s.State != "connecting" {
		t.Fatalf("stuck camera %s, want connecting (in the handshake)", s.State)
	}

	cfg.Cameras = []config.Camera{good, timesOut}
	returnsWithin(t, 10*time.Second, "a reload removing the camera stuck in its TLS handshake", func() {
		if _, err := e.Apply(cfg); err != nil {
			t.Error(err)
		}
	})
	// Another one stuck, for Close.
	cfg.Cameras = append(cfg.Cameras, stuck)
	if _, err := e.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	returnsWithin(t, 10*time.Second, "engine Close with a camera stuck in its TLS handshake", func() { e.Close() })
}
