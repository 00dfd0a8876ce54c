package engine

import (
	"testing"

	"github.com/vigil-video/vigil/analyze"
)

// TestIncidentSeriesAtZero: vigil_incidents_total exists at 0 for every
// kind the camera's configuration can raise (so that increase() sees the
// first incident), and not for kinds it cannot.
func TestIncidentSeriesAtZero(t *testing.T) {
	cam := cameraConfig("cam", "rtsp://"+closedPort(t)+"/x")
	cam.Zones = []analyze.Zone{{Name: "yard", Restricted: true, Polygon: analyze.Polygon{{0, 0}, {1, 0}, {1, 1}}}}
	cfg := testConfig(cam)
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for kind, want := range map[string]int{"motion": 1, "tamper": 1, "intrusion": 1, "camera_offline": 1, "analysis_stalled": 1, "crowd": 0, "loitering": 0, "person": 0, "vehicle": 0} {
		if got := seriesCount(t, e, "vigil_incidents_total", "kind", kind); got != want {
			t.Errorf("vigil_incidents_total{kind=%q}: %d series, want %d", kind, got, want)
		}
	}
}

// seriesCount counts the series of a metric family with label = value.
func seriesCount(t *testing.T, e *Engine, name, label, value string) int {
	t.Helper()
	mfs, err := e.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					n++
				}
			}
		}
	}
	return n
}
