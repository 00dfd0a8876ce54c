package engine

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// collector is a Publisher that keeps every event.
type collector struct{ incidenttest.Memory }

func (c *collector) of(camera string) []incident.Event {
	var out []incident.Event
	for _, e := range c.Events() {
		if e.Data.Camera == camera {
			out = append(out, e)
		}
	}
	return out
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startSim(t *testing.T, cams ...sim.Camera) *sim.Server { return testkit.StartSim(t, cams...) }

func clip(t *testing.T, name string) *sim.Clip { return testkit.Clip(t, name) }

func cameraConfig(id, url string) config.Camera {
	c := config.DefaultCamera()
	c.ID, c.URL = id, url
	return c
}

func closedPort(t *testing.T) string { return testkit.ClosedPort(t) }

// TestEngineEndToEnd runs the real path — simulator over loopback RTSP,
// libavcodec, OpenCV — with a moving clip, a static clip, a camera whose
// stream is not H.264 and one that is unreachable.
func TestEngineEndToEnd(t *testing.T) {
	srv := startSim(t,
		sim.Camera{Path: "moving", Clip: clip(t, "motion")},
		sim.Camera{Path: "static", Clip: clip(t, "static")},
		sim.Camera{Path: "mjpeg", Unsupported: true},
	)
	cfg := testConfig(
		cameraConfig("moving", srv.URL("moving")),
		cameraConfig("static", srv.URL("static")),
		cameraConfig("mjpeg", srv.URL("mjpeg")),
		cameraConfig("offline", "rtsp://user:hunter2@"+closedPort(t)+"/nothing"),
	)
	cfg.StartSpread = time.Millisecond
	events := &collector{}
	e, err := New(cfg, Options{Logger: testLogger(t), Events: events})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	// The clip restarts when its first reader plays: motion is on screen
	// from MotionStart to MotionEnd after that, and never before.
	await.Until(t, 20*time.Second, "the end of the moving camera's incident", func() bool {
		for _, ev := range events.of("moving") {
			if ev.Type == incident.TypeEnd {
				return true
			}
		}
		return false
	})
	moving := events.of("moving")
	if len(moving) < 2 || moving[0].Type != incident.TypeStart {
		t.Fatalf("moving camera: want start ... end, got %d events: %+v", len(moving), moving)
	}
	start, end := moving[0], moving[len(moving)-1]
	if start.Data.IncidentID != end.Data.IncidentID {
		t.Fatalf("start and end have different incident ids: %s, %s", start.Data.IncidentID, end.Data.IncidentID)
	}
	lo, hi := t0.Add(sim.MotionStart-300*time.Millisecond), t0.Add(sim.MotionEnd+time.Second)
	if st := start.Data.StartedAt; st.Before(lo) || st.After(hi) {
		t.Errorf("incident started at %s after engine start; the object is on screen from %s to %s",
			st.Sub(t0), sim.MotionStart, sim.MotionEnd)
	}
	if start.Data.Kind != "motion" || start.Source != "/cameras/moving" || start.Subject != "moving" ||
		start.SpecVersion != "1.0" || len(start.Data.Boxes) == 0 || start.Data.Score <= 0 {
		t.Errorf("start event incomplete: %+v", start)
	}
	for _, b := range start.Data.Boxes {
		for _, v := range b {
			if v < 0 || v > 1 {
				t.Errorf("box %v not normalized", b)
			}
		}
	}
	if end.Data.EndedAt == nil || end.Data.EndedAt.Before(t0.Add(sim.MotionEnd-time.Second)) {
		t.Errorf("end event: ended_at %v, want after the object left (~%s)", end.Data.EndedAt, sim.MotionEnd)
	}
	if got := events.of("static"); len(got) != 0 {
		t.Errorf("static camera raised %d events: %+v", len(got), got)
	}

	// Bad cameras fail alone, with a reason, and the others kept running.
	st := func(id string) api.CameraStatus {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.cameras[id].status()
	}
	if s := st("mjpeg"); s.State != "failed" || s.Reason != "unsupported" || !strings.Contains(s.LastError, "M-JPEG") {
		t.Errorf("mjpeg camera: %+v, want failed/unsupported naming the format found", s)
	}
	if s := st("offline"); s.State != "backing_off" && s.State != "connecting" {
		t.Errorf("offline camera: state %s, want backing_off or connecting", s.State)
	} else if s.Reason != "" && s.Reason != "unreachable" {
		t.Errorf("offline camera: reason %q, want unreachable", s.Reason)
	}
	if s := st("static"); s.State != "streaming" {
		t.Errorf("static camera: %+v, want streaming", s)
	}

	// Metrics moved, and the exposition is lint-clean.
	reg := e.Registry()
	m := e.metrics
	// The static camera idles in mode auto: every frame received, the
	// keyframes decoded and analyzed.
	for name, c := range map[string]struct{ got, min float64 }{
		"received": {testutil.ToFloat64(m.FramesReceived.WithLabelValues("static")), 25},
		"decoded":  {testutil.ToFloat64(m.FramesDecoded.WithLabelValues("static")), 2},
		"analyzed": {testutil.ToFloat64(m.FramesAnalyzed.WithLabelValues("static")), 2},
	} {
		if c.got < c.min {
			t.Errorf("frames %s for camera static: %g after several seconds of streaming", name, c.got)
		}
	}
	if v := testutil.ToFloat64(e.metrics.Incidents.WithLabelValues("moving", "motion")); v < 1 {
		t.Errorf("vigil_incidents_total{camera=moving,kind=motion} = %g", v)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	body := httpGet(t, "http://"+e.Addr()+"/metrics")
	for _, want := range []string{`vigil_camera_up{camera="static"} 1`, `vigil_camera_state{camera="mjpeg",state="failed"} 1`, "vigil_decode_duration_seconds_bucket", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	api := httpGet(t, "http://"+e.Addr()+"/api/cameras")
	if strings.Contains(api+body, "hunter2") || strings.Contains(api+body, "user:") {
		t.Error("a credential appears in /api/cameras or /metrics")
	}

	// Graceful shutdown ends open incidents; no event is lost after Close.
	e.Close()
	if err := e.Wait(); err != nil {
		t.Fatal(err)
	}
	open := map[string]bool{}
	for _, ev := range events.of("moving") {
		open[ev.Data.IncidentID] = ev.Type != incident.TypeEnd
	}
	for id, o := range open {
		if o {
			t.Errorf("incident %s still open after Close", id)
		}
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	return string(b)
}
