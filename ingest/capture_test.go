package ingest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/sim"
	"github.com/vigil-video/vigil/unit"
)

// auRecorder is a Handler keeping the capture and receipt times of the
// access units it gets.
type auRecorder struct {
	mu   sync.Mutex
	aus  []unit.AccessUnit
	full chan struct{} // closed once want units arrived
	want int
}

func (r *auRecorder) StreamStarted(ingest.StreamInfo)          {}
func (r *auRecorder) StateChanged(ingest.State, string, error) {}
func (r *auRecorder) AccessUnit(au unit.AccessUnit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	au.Data = nil
	r.aus = append(r.aus, au)
	if len(r.aus) == r.want {
		close(r.full)
	}
}

// TestCaptureTimeBeforeReceipt reads a simulated camera, whose sender
// reports stamp each frame with its wall-clock send schedule, and checks
// that no access unit is captured after it was received.
func TestCaptureTimeBeforeReceipt(t *testing.T) {
	clip, err := sim.EmbeddedClip("motion")
	if err != nil {
		t.Fatal(err)
	}
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) {
			srv, err := sim.Start(sim.Config{UDP: true, Cameras: []sim.Camera{{Path: "cam1", Clip: clip}}})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			// 75 AUs at 25 fps: 3 s, spanning the camera's second sender report.
			rec := &auRecorder{full: make(chan struct{}), want: 75}
			s, err := ingest.NewSession(sessionConfig("cam1", srv.URL("cam1"), func(c *ingest.Config) { c.Transport = transport }), rec)
			if err != nil {
				t.Fatal(err)
			}
			s.Start()
			select {
			case <-rec.full:
			case <-time.After(20 * time.Second): // guards against hangs only
				t.Fatal("timed out waiting for access units")
			}
			s.Close()

			rec.mu.Lock()
			defer rec.mu.Unlock()
			stamped := 0
			for i, au := range rec.aus {
				if au.CaptureTime.IsZero() {
					continue
				}
				stamped++
				// 1 ms covers NTP rounding; the camera stamps a frame
				// before it sends it.
				if ahead := au.CaptureTime.Sub(au.Received); ahead > time.Millisecond {
					t.Errorf("AU %d: captured %v after it was received", i, ahead)
				}
			}
			if stamped < rec.want/2 {
				t.Errorf("%d of %d access units have a capture time", stamped, len(rec.aus))
			}
		})
	}
}

// sessionConfig is the session of a camera configured with only id and
// url, changed by f.
func sessionConfig(id, url string, f func(*ingest.Config)) ingest.Config {
	cam := config.DefaultCamera()
	cam.ID, cam.URL = id, url
	c := ingest.SessionConfig(cam)
	f(&c)
	return c
}
