package engine

import (
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
)

// TestTamperDoesNotKeepFullDecoding: in mode auto an open tamper incident
// (a covered camera) must not keep every frame decoded: tamper is judged on
// keyframes, and a covered camera is idle. Regression: the worker counted
// every open incident, tamper included, into the gate.
func TestTamperDoesNotKeepFullDecoding(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 20 s")
	}
	// bench/scenarios/covered.h264: 15 fps, covered from 12 s to 17 s.
	c, err := sim.LoadClip("../bench/scenarios/covered.h264", 15)
	if err != nil {
		t.Fatal(err)
	}
	srv := startSim(t, sim.Camera{Path: "cam", Clip: c})
	cam := cameraConfig("cam", srv.URL("cam"))
	cam.DecodeMode = config.ModeAuto
	e, events, _ := startEngine(t, cam)
	await.Until(t, 30*time.Second, "tamper start", func() bool {
		_, ok := events.firstEvent("cam", "tamper", incident.TypeStart)
		return ok
	})
	// Time spent on keyframes only while the incident is open.
	var idle, open time.Duration
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, ok := events.firstEvent("cam", "tamper", incident.TypeEnd); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no tamper end within 30 s")
		}
		if !e.statusOf(t, "cam").DecodingAll {
			idle += 20 * time.Millisecond
		}
		open += 20 * time.Millisecond
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("tamper open %v, keyframes only for %v of it", open, idle)
	if idle < time.Second {
		t.Fatalf("keyframes only for %v of the %v tamper incident of an idle, covered camera: decoding stayed on every frame", idle, open)
	}
	if n := events.count("cam", "motion"); n != 0 {
		t.Errorf("%d motion events from covering the camera", n)
	}
}
