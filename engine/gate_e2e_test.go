package engine

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/event"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
)

// TestAutoModeMatchesAll: on the shipped clip, idle then a moving object,
// a camera in mode auto raises the incident that mode all raises, starting
// at most 0.5 s later, and decodes far fewer frames while idle.
func TestAutoModeMatchesAll(t *testing.T) {
	srv := startSim(t,
		sim.Camera{Path: "all", Clip: clip(t, "motion")},
		sim.Camera{Path: "auto", Clip: clip(t, "motion")},
		sim.Camera{Path: "idle", Clip: clip(t, "static")},
	)
	all := cameraConfig("all", srv.URL("all"))
	auto := cameraConfig("auto", srv.URL("auto"))
	auto.DecodeMode = config.ModeAuto
	idle := cameraConfig("idle", srv.URL("idle"))
	idle.DecodeMode = config.ModeAuto
	e, events, _ := startEngine(t, all, auto, idle)

	await.Until(t, 25*time.Second, "both incidents", func() bool {
		_, a := events.firstEvent("all", "motion", event.TypeStart)
		_, b := events.firstEvent("auto", "motion", event.TypeStart)
		return a && b
	})
	a, _ := events.firstEvent("all", "motion", event.TypeStart)
	b, _ := events.firstEvent("auto", "motion", event.TypeStart)
	// Both clips restart at their reader's PLAY, within milliseconds of
	// each other, so their timelines line up.
	delay := b.Data.StartedAt.Sub(a.Data.StartedAt)
	lateA := a.Data.FrameTime.Sub(a.Data.StartedAt)
	lateB := b.Data.FrameTime.Sub(b.Data.StartedAt)
	t.Logf("mode all: started_at %s, triggered %s later; mode auto: started_at %s, triggered %s later (delta %s)",
		a.Data.StartedAt.Format(time.StampMilli), lateA, b.Data.StartedAt.Format(time.StampMilli), lateB, delay)
	time.Sleep(2 * time.Second)
	decoded := func(id string) float64 { return testutil.ToFloat64(e.metrics.FramesDecoded.WithLabelValues(id)) }
	received := e.received("idle")
	if d := decoded("idle"); d > received/5 {
		t.Errorf("idle camera in mode auto decoded %g of %g frames", d, received)
	}
	st := e.statusOf(t, "auto")
	if st.Wakeups == 0 {
		t.Error("auto camera never woke")
	}
	// The wake-up burst replays up to a GOP of buffered units: late by
	// design, it must not be taken for overload.
	if st.OverloadStep != "full" {
		t.Errorf("auto camera stepped down to %q after waking on an idle machine", st.OverloadStep)
	}
	if delay > 500*time.Millisecond {
		t.Errorf("mode auto started %s after mode all, want at most 0.5s", delay)
	}
}
