package ingest

import (
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestStreamStats(t *testing.T) {
	var jit, key atomic.Int64
	var rate atomic.Uint64
	var fps atomic.Uint64
	st := &streamStats{clockRate: 90000, jitterOut: &jit, rateOut: &rate, keyOut: &key, fpsOut: &fps}
	t0 := time.Unix(1000, 0)
	// 50 frames at exactly 40 ms: no jitter, 2 packets of 1000 bytes each.
	for i := range 50 {
		at := t0.Add(time.Duration(i) * 40 * time.Millisecond)
		ts := uint32(4294960000 + i*3600) // wraps around 2^32
		st.packet(&rtp.Packet{Header: rtp.Header{Timestamp: ts}, Payload: make([]byte, 1000)}, at)
		st.packet(&rtp.Packet{Header: rtp.Header{Timestamp: ts}, Payload: make([]byte, 1000)}, at.Add(3*time.Millisecond))
		st.accessUnit(at.Add(3 * time.Millisecond))
		if i%25 == 0 {
			st.keyframe(time.Duration(i) * 40 * time.Millisecond)
		}
	}
	if j := time.Duration(jit.Load()); j > 10*time.Microsecond {
		t.Fatalf("jitter %s on a perfectly paced stream, across a timestamp wrap", j)
	}
	if k := time.Duration(key.Load()); k != time.Second {
		t.Fatalf("keyframe interval %s, want 1s", k)
	}
	// 2000 bytes per 40 ms = 400 kbit/s.
	if r := st.rateOut.Load(); r == 0 {
		t.Fatal("no bitrate after 2 s")
	}
	got := math.Float64frombits(rate.Load())
	if got < 380e3 || got > 420e3 {
		t.Fatalf("bitrate %.0f bit/s, want about 400000", got)
	}
	if f := math.Float64frombits(fps.Load()); f < 24 || f > 26 {
		t.Fatalf("frame rate %.2f, want 25", f)
	}
	// Frames arriving alternately 10 ms early and late: jitter near 20 ms.
	for i := 50; i < 400; i++ {
		off := 10 * time.Millisecond
		if i%2 == 0 {
			off = -off
		}
		at := t0.Add(time.Duration(i)*40*time.Millisecond + off)
		st.packet(&rtp.Packet{Header: rtp.Header{Timestamp: uint32(4294960000 + i*3600)}}, at)
	}
	if j := time.Duration(jit.Load()); j < 15*time.Millisecond || j > 25*time.Millisecond {
		t.Fatalf("jitter %s, want about 20ms", j)
	}
}
