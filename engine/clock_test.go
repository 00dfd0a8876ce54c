package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
)

// TestFastRTPClockStillDetectsMotion: a camera whose RTP clock runs 8 s
// per frame (its timestamps say 200 s pass every real second) still has
// its motion detected, over real RTSP: ingest flags the clock (counted,
// logged) and hands analysis frame times that follow arrival, so the
// analyzer's gap limit never resets it.
func TestFastRTPClockStillDetectsMotion(t *testing.T) {
	srv := startSim(t, sim.Camera{Path: "fast", Clip: clip(t, "motion")})
	srv.SetTimestampStep("fast", 8*time.Second)
	cam := fastCamera("fast", srv.URL("fast"))
	cam.StallTimeout = 5 * time.Second
	e, _, logs := startEngine(t, cam)
	// The clip's motion runs from 3 s to 7 s of each 10 s loop.
	await.Until(t, 40*time.Second, "a motion incident on the camera with a fast clock", func() bool {
		return testutil.ToFloat64(e.metrics.Incidents.WithLabelValues("fast", "motion")) > 0
	})
	if n := e.camera("fast").sess.Stats().ClockAhead; n == 0 {
		t.Error("the fast clock was not counted")
	}
	if s := e.statusOf(t, "fast"); !strings.Contains(s.LastError, "rtp clock runs ahead") {
		t.Errorf("camera status error %q does not flag the fast clock", s.LastError)
	}
	if !strings.Contains(logs.String(), "rtp clock runs ahead of arrival") {
		t.Error("the fast clock was not logged")
	}
}
