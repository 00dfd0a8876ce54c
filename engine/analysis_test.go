package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
)

// TestAnalysisStallAlarm: a camera that keeps streaming but whose pictures
// cannot be analyzed, because its timestamps stop advancing or because its
// access units hold no picture (libavcodec rejects them: decode_errors), is never silent: an analysis_stalled incident
// with the cause, the gauge, a log line and the API state, all ended when
// analysis resumes. A healthy camera beside it is not reported.
func TestAnalysisStallAlarm(t *testing.T) {
	srv := startSim(t,
		sim.Camera{Path: "frozen", Clip: clip(t, "static")},
		sim.Camera{Path: "blank", Clip: clip(t, "static")},
		sim.Camera{Path: "fine", Clip: clip(t, "static")},
	)
	var cams []config.Camera
	for _, id := range []string{"frozen", "blank", "fine"} {
		c := fastCamera(id, srv.URL(id))
		c.StallTimeout = 30 * time.Second // the stream does not stop: ingest must not see a stall
		cams = append(cams, c)
	}
	e, events, logs := startEngine(t, cams...)
	for _, id := range []string{"frozen", "blank", "fine"} {
		await.Until(t, 15*time.Second, id+" analyzed", func() bool { return e.statusOf(t, id).FPSAnalyzed > 3 })
	}

	srv.SetFrozenTimestamps("frozen", true)
	srv.SetBlank("blank", true)
	for _, tc := range []struct{ id, cause string }{{"frozen", health.CauseTimestamps}, {"blank", health.CauseDecodeErrors}} {
		await.Until(t, 20*time.Second, tc.id+": analysis_stalled start", func() bool {
			_, ok := events.firstEvent(tc.id, health.KindAnalysisStalled, incident.TypeStart)
			return ok
		})
		ev, _ := events.firstEvent(tc.id, health.KindAnalysisStalled, incident.TypeStart)
		if ev.Data.Cause != tc.cause {
			t.Errorf("%s: cause %q, want %q", tc.id, ev.Data.Cause, tc.cause)
		}
		st := e.statusOf(t, tc.id)
		if st.State != "streaming" || st.Analysis != "stalled" || st.AnalysisCause != tc.cause || st.AnalysisIncident != ev.Data.IncidentID {
			t.Errorf("%s: status state %q analysis %q cause %q incident %q; want streaming, stalled, %q, %q",
				tc.id, st.State, st.Analysis, st.AnalysisCause, st.AnalysisIncident, tc.cause, ev.Data.IncidentID)
		}
		if v := testutil.ToFloat64(e.metrics.AnalysisStalled.WithLabelValues(tc.id)); v != 1 {
			t.Errorf("%s: vigil_camera_analysis_stalled = %v, want 1", tc.id, v)
		}
		if v := testutil.ToFloat64(e.metrics.AnalysisStalls.WithLabelValues(tc.id, tc.cause)); v != 1 {
			t.Errorf("%s: vigil_camera_analysis_stalls_total{cause=%q} = %v, want 1", tc.id, tc.cause, v)
		}
	}
	if !strings.Contains(logs.String(), `msg="analysis stalled" camera=frozen cause=timestamps`) {
		t.Errorf("no log line for the frozen camera:\n%s", logs.String())
	}

	srv.SetFrozenTimestamps("frozen", false)
	srv.SetBlank("blank", false)
	for _, id := range []string{"frozen", "blank"} {
		await.Until(t, 20*time.Second, id+": analysis_stalled end", func() bool {
			_, ok := events.firstEvent(id, health.KindAnalysisStalled, incident.TypeEnd)
			return ok
		})
		if st := e.statusOf(t, id); st.Analysis != "ok" {
			t.Errorf("%s: analysis %q after it resumed", id, st.Analysis)
		}
		if v := testutil.ToFloat64(e.metrics.AnalysisStalled.WithLabelValues(id)); v != 0 {
			t.Errorf("%s: vigil_camera_analysis_stalled = %v after it resumed", id, v)
		}
	}
	if n := events.count("fine", health.KindAnalysisStalled); n != 0 {
		t.Errorf("the healthy camera raised %d analysis_stalled events", n)
	}
	for _, id := range []string{"frozen", "blank", "fine"} {
		if n := events.count(id, health.KindCameraOffline); n != 0 {
			t.Errorf("%s: %d camera_offline events: the stream never stopped", id, n)
		}
	}
}
