package ingest_test

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/sim"
)

// encode makes a small H.264 clip with ffmpeg's libx264 and the given
// options, and returns its access units.
func encode(t *testing.T, args ...string) [][][]byte {
	t.Helper()
	return encodeClip(t, 2, "h264", append([]string{"-c:v", "libx264", "-g", "25", "-bf", "0"}, args...)...)
}

// encodeClip encodes seconds of ffmpeg's testsrc2 at 320x180 25 fps with
// the encoder args into a raw stream of format (h264, hevc), and returns
// its access units.
func encodeClip(t *testing.T, seconds int, format string, args ...string) [][][]byte {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed")
	}
	out := filepath.Join(t.TempDir(), "clip."+format)
	cmd := append([]string{"-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", strconv.Itoa(seconds)}, args...)
	cmd = append(cmd, "-f", format, out)
	if b, err := exec.Command("ffmpeg", cmd...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	clip, err := sim.LoadClip(out, 25)
	if err != nil {
		t.Fatal(err)
	}
	return clip.AUs
}

// TestSliceQPMatchesTheEncoder: with a constant quantizer the P slices
// carry exactly that QP, whatever the entropy coder, weighted prediction
// or reference count.
func TestSliceQPMatchesTheEncoder(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"cabac_weightp", []string{"-qp", "30", "-x264-params", "ipratio=1:weightp=2"}},
		{"cavlc_refs", []string{"-qp", "22", "-coder", "0", "-refs", "4", "-x264-params", "ipratio=1"}},
		{"baseline_profile", []string{"-qp", "35", "-profile:v", "baseline", "-x264-params", "ipratio=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string]int{"cabac_weightp": 30, "cavlc_refs": 22, "baseline_profile": 35}[tc.name]
			var p ingest.SliceQP
			for i, au := range encode(t, tc.args...) {
				qp, err := p.QP(au)
				if err != nil {
					t.Fatalf("access unit %d: %v", i, err)
				}
				if qp != want {
					t.Fatalf("access unit %d (key %v): qp %d, want %d", i, h264.IsRandomAccess(au), qp, want)
				}
			}
		})
	}
}

// TestSliceQPFollowsRateControl: under CBR the QP rises when the picture
// gets busy, which is what wakes full decoding when sizes stay flat.
func TestSliceQPFollowsRateControl(t *testing.T) {
	var p ingest.SliceQP
	seen := map[int]bool{}
	for i, au := range encode(t, "-b:v", "150k", "-maxrate", "150k", "-bufsize", "75k") {
		qp, err := p.QP(au)
		if err != nil {
			t.Fatalf("access unit %d: %v", i, err)
		}
		seen[qp] = true
	}
	if len(seen) < 3 {
		t.Errorf("rate-controlled clip shows %d distinct QPs, want the QP to vary", len(seen))
	}
}

// TestSliceQPOnShippedClip: every access unit of the shipped clip parses.
func TestSliceQPOnShippedClip(t *testing.T) {
	clip, err := sim.LoadClip("../sim/clips/motion.h264", 25)
	if err != nil {
		t.Fatal(err)
	}
	var p ingest.SliceQP
	for i, au := range clip.AUs {
		if qp, err := p.QP(au); err != nil || qp < 1 || qp > 51 {
			t.Fatalf("access unit %d: qp %d, %v", i, qp, err)
		}
	}
}

// FuzzSliceQP: garbage never panics.
func FuzzSliceQP(f *testing.F) {
	clip, err := sim.LoadClip("../sim/clips/motion.h264", 25)
	if err != nil {
		f.Fatal(err)
	}
	for _, au := range clip.AUs[:3] {
		for _, n := range au {
			f.Add(n)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p ingest.SliceQP
		for _, au := range clip.AUs[:1] { // real parameter sets first
			p.QP(au) //nolint:errcheck // only the parser's survival matters
		}
		p.QP([][]byte{b})                             //nolint:errcheck
		p.Param(b)                                    //nolint:errcheck
		p.QP([][]byte{b, append([]byte{0x65}, b...)}) //nolint:errcheck
	})
}

// BenchmarkSliceQP: the QP of the predicted pictures of the shipped clips,
// H.264 and H.265, read from their slice headers.
func BenchmarkSliceQP(b *testing.B) {
	for _, codec := range []ingest.Codec{ingest.H264, ingest.H265} {
		b.Run(string(codec), func(b *testing.B) {
			clip, err := sim.LoadClip("../sim/clips/motion."+string(codec), 25)
			if err != nil {
				b.Fatal(err)
			}
			p := ingest.NewQPReader(codec)
			p.QP(clip.AUs[0]) //nolint:errcheck
			aus := clip.AUs[1:50]
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := p.QP(aus[i%len(aus)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSliceWeightShowsACover: x264's default weighted prediction codes the
// lens covered at 12 s (bench/scenarios/longgop, 92% black) as a fade: the
// cover's P-frame is as small as the still view's, and only its luma
// weight shows the picture going dark. The still view's P slices carry no
// weight, or one close to 1.
func TestSliceWeightShowsACover(t *testing.T) {
	clip, err := sim.LoadClip("../bench/scenarios/longgop/covered-gop5s.h264", 15)
	if err != nil {
		t.Fatal(err)
	}
	var p ingest.SliceQP
	for i, au := range clip.AUs {
		if _, err := p.QP(au); err != nil {
			t.Fatalf("access unit %d: %v", i, err)
		}
		scale, offset, ok := p.Weight()
		switch {
		case i == 180: // 12.0 s at 15 fps: the cover
			t.Logf("the cover: weight %.3f, offset %d", scale, offset)
			if !ok || scale > 0.5 || !p.Fade() {
				t.Errorf("the cover's picture: weight %.3f offset %d (carried: %v), want a weight under 0.5", scale, offset, ok)
			}
		case i < 180 && (p.Fade() || ok && (scale < 0.9 || scale > 1.1 || offset < -8 || offset > 8)):
			t.Errorf("still view, access unit %d: weight %.3f offset %d, want none or close to 1", i, scale, offset)
		}
	}
}
