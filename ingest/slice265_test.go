package ingest_test

import (
	"testing"

	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/pion/rtp"

	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/sim"
)

// encode265 makes a small H.265 clip with ffmpeg's libx265 (one thread)
// and the given x265 parameters, and returns its access units.
func encode265(t *testing.T, params string, args ...string) [][][]byte {
	t.Helper()
	return encodeClip(t, 3, "hevc", append(args, "-c:v", "libx265", "-preset", "fast",
		"-x265-params", "log-level=error:pools=none:frame-threads=1:"+params)...)
}

// TestSliceQP265MatchesTheEncoder: with a constant quantizer every H.265
// slice carries exactly that QP, whatever the GOP: B-frames and a pyramid,
// weighted prediction, open GOPs (CRA pictures and their leading ones),
// several references, temporal motion vector prediction and SAO off.
func TestSliceQP265MatchesTheEncoder(t *testing.T) {
	const constQP = "ipratio=1:pbratio=1:aq-mode=0:"
	for _, tc := range []struct {
		name   string
		params string
		want   int
	}{
		{"p_only", constQP + "qp=30:bframes=0", 30},
		{"bframes_weighted", constQP + "qp=27:bframes=4:weightp=1:weightb=1", 27},
		{"open_gop", constQP + "qp=33:bframes=3:open-gop=1:keyint=20:min-keyint=20", 33},
		{"refs_pyramid", constQP + "qp=24:ref=4:bframes=2:b-pyramid=1", 24},
		{"no_tmvp_no_sao", constQP + "qp=38:bframes=0:temporal-mvp=0:sao=0", 38},
		{"init_qp_far", constQP + "qp=12:bframes=1", 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ingest.NewQPReader(ingest.H265)
			aus := encode265(t, tc.params)
			for i, au := range aus {
				qp, err := p.QP(au)
				if err != nil {
					t.Fatalf("access unit %d of %d: %v", i, len(aus), err)
				}
				if qp != tc.want {
					t.Fatalf("access unit %d of %d: qp %d, want %d", i, len(aus), qp, tc.want)
				}
			}
		})
	}
}

// TestSliceQP265FollowsRateControl: under a bitrate the QP of an H.265
// stream moves, and a still picture is coded at a higher QP than moving
// noise.
func TestSliceQP265FollowsRateControl(t *testing.T) {
	p := ingest.NewQPReader(ingest.H265)
	seen := map[int]bool{}
	for i, au := range encode265(t, "bitrate=300:vbv-maxrate=300:vbv-bufsize=300:bframes=0") {
		qp, err := p.QP(au)
		if err != nil {
			t.Fatalf("access unit %d: %v", i, err)
		}
		seen[qp] = true
	}
	if len(seen) < 3 {
		t.Fatalf("QPs %v: want the rate control's QP to move", seen)
	}
}

// TestSliceQP265WeightShowsAFade: x265's weighted prediction codes a fade
// to black as luma weights in the slice headers; the reader finds one that
// is a fade (Fade) during it, none before or after, and the QP still reads right
// after the weight tables (with their chroma weights).
func TestSliceQP265WeightShowsAFade(t *testing.T) {
	aus := encode265(t, "qp=30:ipratio=1:pbratio=1:aq-mode=0:bframes=0:weightp=1:keyint=75", "-vf", "fade=t=out:st=1.6:d=0.6")
	p := ingest.NewQPReader(ingest.H265)
	fades := 0
	for i, au := range aus {
		qp, err := p.QP(au)
		if err != nil || qp != 30 {
			t.Fatalf("access unit %d: qp %d (%v), want 30", i, qp, err)
		}
		switch {
		case i < 40 && p.Fade():
			t.Errorf("access unit %d, before the fade: a fade", i)
		case i >= 40 && i < 56 && p.Fade():
			fades++
		case i >= 60 && p.Fade():
			t.Errorf("access unit %d, black after the fade: a fade", i)
		}
	}
	if fades == 0 {
		t.Error("no picture of the fade carried a fade's weight")
	}
	t.Logf("%d pictures of the fade carry a fade's weight", fades)
}

// FuzzSliceQP265: garbage never panics, after real parameter sets or
// instead of them.
func FuzzSliceQP265(f *testing.F) {
	clip, err := sim.LoadClip("../sim/clips/motion.h265", 25)
	if err != nil {
		f.Fatal(err)
	}
	for _, au := range clip.AUs[:3] {
		for _, n := range au {
			f.Add(n)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := ingest.NewQPReader(ingest.H265)
		p.QP([][]byte{b})                                   //nolint:errcheck // only the parser's survival matters
		p.Param(b)                                          //nolint:errcheck
		p.Param(append([]byte{0x44, 0x01}, b...))           //nolint:errcheck // a PPS
		p.QP([][]byte{b, append([]byte{0x02, 0x01}, b...)}) //nolint:errcheck
		for _, au := range clip.AUs[:1] {                   // real parameter sets
			p.QP(au) //nolint:errcheck
		}
		p.QP([][]byte{append([]byte{0x02, 0x01}, b...)}) //nolint:errcheck // a TRAIL_R slice
		p.QP([][]byte{append([]byte{0x26, 0x01}, b...)}) //nolint:errcheck // an IDR slice
		p.QP([][]byte{append([]byte{0x2a, 0x01}, b...)}) //nolint:errcheck // a CRA slice
	})
}

// TestDepacketizerReadsTheQP: the access units a camera's RTP stream
// becomes carry their slice QP, H.264 and H.265 alike (fragmented
// keyframes, parameter sets in band): what the activity signal reads.
func TestDepacketizerReadsTheQP(t *testing.T) {
	for _, tc := range []struct {
		codec ingest.Codec
		aus   func(t *testing.T) [][][]byte
		want  int
	}{
		{ingest.H264, func(t *testing.T) [][][]byte { return encode(t, "-qp", "30", "-x264-params", "ipratio=1") }, 30},
		{ingest.H265, func(t *testing.T) [][][]byte { return encode265(t, "ipratio=1:pbratio=1:aq-mode=0:qp=33:bframes=0") }, 33},
	} {
		t.Run(string(tc.codec), func(t *testing.T) {
			var packetize func([][]byte) ([]*rtp.Packet, error)
			if tc.codec == ingest.H265 {
				e := &rtph265.Encoder{PayloadType: 96, PayloadMaxSize: 1200}
				if err := e.Init(); err != nil {
					t.Fatal(err)
				}
				packetize = e.Encode
			} else {
				e := &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: 1200, PacketizationMode: 1}
				if err := e.Init(); err != nil {
					t.Fatal(err)
				}
				packetize = e.Encode
			}
			d, err := ingest.NewDepacketizer(tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			units := 0
			for i, au := range tc.aus(t) {
				pkts, err := packetize(au)
				if err != nil {
					t.Fatal(err)
				}
				for _, pkt := range pkts {
					u, ok := d.Packet(pkt)
					if !ok {
						continue
					}
					units++
					if u.QP != tc.want {
						t.Fatalf("access unit %d (key %v): QP %d, want %d", i, u.Key, u.QP, tc.want)
					}
				}
			}
			if units < 50 {
				t.Fatalf("%d access units out of the depacketizer, want the clip's 75", units)
			}
		})
	}
}

// TestSliceQP265ForgetsAnSPSThatFails: an SPS the parser refuses (here cut
// short) makes the reader forget the SPS it had, rather than read the next
// slices against parameters the camera no longer uses; the next SPS that
// parses brings the QP back.
func TestSliceQP265ForgetsAnSPSThatFails(t *testing.T) {
	aus := encode265(t, "qp=30:ipratio=1:pbratio=1:aq-mode=0:bframes=0:keyint=75")
	p := ingest.NewQPReader(ingest.H265)
	var sps []byte
	for _, n := range aus[0] {
		if n[0]>>1&0x3f == 33 {
			sps = n
		}
	}
	if sps == nil {
		t.Fatal("no SPS in the first access unit")
	}
	if qp, err := p.QP(aus[0]); err != nil || qp != 30 {
		t.Fatalf("keyframe: qp %d (%v), want 30", qp, err)
	}
	if err := p.Param(sps[:6]); err == nil {
		t.Fatal("an SPS cut to 6 bytes parsed")
	}
	if qp, err := p.QP(aus[1]); err == nil {
		t.Fatalf("after an SPS that failed: qp %d, want no QP", qp)
	}
	if err := p.Param(sps); err != nil {
		t.Fatal(err)
	}
	if qp, err := p.QP(aus[2]); err != nil || qp != 30 {
		t.Fatalf("after the SPS again: qp %d (%v), want 30", qp, err)
	}
}
