package ingest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
)

// TestUnsupportedIsRetried: a camera whose DESCRIBE first offers audio
// only is failed with reason unsupported, naming what it found, and
// streams once the server offers video again: failed is not forever.
func TestUnsupportedIsRetried(t *testing.T) {
	clip, err := sim.EmbeddedClip("static")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(sim.Config{Cameras: []sim.Camera{{Path: "cam", Clip: clip}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetAudioOnly("cam", true)
	rec := &stateRecorder{}
	s, err := ingest.NewSession(sessionConfig("cam", srv.URL("cam"), func(c *ingest.Config) {
		c.BackoffMin, c.BackoffMax = 20*time.Millisecond, 100*time.Millisecond
	}), rec)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Close()
	await.Until(t, 15*time.Second, "the camera failed with reason unsupported", func() bool {
		st := s.Status()
		return st.State == ingest.StateFailed && st.Reason == ingest.ReasonUnsupported
	})
	if st := s.Status(); !strings.Contains(st.Err, "audio/G711") {
		t.Errorf("error %q does not say what the stream offered", st.Err)
	}
	srv.SetAudioOnly("cam", false)
	await.Until(t, 15*time.Second, "the camera streaming once video is offered", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return s.Status().State == ingest.StateStreaming && rec.aus > 0
	})
}
