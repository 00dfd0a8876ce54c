package ingest_test

import (
	"testing"
	"time"

	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// burstsOf counts the access units received in one wake-up of the reader
// (within 2 ms of the one before), from the index from on, and returns
// the mean count and the largest delay from capture (the simulator's
// sender reports) to receipt.
func burstsOf(rec *auRecorder, from int) (perWake float64, maxDelay time.Duration) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	aus := rec.aus[from:]
	wakes := 0
	for i, au := range aus {
		if i == 0 || au.Received.Sub(aus[i-1].Received) > 2*time.Millisecond {
			wakes++
		}
		if !au.CaptureTime.IsZero() {
			maxDelay = max(maxDelay, au.Received.Sub(au.CaptureTime))
		}
	}
	return float64(len(aus)) / float64(max(wakes, 1)), maxDelay
}

// TestReadBatchOverRTSP reads a camera-realistic substream (500 kbps,
// real footage) over TCP with reads batched and without: batched, the
// reader takes about two pictures per wake-up instead of one, and no
// picture is held back much past ReadBatch.
func TestReadBatchOverRTSP(t *testing.T) {
	path := testkit.CamClip(t, "sub-static.h264")
	clip, err := sim.LoadClip(path, 25)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.Start(sim.Config{Cameras: []sim.Camera{{Path: "cam1", Clip: clip}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	run := func(batch time.Duration) (float64, time.Duration) {
		rec := &auRecorder{full: make(chan struct{}), want: 150}
		s, err := ingest.NewSession(sessionConfig("cam1", srv.URL("cam1"), func(c *ingest.Config) { c.ReadBatch = batch }), rec)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		defer s.Close()
		select {
		case <-rec.full:
		case <-time.After(30 * time.Second): // guards against hangs only
			t.Fatal("timed out waiting for access units")
		}
		// The mark is set after the first second of the stream.
		return burstsOf(rec, 50)
	}
	off, offDelay := run(0)
	on, onDelay := run(80 * time.Millisecond)
	t.Logf("access units per wake-up: %.2f batched (delay from capture up to %s), %.2f not (%s)", on, onDelay, off, offDelay)
	if on < 1.5 {
		t.Errorf("batched reads took %.2f access units per wake-up, want at least 1.5 (not batched: %.2f)", on, off)
	}
	if onDelay > 500*time.Millisecond {
		t.Errorf("a picture was received %s after its capture with reads batched by 80ms", onDelay)
	}
}
