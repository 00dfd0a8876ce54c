package ingest

import (
	"bytes"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
)

func TestTimeline(t *testing.T) {
	const rate = 90000
	frame := uint32(rate / 25) // 40 ms
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	for _, tc := range []struct {
		name string
		ts   []uint32
		want []time.Duration
		disc uint64
	}{
		{"random initial value", []uint32{1234567890, 1234567890 + frame, 1234567890 + 2*frame}, []time.Duration{0, ms(40), ms(80)}, 0},
		{"wrap-around", []uint32{0xFFFFFFFF - frame, 0xFFFFFFFF, frame - 1, 2*frame - 1}, []time.Duration{0, ms(40), ms(80), ms(120)}, 0},
		{"reordered", []uint32{100, 100 + 2*frame, 100 + frame, 100 + 3*frame}, []time.Duration{0, ms(80), ms(40), ms(120)}, 0},
		{"same timestamp", []uint32{7, 7, 7 + frame}, []time.Duration{0, 0, ms(40)}, 0},
		{"before the first", []uint32{5 * frame, 4 * frame, 6 * frame}, []time.Duration{0, -ms(40), ms(40)}, 0},
		// A clock restart: the timeline goes on one frame after the last.
		{"jump back", []uint32{1e9, 1e9 + frame, 5, 5 + frame}, []time.Duration{0, ms(40), ms(80), ms(120)}, 1},
		{"jump forward", []uint32{0, frame, frame + 3600*rate, frame + 3600*rate + frame}, []time.Duration{0, ms(40), ms(80), ms(120)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := &timeline{clockRate: rate}
			for i, ts := range tc.ts {
				if got := tl.pts(ts, time.Time{}); got != tc.want[i] {
					t.Fatalf("pts #%d (ts %d) = %v, want %v", i, ts, got, tc.want[i])
				}
			}
			if tl.discontinuities != tc.disc {
				t.Fatalf("discontinuities = %d, want %d", tl.discontinuities, tc.disc)
			}
		})
	}
}

func TestTimelineLongStream(t *testing.T) {
	// Two days at 90 kHz: the product ticks*1e9 overflows int64 after about
	// a day; the timeline must not.
	tl := &timeline{clockRate: 90000}
	ts := uint32(4000000000)
	tl.pts(ts, time.Time{})
	step := uint32(90000) // one second
	var got time.Duration
	for range 2 * 24 * 3600 {
		ts += step
		got = tl.pts(ts, time.Time{})
	}
	if want := 48 * time.Hour; got != want {
		t.Fatalf("pts after 48 h = %v, want %v", got, want)
	}
}

// TestFragmentedKeyframesFirst feeds camera-sized access units, cut into
// MTU-sized FU-A fragments with a random initial timestamp and sequence
// number, through the depacketizer and the timeline, as a session does:
// every access unit gets its own presentation time from the first one on
// (gortsplib's time decoder never starts on such a stream).
func TestFragmentedKeyframesFirst(t *testing.T) {
	enc := &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: 1400}
	ssrc, seq, ts0 := uint32(0x11223344), uint16(65500), uint32(0xFFFF0000)
	enc.SSRC, enc.InitialSequenceNumber = &ssrc, &seq
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	sps := []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	idr := append([]byte{0x65, 0x88, 0x84}, bytes.Repeat([]byte{0x5a}, 60000)...)
	p := append([]byte{0x41, 0x9a, 0x02}, bytes.Repeat([]byte{0x3c}, 3000)...)
	dp, err := NewDepacketizer(H264)
	if err != nil {
		t.Fatal(err)
	}
	tl := &timeline{clockRate: 90000}
	var pts []time.Duration
	packets := 0
	for i := range 50 {
		au := [][]byte{p}
		if i%25 == 0 {
			au = [][]byte{sps, pps, idr}
		}
		pkts, err := enc.Encode(au)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkt := range pkts {
			pkt.Timestamp = ts0 + uint32(i)*3600
			packets++
			if got, ok := dp.Packet(pkt); ok {
				if got.Key != (i%25 == 0) {
					t.Fatalf("access unit %d: key = %v", i, got.Key)
				}
				pts = append(pts, tl.pts(pkt.Timestamp, time.Time{}))
			}
		}
	}
	if packets < 50+2*40 {
		t.Fatalf("only %d packets: the keyframes were not fragmented", packets)
	}
	if len(pts) != 50 {
		t.Fatalf("%d access units out of 50", len(pts))
	}
	for i, v := range pts {
		if want := time.Duration(i) * 40 * time.Millisecond; v != want {
			t.Fatalf("access unit %d: pts %v, want %v", i, v, want)
		}
	}
}

// TestTimelineFollowsArrivalWhenAhead: a clock running fast (8 s of
// timestamp per 40 ms frame) gives presentation times 40 ms apart, each
// counted, and the clock is found running fast; a burst after a network delay (timestamps 40 ms apart arriving
// together) and a slow camera (1 s per frame) keep their timestamps.
func TestTimelineFollowsArrivalWhenAhead(t *testing.T) {
	const rate = 90000
	t0 := time.Unix(1000, 0)
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	for _, tc := range []struct {
		name    string
		step    uint32          // timestamp step per frame
		arrive  []time.Duration // arrival of each frame after t0
		want    []time.Duration
		clamped uint64
	}{
		{"fast clock", 8 * rate, []time.Duration{0, ms(40), ms(80), ms(120)}, []time.Duration{0, ms(40), ms(80), ms(120)}, 3},
		{"burst", rate / 25, []time.Duration{0, ms(2000), ms(2001), ms(2002)}, []time.Duration{0, ms(40), ms(80), ms(120)}, 0},
		{"slow camera", rate, []time.Duration{0, ms(1000), ms(2000), ms(3000)}, []time.Duration{0, ms(1000), ms(2000), ms(3000)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := &timeline{clockRate: rate}
			ts := uint32(0xFFFF0000)
			for i, a := range tc.arrive {
				if got := tl.pts(ts+uint32(i)*tc.step, t0.Add(a)); got != tc.want[i] {
					t.Fatalf("pts #%d = %v, want %v", i, got, tc.want[i])
				}
			}
			if tl.clamped != tc.clamped || tl.discontinuities != 0 {
				t.Fatalf("clamped %d, discontinuities %d; want %d, 0", tl.clamped, tl.discontinuities, tc.clamped)
			}
			n := len(tc.arrive)
			last, gap := tc.arrive[n-1], tc.arrive[n-1]-tc.arrive[n-2]
			for j := range 6 { // six more frames the same way
				tl.pts(ts+uint32(n+j)*tc.step, t0.Add(last+time.Duration(j+1)*gap))
			}
			if fast := tl.runningFast(); fast != (tc.clamped > 0) {
				t.Errorf("running fast = %v after 10 such steps", fast)
			}
		})
	}
}
