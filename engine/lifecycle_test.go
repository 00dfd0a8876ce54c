package engine

import (
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
	"github.com/vigil-video/vigil/sink"
)

// TestNewStartsNothing: New, with a camera and the object network, starts
// no goroutine of the project's (no worker, no inference, no session) and
// listens on nothing; Start serves; Close stops it all, twice is fine, and
// Wait then reports a clean stop.
func TestNewStartsNothing(t *testing.T) {
	model := modelPath(t)
	srv := startSim(t, sim.Camera{Path: "moving", Clip: clip(t, "motion")})
	cfg := testConfig(cameraConfig("cam", srv.URL("moving")))
	cfg.Listen = closedPort(t)
	cfg.Objects.Model = model
	const ours = "github.com/vigil-video/vigil/"
	before := testkit.Goroutines(ours)
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if e.infer == nil {
		t.Fatal("the object network is not loaded: the test would not see its goroutine")
	}
	if started := testkit.Started(before, testkit.Goroutines(ours)); len(started) > 0 {
		t.Errorf("New started %d goroutines:\n%s", len(started), strings.Join(started, "\n\n"))
	}
	if c, err := net.Dial("tcp", cfg.Listen); err == nil {
		c.Close()
		t.Errorf("New listens on %s", cfg.Listen)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	httpGet(t, "http://"+e.Addr()+"/livez")
	e.Close()
	e.Close()
	if err := e.Wait(); err != nil {
		t.Errorf("Wait after Close: %v", err)
	}
}

// TestCamerasChangedFollowsApply: the engine owns the camera list; what
// follows it (delivery's camera discovery) is told the configured ids,
// and the incident kinds each can raise, at Start and after each reload
// applied, and not after one refused.
func TestCamerasChangedFollowsApply(t *testing.T) {
	url := "rtsp://" + closedPort(t) + "/x"
	cfg := testConfig(cameraConfig("a", url), cameraConfig("b", url))
	var mu sync.Mutex
	var told [][]string
	kinds := map[string][]string{}
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}, CamerasChanged: func(cams []sink.Camera) {
		mu.Lock()
		told = append(told, sink.IDs(cams))
		for _, c := range cams {
			kinds[c.ID] = slices.Sorted(slices.Values(c.Kinds))
		}
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	next := cfg
	next.Cameras = []config.Camera{cameraConfig("b", url), cameraConfig("c", url)}
	// c: people, a restricted zone, no tamper detection, vehicles (which
	// need the object network).
	c := &next.Cameras[1]
	c.Person.Enabled, c.Tamper.Enabled, c.Vehicle.Enabled = true, false, true
	c.Zones = []config.Zone{{Name: "porch", Restricted: true, Polygon: config.Polygon{{0, 0}, {1, 0}, {1, 1}}}}
	if _, err := e.Apply(next); err != nil {
		t.Fatal(err)
	}
	bad := next
	bad.Cameras = []config.Camera{cameraConfig("d", url)}
	bad.Outbox.Path += ".new"
	if _, err := e.Apply(bad); !errors.Is(err, ErrNeedsRestart) {
		t.Fatalf("a new outbox path: %v, want ErrNeedsRestart", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := [][]string{{"a", "b"}, {"b", "c"}}; !slices.EqualFunc(told, want, slices.Equal[[]string]) {
		t.Errorf("told %q, want %q", told, want)
	}
	wantC := []string{"analysis_stalled", "camera_offline", "intrusion", "motion", "person"}
	if e.infer != nil && slices.Contains(next.Objects.Labels, config.LabelVehicle) {
		wantC = append(wantC, "vehicle") // the object network runs here
	}
	for id, want := range map[string][]string{
		"b": {"analysis_stalled", "camera_offline", "motion", "tamper"},
		"c": wantC,
	} {
		if !slices.Equal(kinds[id], want) {
			t.Errorf("%s can raise %q, want %q", id, kinds[id], want)
		}
	}
}
