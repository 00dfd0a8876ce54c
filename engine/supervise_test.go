package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// fastCamera reconnects, stalls and goes offline quickly, for tests.
func fastCamera(id, url string) config.Camera {
	c := cameraConfig(id, url)
	c.BackoffMin, c.BackoffMax = 100*time.Millisecond, 400*time.Millisecond
	c.OfflineGrace = 500 * time.Millisecond
	c.StallTimeout = time.Second
	c.DecodeMode = config.ModeAll // these tests count decoded frames
	return c
}

// startEngine runs an engine on cams; its debug logs go to the returned
// buffer (and to stderr with -v).
func startEngine(t *testing.T, cams ...config.Camera) (*Engine, *collector, *testkit.SyncBuffer) {
	t.Helper()
	return startEngineConfig(t, testConfig(cams...))
}

// testConfig is the configuration a file listing only cams would give,
// listening on a free loopback port.
func testConfig(cams ...config.Camera) config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.Cameras = cams
	cfg.Derive()
	return cfg
}

// withConfig returns cfg changed by f.
func withConfig(cfg config.Config, f func(*config.Config)) config.Config {
	f(&cfg)
	return cfg
}

// startEngineConfig runs an engine on cfg (Listen on a free loopback port,
// cameras started 1 ms apart), as startEngine.
func startEngineConfig(t *testing.T, cfg config.Config) (*Engine, *collector, *testkit.SyncBuffer) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.StartSpread = time.Millisecond
	logs := &testkit.SyncBuffer{}
	var w interface{ Write([]byte) (int, error) } = logs
	if testing.Verbose() {
		w = io.MultiWriter(logs, os.Stderr)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	events := &collector{}
	e, err := New(cfg, Options{Logger: log, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, events, logs
}

func (e *Engine) statusOf(t *testing.T, id string) api.CameraStatus {
	t.Helper()
	e.mu.Lock()
	c, ok := e.cameras[id]
	e.mu.Unlock()
	if !ok {
		t.Fatalf("no camera %q", id)
	}
	return c.status()
}

func (e *Engine) received(id string) float64 {
	return testutil.ToFloat64(e.metrics.FramesReceived.WithLabelValues(id))
}

// firstEvent returns the first event of a camera matching kind and type.
func (c *collector) firstEvent(camera, kind, typ string) (incident.Event, bool) {
	for _, ev := range c.of(camera) {
		if ev.Data.Kind == kind && ev.Type == typ {
			return ev, true
		}
	}
	return incident.Event{}, false
}

func (c *collector) count(camera, kind string) int {
	n := 0
	for _, ev := range c.of(camera) {
		if ev.Data.Kind == kind {
			n++
		}
	}
	return n
}

// TestServerGoesAwayAndReturns: the camera's server disappears mid-stream
// and comes back on the same address. The camera reconnects within the
// backoff bounds, camera_offline starts and ends, another camera is not
// disturbed, and the gap raises no motion.
func TestServerGoesAwayAndReturns(t *testing.T) {
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", Cameras: []sim.Camera{{Path: "cam", Clip: clip(t, "static")}}})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	other := startSim(t, sim.Camera{Path: "other", Clip: clip(t, "static")})
	cam := fastCamera("cam", srv.URL("cam"))
	e, events, _ := startEngine(t, cam, fastCamera("other", other.URL("other")))

	await.Until(t, 15*time.Second, "frames from both cameras", func() bool {
		return e.received("cam") > 25 && e.received("other") > 25
	})
	down := time.Now()
	srv.Close()
	await.Until(t, 15*time.Second, "camera_offline start", func() bool {
		_, ok := events.firstEvent("cam", health.KindCameraOffline, incident.TypeStart)
		return ok
	})
	start, _ := events.firstEvent("cam", health.KindCameraOffline, incident.TypeStart)
	if c := start.Data.Cause; c != "unreachable" && c != "closed" {
		t.Errorf("camera_offline cause %q, want unreachable or closed", c)
	}
	if st := start.Data.StartedAt; st.Before(down.Add(-2*time.Second)) || st.After(time.Now()) {
		t.Errorf("camera_offline started_at %s, server went away at %s", st, down)
	}
	if s := e.statusOf(t, "cam"); s.State != "backing_off" && s.State != "connecting" {
		t.Errorf("while the server is away: state %s (%s)", s.State, s.Reason)
	} else if s.OfflineIncident != start.Data.IncidentID {
		t.Errorf("status offline_incident %q, want %q", s.OfflineIncident, start.Data.IncidentID)
	}
	before := e.received("other")
	time.Sleep(1500 * time.Millisecond) // several reconnect attempts
	if e.received("other") <= before {
		t.Error("the other camera stopped while this one was away")
	}

	back := time.Now()
	srv2, err := sim.Start(sim.Config{Address: addr, Cameras: []sim.Camera{{Path: "cam", Clip: clip(t, "static")}}})
	if err != nil {
		t.Fatalf("restart the server on %s: %v", addr, err)
	}
	defer srv2.Close()
	await.Until(t, 15*time.Second, "camera_offline end", func() bool {
		_, ok := events.firstEvent("cam", health.KindCameraOffline, incident.TypeEnd)
		return ok
	})
	end, _ := events.firstEvent("cam", health.KindCameraOffline, incident.TypeEnd)
	delay := end.Data.EndedAt.Sub(back)
	t.Logf("video flowed again %s after the server returned (backoff_max %s)", delay, cam.BackoffMax)
	// The next attempt comes at most backoff_max after the server is back;
	// connecting and the first keyframe take the rest.
	if delay > cam.BackoffMax+5*time.Second {
		t.Errorf("reconnected %s after the server returned, want within backoff_max %s (+ connect time)", delay, cam.BackoffMax)
	}
	if end.Data.IncidentID != start.Data.IncidentID {
		t.Error("camera_offline end has another incident id than its start")
	}
	if n := testutil.ToFloat64(e.metrics.Reconnects.WithLabelValues("cam", "unreachable")); n < 2 {
		t.Errorf("reconnects{reason=unreachable} = %g, want several attempts while away", n)
	}
	// The scene is static: neither the gap nor the reconnect may raise motion,
	// including after the analyzer re-learned it.
	time.Sleep(3 * time.Second)
	if n := events.count("cam", "motion"); n != 0 {
		t.Errorf("%d motion events caused by the gap", n)
	}
	if s := e.statusOf(t, "cam"); s.State != "streaming" || s.OfflineSince != nil {
		t.Errorf("after the server returned: %+v", s)
	}
}

// TestStallDetected: the server keeps the connection open but stops
// sending. The camera notices after stall_timeout, reconnects, raises
// camera_offline with cause stalled, and ends it when video resumes.
func TestStallDetected(t *testing.T) {
	srv := startSim(t, sim.Camera{Path: "cam", Clip: clip(t, "static")})
	cam := fastCamera("cam", srv.URL("cam"))
	e, events, _ := startEngine(t, cam)
	await.Until(t, 15*time.Second, "frames", func() bool { return e.received("cam") > 25 })

	stalled := time.Now()
	srv.SetStalled("cam", true)
	await.Until(t, 15*time.Second, "a stall to be detected", func() bool {
		return testutil.ToFloat64(e.metrics.Reconnects.WithLabelValues("cam", "stalled")) >= 1
	})
	detected := time.Since(stalled)
	t.Logf("stall detected after %s (stall_timeout %s)", detected, cam.StallTimeout)
	if detected < cam.StallTimeout-100*time.Millisecond {
		t.Errorf("stall reported after %s, before stall_timeout %s", detected, cam.StallTimeout)
	}
	await.Until(t, 15*time.Second, "camera_offline start", func() bool {
		_, ok := events.firstEvent("cam", health.KindCameraOffline, incident.TypeStart)
		return ok
	})
	if ev, _ := events.firstEvent("cam", health.KindCameraOffline, incident.TypeStart); ev.Data.Cause != "stalled" {
		t.Errorf("camera_offline cause %q, want stalled", ev.Data.Cause)
	}
	srv.SetStalled("cam", false)
	await.Until(t, 15*time.Second, "camera_offline end", func() bool {
		_, ok := events.firstEvent("cam", health.KindCameraOffline, incident.TypeEnd)
		return ok
	})
	if n := events.count("cam", "motion"); n != 0 {
		t.Errorf("%d motion events caused by the stall", n)
	}
}

// TestUDPLossAndCorruption: packets dropped on UDP and damaged access units
// are counted; decoding goes on and the camera keeps streaming.
func TestUDPLossAndCorruption(t *testing.T) {
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", UDP: true, Cameras: []sim.Camera{
		{Path: "lossy", Clip: clip(t, "motion")},
		{Path: "corrupt", Clip: clip(t, "static")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	lossy := fastCamera("lossy", srv.URL("lossy"))
	lossy.Transport = "udp"
	lossy.StallTimeout = 5 * time.Second
	corrupt := fastCamera("corrupt", srv.URL("corrupt"))
	srv.SetDropRate("lossy", 0.03)
	srv.SetCorruptRate("corrupt", 0.2)
	e, _, _ := startEngine(t, lossy, corrupt)

	decoded := func(id string) float64 { return testutil.ToFloat64(e.metrics.FramesDecoded.WithLabelValues(id)) }
	await.Until(t, 20*time.Second, "lost packets counted on UDP", func() bool {
		return e.statusOf(t, "lossy").PacketsLost > 0
	})
	await.Until(t, 20*time.Second, "decode errors counted", func() bool {
		return testutil.ToFloat64(e.metrics.DecodeErrors.WithLabelValues("corrupt")) > 0
	})
	d1, d2 := decoded("lossy"), decoded("corrupt")
	time.Sleep(2 * time.Second)
	if decoded("lossy") <= d1 || decoded("corrupt") <= d2 {
		t.Errorf("decoding stopped: lossy %g→%g, corrupt %g→%g", d1, decoded("lossy"), d2, decoded("corrupt"))
	}
	for _, id := range []string{"lossy", "corrupt"} {
		if s := e.statusOf(t, id); s.State != "streaming" {
			t.Errorf("%s: state %s (%s), want streaming", id, s.State, s.LastError)
		}
	}
	if s := e.statusOf(t, "lossy"); s.Transport != "udp" || s.JitterSeconds <= 0 || s.Bitrate <= 0 {
		t.Errorf("lossy camera transport stats: %+v", s)
	}
}

// TestWrongPassword: a camera with a wrong password backs off with reason
// auth; the right one streams; neither password appears in logs, metrics,
// the API or events.
func TestWrongPassword(t *testing.T) {
	const right, wrong = "s3cret-Right", "hunter2-Wrong"
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", User: "admin", Pass: right,
		Cameras: []sim.Camera{{Path: "cam", Clip: clip(t, "static")}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	u := strings.TrimPrefix(srv.URL("cam"), "rtsp://")
	bad := fastCamera("bad", "rtsp://admin:"+wrong+"@"+u)
	good := fastCamera("good", srv.URL("cam"))
	good.Username, good.Password = "admin", right
	e, events, logs := startEngine(t, bad, good)

	await.Until(t, 15*time.Second, "the good camera to stream", func() bool { return e.received("good") > 10 })
	await.Until(t, 15*time.Second, "an auth failure", func() bool {
		return testutil.ToFloat64(e.metrics.Reconnects.WithLabelValues("bad", "auth")) >= 1
	})
	await.Until(t, 15*time.Second, "camera_offline for the bad camera", func() bool {
		_, ok := events.firstEvent("bad", health.KindCameraOffline, incident.TypeStart)
		return ok
	})
	if ev, _ := events.firstEvent("bad", health.KindCameraOffline, incident.TypeStart); ev.Data.Cause != "auth" {
		t.Errorf("camera_offline cause %q, want auth", ev.Data.Cause)
	}
	if s := e.statusOf(t, "bad"); s.Reason != "auth" && s.State != "connecting" {
		t.Errorf("bad camera: %s / %s", s.State, s.Reason)
	}
	evJSON, _ := json.Marshal(events.of("bad"))
	outputs := map[string]string{
		"logs":               logs.String(),
		"/metrics":           httpGet(t, "http://"+e.Addr()+"/metrics"),
		"/api/cameras":       httpGet(t, "http://"+e.Addr()+"/api/cameras"),
		"/api/cameras/bad":   httpGet(t, "http://"+e.Addr()+"/api/cameras/bad"),
		"events":             string(evJSON),
		"/api/cameras/good":  httpGet(t, "http://"+e.Addr()+"/api/cameras/good"),
		"status (Go values)": fmt.Sprintf("%+v %+v", e.statusOf(t, "bad"), e.statusOf(t, "good")),
	}
	for where, out := range outputs {
		for _, secret := range []string{right, wrong} {
			if strings.Contains(out, secret) {
				t.Errorf("%s contains a password", where)
			}
		}
	}
	if !strings.Contains(outputs["logs"], "auth") {
		t.Error("logs do not say the camera failed on authentication")
	}
}

// TestManyCameras: 200 cameras against one simulator all stream, and the
// engine's goroutines return to their baseline after Close.
func TestManyCameras(t *testing.T) {
	if testing.Short() {
		t.Skip("200 cameras")
	}
	const n = 200
	static := clip(t, "static")
	cams := make([]sim.Camera, n)
	for i := range cams {
		cams[i] = sim.Camera{Path: fmt.Sprintf("cam%03d", i), Clip: static}
	}
	srv := startSim(t, cams...)
	base := runtime.NumGoroutine()
	cfgs := make([]config.Camera, n)
	for i := range cfgs {
		cfgs[i] = cameraConfig(cams[i].Path, srv.URL(cams[i].Path))
		cfgs[i].AnalysisFPS = 1
		cfgs[i].StallTimeout = 20 * time.Second // the box is overloaded on purpose
	}
	cfg := testConfig(cfgs...)
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 60*time.Second, "every camera to receive video", func() bool {
		for _, c := range cfgs {
			if e.received(c.ID) == 0 || e.statusOf(t, c.ID).State != "streaming" {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // and keep streaming
	streaming := 0
	for _, c := range cfgs {
		if s := e.statusOf(t, c.ID); s.State == "streaming" {
			streaming++
		} else {
			t.Logf("camera %s: %s (%s) %s", c.ID, s.State, s.Reason, s.LastError)
		}
	}
	if streaming != n {
		t.Errorf("%d of %d cameras streaming", streaming, n)
	}
	e.Close()
	if err := e.Wait(); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 10*time.Second, "goroutines back to the baseline", func() bool {
		return runtime.NumGoroutine() <= base+2
	})
}

// TestReconnectCyclesDoNotLeak: 1,000 reconnect cycles of one camera leave
// goroutines, the Go heap and the process's resident memory where they
// were. Each cycle resets the decoder (libavcodec) and the analyzer
// (OpenCV Mats): memory they leak in C is invisible to the Go heap and
// shows only in RSS.
func TestReconnectCyclesDoNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 reconnect cycles")
	}
	srv := startSim(t, sim.Camera{Path: "cam", Clip: clip(t, "static")})
	cam := fastCamera("cam", srv.URL("cam"))
	cam.BackoffMin, cam.BackoffMax = time.Millisecond, 2*time.Millisecond
	e, _, _ := startEngine(t, cam)
	e.mu.Lock()
	c := e.cameras["cam"]
	e.mu.Unlock()

	cycle := func() {
		gen := c.gen.Load()
		srv.KickReaders("cam")
		await.Until(t, 10*time.Second, "the next stream", func() bool { return c.gen.Load() > gen && c.flowing.Load() })
	}
	await.Until(t, 10*time.Second, "video", func() bool { return c.flowing.Load() })
	for range 100 { // warm up: pools, decoder buffers, malloc arenas
		cycle()
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	g0, h0, r0 := runtime.NumGoroutine(), heap(), rss(t)
	const cycles = 1000
	for i := range cycles {
		cycle()
		if testing.Verbose() && (i+1)%100 == 0 {
			t.Logf("after %d reconnects: heap %.1f MiB, RSS %.1f MiB", i+1, float64(heap())/(1<<20), float64(rss(t))/(1<<20))
		}
	}
	var g1 int
	await.Until(t, 10*time.Second, "goroutines back to the baseline", func() bool {
		g1 = runtime.NumGoroutine()
		return g1 <= g0+3
	})
	h1, r1 := heap(), rss(t)
	t.Logf("after %d reconnects: goroutines %d → %d, heap %.1f → %.1f MiB, RSS %.1f → %.1f MiB", cycles,
		g0, g1, float64(h0)/(1<<20), float64(h1)/(1<<20), float64(r0)/(1<<20), float64(r1)/(1<<20))
	if h1 > h0+16<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d reconnects", h0, h1, cycles)
	}
	// RSS is the process's resident memory after FreeOSMemory: live Go
	// memory plus everything C holds. Measured here it moves by ≤ 1.5 MiB
	// over 1,000 reconnects (malloc arenas settling), while a leak per
	// reconnect of the smallest C object the pipeline holds, a 320-pixel
	// gray analysis Mat (~56 KiB), would add ~55 MiB, one picture reference
	// ~370 MiB and one decoder ~2 GiB. 16 MiB catches any leak of 16 KiB
	// or more per reconnect with ten times the measured noise to spare.
	const rssSlack = 16 << 20
	if r1 > r0+rssSlack {
		t.Errorf("RSS grew from %.1f to %.1f MiB over %d reconnects (allowed %d MiB): C memory (decoder, Mats, swscale) leaks on reconnect",
			float64(r0)/(1<<20), float64(r1)/(1<<20), cycles, rssSlack>>20)
	}
	if n := testutil.ToFloat64(e.metrics.Reconnects.WithLabelValues("cam", "closed")); n < cycles {
		t.Errorf("reconnects{reason=closed} = %g, want ≥ %d", n, cycles)
	}
}

// rss returns the process's resident memory in bytes (after returning the
// Go heap's free pages to the OS, so that what remains is live Go memory
// and C memory).
func rss(t *testing.T) uint64 {
	t.Helper()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatalf("RSS: %v", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		t.Fatalf("RSS: /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		t.Fatalf("RSS: /proc/self/statm: %v", err)
	}
	return pages * uint64(os.Getpagesize())
}

// TestReloadAppliesOnlyTheDifference: a changed file adds, removes and
// restarts cameras; the unchanged one never blinks; an invalid file leaves
// everything running and logs the key at fault.
func TestReloadAppliesOnlyTheDifference(t *testing.T) {
	srv := startSim(t,
		sim.Camera{Path: "a", Clip: clip(t, "static")},
		sim.Camera{Path: "b", Clip: clip(t, "static")},
		sim.Camera{Path: "c", Clip: clip(t, "static")},
		sim.Camera{Path: "d", Clip: clip(t, "static")},
	)
	doc := func(cams ...string) string {
		var b strings.Builder
		b.WriteString("listen: 127.0.0.1:0\ncameras:\n")
		for _, c := range cams {
			b.WriteString(c)
		}
		return b.String()
	}
	camYAML := func(id, extra string) string {
		return fmt.Sprintf("  - id: %s\n    url: %s\n%s", id, srv.URL(id), extra)
	}
	path := filepath.Join(t.TempDir(), "cameras.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(doc(camYAML("a", ""), camYAML("b", ""), camYAML("c", "")))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := startEngine(t, cfg.Cameras...)
	await.Until(t, 15*time.Second, "all cameras streaming", func() bool {
		return e.received("a") > 10 && e.received("b") > 10 && e.received("c") > 10
	})
	camOf := func(id string) *camera {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.cameras[id]
	}
	a0, b0 := camOf("a"), camOf("b")
	genA := a0.gen.Load()

	// What the service's file watch does on a change (service tests the
	// watch itself): load, then Apply.
	reload := func() error {
		cfg, err := config.Load(path)
		if err != nil {
			return err
		}
		_, err = e.Apply(cfg)
		return err
	}

	// a unchanged, b changed, c removed, d added; applied on a file change.
	write(doc(camYAML("a", ""), camYAML("b", "    analysis_fps: 4\n"), camYAML("d", "")))
	if err := reload(); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 10*time.Second, "the reload", func() bool { return camOf("d") != nil && camOf("c") == nil })
	if camOf("a") != a0 || a0.gen.Load() != genA {
		t.Error("the unchanged camera was restarted")
	}
	if b := camOf("b"); b == b0 || b.cfg.AnalysisFPS != 4 {
		t.Error("the changed camera was not restarted with its new settings")
	}
	await.Until(t, 15*time.Second, "the added camera to stream", func() bool { return e.received("d") > 10 })
	if body := httpGet(t, "http://"+e.Addr()+"/metrics"); strings.Contains(body, `camera="c"`) {
		t.Error("the removed camera's series are still exposed")
	}

	// An invalid file: logged with its key, nothing changes.
	write(doc(camYAML("a", "    motion:\n      treshold: 30\n"), camYAML("x", "")))
	if err := reload(); err == nil || !strings.Contains(err.Error(), "cameras[0].motion.treshold") {
		t.Errorf("invalid file: %v, want an error naming cameras[0].motion.treshold", err)
	}
	if camOf("x") != nil || camOf("d") == nil || camOf("a") != a0 {
		t.Error("an invalid file changed the running set")
	}
	if a0.gen.Load() != genA {
		t.Error("camera a blinked during the reloads")
	}
}

// TestStoppedStreamNotCountedIdle: the overload controller counts the
// cameras idle in mode auto (their keyframes are what it thins first); a
// camera whose server went away is not counted while it is away (a busy
// camera would otherwise wait for a floor that thins nothing), and is
// counted again once its stream is back.
func TestStoppedStreamNotCountedIdle(t *testing.T) {
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", Cameras: []sim.Camera{{Path: "cam", Clip: clip(t, "static")}}})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	other := startSim(t, sim.Camera{Path: "other", Clip: clip(t, "static")})
	cam, oth := fastCamera("cam", srv.URL("cam")), fastCamera("other", other.URL("other"))
	cam.DecodeMode, oth.DecodeMode = config.ModeAuto, config.ModeAuto
	e, _, _ := startEngine(t, cam, oth)
	await.Until(t, 20*time.Second, "both cameras counted idle", func() bool { return e.pressure.Idle() == 2 })
	srv.Close()
	await.Until(t, 15*time.Second, "the camera whose server went away no longer counted", func() bool { return e.pressure.Idle() == 1 })
	time.Sleep(time.Second) // reconnect attempts, and the units left in its queue
	if n := e.pressure.Idle(); n != 1 {
		t.Fatalf("while the server is away: %d cameras counted idle, want 1", n)
	}
	srv2, err := sim.Start(sim.Config{Address: addr, Cameras: []sim.Camera{{Path: "cam", Clip: clip(t, "static")}}})
	if err != nil {
		t.Fatalf("restart the server on %s: %v", addr, err)
	}
	defer srv2.Close()
	await.Until(t, 20*time.Second, "the camera counted idle again", func() bool { return e.pressure.Idle() == 2 })
}
