package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/nn"
	"github.com/vigil-video/vigil/sim"
)

// startEngineObjects starts an engine with the object detector configured
// as o.
func startEngineObjects(t *testing.T, o config.ObjectsConfig, cams ...config.Camera) (*Engine, *collector, *testkit.SyncBuffer) {
	t.Helper()
	return startEngineConfig(t, withConfig(testConfig(cams...), func(c *config.Config) { c.Objects = o }))
}

// modelPath is the object network made at setup (scripts/models.sh, in
// $VIGIL_MODELS or the repository's .cache/models); when it is absent the
// test is skipped, or fails with VIGIL_REQUIRE_MODELS=1 (scripts/test.sh).
func modelPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", config.DefaultModelPath))
	if err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("VIGIL_MODELS"); d != "" {
		p = filepath.Join(d, filepath.Base(config.DefaultModelPath))
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("VIGIL_REQUIRE_MODELS") == "1" {
			t.Fatalf("VIGIL_REQUIRE_MODELS=1 but no object model: %v", err)
		}
		t.Skip("no object model: run bash scripts/models.sh .cache/models")
	}
	return p
}

// TestEngineStartsWithoutTheModel: objects enabled but the model absent:
// the engine starts, says so once (naming the file and how to make it),
// reports the network unloaded while enabled, and still raises motion.
func TestEngineStartsWithoutTheModel(t *testing.T) {
	srv := startSim(t, sim.Camera{Path: "moving", Clip: clip(t, "motion")})
	o := config.DefaultObjects()
	o.Model = filepath.Join(t.TempDir(), "nanodet.onnx")
	c := cameraConfig("cam", srv.URL("moving"))
	c.Person.Enabled = true
	e, events, logs := startEngineObjects(t, o, c)
	await.Until(t, 20*time.Second, "motion", func() bool {
		_, ok := events.firstEvent("cam", "motion", incident.TypeStart)
		return ok
	})
	if e.ObjectsLoaded() {
		t.Error("the network is reported loaded without its model")
	}
	if v := testutil.ToFloat64(e.metrics.ObjectModel); v != 0 {
		t.Errorf("vigil_objects_model_loaded %v, want 0", v)
	}
	if v := testutil.ToFloat64(e.metrics.ObjectsEnabled); v != 1 {
		t.Errorf("vigil_objects_enabled %v, want 1 (the alert on an absent model needs it)", v)
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "object model absent") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d 'object model absent' lines, want 1:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{o.Model, "scripts/models.sh", "HOG"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the log line does not name %q: %s", want, lines[0])
		}
	}
}

// TestEnginePeopleFromTheNetwork runs real footage (vtest.avi's people as
// a camera substream) through the simulator and the real engine with the
// network: a person incident starts during the walk and carries the
// network's people (label, score, pixel box, each its own track id); inference ran under the
// budget and is in the metrics. It needs the model (scripts/models.sh;
// scripts/test.sh makes it); it also runs on YOLOv8n when
// `scripts/models.sh --yolov8n` fetched it (required with VIGIL_YOLO=1,
// as .ci/run sets), at the thresholds the README gives for it.
func TestEnginePeopleFromTheNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("about 20 s of real footage")
	}
	model := modelPath(t)
	yolo := filepath.Join(filepath.Dir(model), "yolov8n.onnx")
	for _, tc := range []struct {
		name, model, kind    string
		minScore, vehicleMin float64
	}{
		{"nanodet", model, "NanoDet 416x416", config.DefaultObjects().MinScore, config.DefaultObjects().VehicleMinScore},
		{"yolov8n", yolo, "YOLO (Ultralytics-style export) 640x640", 0.3, 0.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.model); err != nil {
				if tc.name == "yolov8n" && os.Getenv("VIGIL_YOLO") != "1" {
					t.Skip("no YOLO model: run bash scripts/models.sh --yolov8n .cache/models")
				}
				t.Fatal(err)
			}
			o := config.DefaultObjects()
			o.Model, o.MinScore, o.VehicleMinScore = tc.model, tc.minScore, tc.vehicleMin
			// The walk's still view holds people standing from the
			// start: a first look would report them before the walk.
			o.FirstLook = false
			enginePeopleFromTheNetwork(t, o, tc.kind)
		})
	}
}

func enginePeopleFromTheNetwork(t *testing.T, o config.ObjectsConfig, kind string) {
	c, err := sim.LoadClip(camClip(t, "sub-motion.h264"), 25)
	if err != nil {
		t.Fatal(err)
	}
	srv := startSim(t, sim.Camera{Path: "walk", Clip: c})
	cam := cameraConfig("walk", srv.URL("walk"))
	cam.Person.Enabled = true
	cam.Person.MinHeight = 0.12
	e, events, logs := startEngineObjects(t, o, cam)
	if !e.ObjectsLoaded() {
		t.Fatalf("the network did not load:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), kind) {
		t.Errorf("no log line names the model's kind %q:\n%s", kind, logs.String())
	}
	await.Until(t, 40*time.Second, "a person incident", func() bool {
		_, ok := events.firstEvent("walk", "person", incident.TypeStart)
		return ok
	})
	ev, _ := events.firstEvent("walk", "person", incident.TypeStart)
	d := ev.Data
	if at := d.StartedAt.Sub(srv.RunStart("walk")); at < 5*time.Second || at > 12*time.Second {
		t.Errorf("person started at clip %.1fs, want during the walk (6 s on)", at.Seconds())
	}
	if len(d.Objects) == 0 {
		t.Fatalf("the person event carries no objects: %+v", d)
	}
	ids := map[string]bool{}
	for _, ob := range d.Objects {
		// A weak detection may continue a person already followed.
		if low := analyze.TrackLowScore(o.MinScore); ob.Label != config.LabelPerson || ob.Score < low || ob.Score > 1 {
			t.Errorf("object %+v: want a person scoring %g..1", ob, low)
		}
		if ob.TrackID == "" || ids[ob.TrackID] {
			t.Errorf("object %+v: want a track id of its own", ob)
		}
		ids[ob.TrackID] = true
		pb := ob.PixelBox
		if pb == nil || pb[0] < 0 || pb[1] < 0 || pb[2] > 640 || pb[3] > 360 || pb[2] <= pb[0] || pb[3]-pb[1] < 20 {
			t.Errorf("object %+v: pixel box %v is not a person-sized box in the 640x360 picture", ob, pb)
		}
	}
	if int(d.Score) != len(d.Objects) {
		t.Errorf("score %v (people) but %d objects", d.Score, len(d.Objects))
	}
	// In Frigate's terms (frigate_compat, /api/events): one event per
	// track of the incident, named from its incident's start, with the
	// scores the engine gave.
	var fold frigate.Incident
	tracks := map[string]float64{}
	for _, ev := range events.of("walk") {
		if ev.Data.Kind != "person" || ev.Data.IncidentID != d.IncidentID {
			continue
		}
		fold.Apply(&ev)
		for _, ob := range ev.Data.Objects {
			tracks[ob.TrackID] = ob.Score
		}
	}
	if len(fold.Objects) != len(tracks) {
		t.Errorf("%d Frigate events for %d tracks", len(fold.Objects), len(tracks))
	}
	for _, o := range fold.Objects {
		if start, ok := frigate.StartOf(o.ID); !ok || !start.Equal(d.StartedAt.Truncate(time.Microsecond)) || o.Label != "person" {
			t.Errorf("Frigate event %s (%s): want a person named from the incident's start %v", o.ID, o.Label, d.StartedAt)
		}
		if o.End == nil && o.Score != tracks[o.TrackID] {
			t.Errorf("Frigate event %s scores %v, its track's latest %v", o.ID, o.Score, tracks[o.TrackID])
		}
	}
	if n := testutil.ToFloat64(e.metrics.ObjectInferences); n < 1 {
		t.Errorf("vigil_objects_inferences_total %v", n)
	}
	if n := testutil.CollectAndCount(e.metrics.ObjectSeconds); n != 1 {
		t.Errorf("inference histogram: %d series", n)
	}
}

// TestEngineStillPeopleSleep: cameras in mode auto whose still view
// holds three people standing (real footage, the real network, the
// default first look; H.264 through the simulator, H.265 through
// GStreamer's RTSP server) report them, keep their person incident open
// while they stand, and decode keyframes alone meanwhile: people who do
// not move are re-checked on the keyframes an idle camera decodes, where
// the camera once decoded every picture for as long as they stood.
func TestEngineStillPeopleSleep(t *testing.T) {
	if testing.Short() {
		t.Skip("about 20 s of real footage")
	}
	model := modelPath(t)
	c, err := sim.LoadClip(camClip(t, "sub-static.h264"), 25)
	if err != nil {
		t.Fatal(err)
	}
	srv := startSim(t, sim.Camera{Path: "still", Clip: c})
	gst := gstServer(t, "still="+camClip(t, "sub-static.h265.mkv"))
	var cams []config.Camera
	for id, url := range map[string]string{"sim-h264": srv.URL("still"), "gst-h265": gst + "/still"} {
		cam := cameraConfig(id, url)
		cam.DecodeMode = config.ModeAuto
		cam.Person.Enabled = true
		cam.Person.MinHeight = 0.12
		cams = append(cams, cam)
	}
	o := config.DefaultObjects()
	o.Model = model
	e, events, _ := startEngineObjects(t, o, cams...)
	for _, cam := range cams {
		await.Until(t, 40*time.Second, cam.ID+": a person incident for the people standing", func() bool {
			_, ok := events.firstEvent(cam.ID, "person", incident.TypeStart)
			return ok
		})
	}
	time.Sleep(2 * time.Second) // the wakes that confirmed them end
	decoded := func(id string) float64 { return testutil.ToFloat64(e.metrics.FramesDecoded.WithLabelValues(id)) }
	d0, r0 := map[string]float64{}, map[string]float64{}
	for _, cam := range cams {
		d0[cam.ID], r0[cam.ID] = decoded(cam.ID), e.received(cam.ID)
	}
	time.Sleep(10 * time.Second)
	for _, cam := range cams {
		d, r := decoded(cam.ID)-d0[cam.ID], e.received(cam.ID)-r0[cam.ID]
		// An IDR every 2 s: 2% of the pictures are keyframes.
		if r < 100 || d > r/10 {
			t.Errorf("%s decoded %g of %g pictures while the people stood still, want keyframes alone (at most a tenth)", cam.ID, d, r)
		}
		if ev, ok := events.firstEvent(cam.ID, "person", incident.TypeEnd); ok {
			t.Errorf("%s: the person incident ended at %v while the people stand still", cam.ID, ev.Data.EndedAt)
		}
	}
}

// TestEngineServesManyBusyCameras runs 8 cameras that all show people
// walking at the same moment (real footage through the simulator and the
// real engine, the network under the default budget, which follows the
// machine): every camera gets its person incident during its walk, none
// is starved by the others, and the budget is in the metrics.
func TestEngineServesManyBusyCameras(t *testing.T) {
	if testing.Short() {
		t.Skip("about 30 s of real footage on 8 cameras")
	}
	model := modelPath(t)
	c, err := sim.LoadClip(camClip(t, "sub-motion.h264"), 25)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var sc []sim.Camera
	for i := range n {
		sc = append(sc, sim.Camera{Path: fmt.Sprintf("walk%d", i), Clip: c})
	}
	srv := startSim(t, sc...)
	o := config.DefaultObjects()
	o.Model = model
	o.FirstLook = false // motion's requests, not the people standing at the start
	var cams []config.Camera
	for i := range n {
		cam := cameraConfig(fmt.Sprintf("walk%d", i), srv.URL(fmt.Sprintf("walk%d", i)))
		cam.Person.Enabled = true
		cam.Person.MinHeight = 0.12
		cams = append(cams, cam)
	}
	e, events, logs := startEngineObjects(t, o, cams...)
	if !e.ObjectsLoaded() {
		t.Fatalf("the network did not load:\n%s", logs.String())
	}
	await.Until(t, 60*time.Second, "a person incident on every camera", func() bool {
		for i := range n {
			if _, ok := events.firstEvent(fmt.Sprintf("walk%d", i), "person", incident.TypeStart); !ok {
				return false
			}
		}
		return true
	})
	for i := range n {
		id := fmt.Sprintf("walk%d", i)
		ev, _ := events.firstEvent(id, "person", incident.TypeStart)
		// The walk is 6-16 s of each 22 s loop of the clip.
		at := ev.Data.StartedAt.Sub(srv.RunStart(id))
		if at < 5*time.Second || at > 16*time.Second {
			t.Errorf("%s: person started at clip %.1fs, want during its first walk (6-16 s)", id, at.Seconds())
		} else {
			t.Logf("%s: person at clip %.1fs", id, at.Seconds())
		}
	}
	if n, err := testutil.GatherAndCount(e.metrics.Reg, "vigil_objects_budget_per_second"); n != 1 || err != nil {
		t.Errorf("vigil_objects_budget_per_second: %d series, %v", n, err)
	}
	t.Logf("budget now %.1f/s", e.infer.Rate())
}

// TestEngineRunsTheFloatModelWhenThe8BitIsAbsent: objects.model left to
// its default, whose file (nanodet-int8.onnx) is absent, with the float
// model beside it (a cache made before the 8-bit one was the default):
// the engine runs the float model and says so once.
func TestEngineRunsTheFloatModelWhenThe8BitIsAbsent(t *testing.T) {
	def := modelPath(t)
	float := filepath.Join(filepath.Dir(def), filepath.Base(config.FloatModelPath))
	dir := t.TempDir()
	for _, f := range []string{float, filepath.Join(filepath.Dir(def), nn.ORTLibrary)} {
		if err := os.Symlink(f, filepath.Join(dir, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("VIGIL_MODELS", dir)
	o := config.DefaultObjects()
	if want := filepath.Join(dir, "nanodet-int8.onnx"); o.Model != want {
		t.Fatalf("objects.model's default is %s, want %s", o.Model, want)
	}
	srv := startSim(t, sim.Camera{Path: "moving", Clip: clip(t, "motion")})
	e, _, logs := startEngineObjects(t, o, cameraConfig("cam", srv.URL("moving")))
	if !e.ObjectsLoaded() {
		t.Fatalf("the network is not loaded:\n%s", logs.String())
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "the 8-bit object model is absent") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], filepath.Join(dir, "nanodet.onnx")) || !strings.Contains(lines[0], "scripts/models.sh") {
		t.Errorf("want one line naming the float model run and how to make the 8-bit one, got %q", lines)
	}
}
