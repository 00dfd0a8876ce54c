package decode

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// benchClips are camera-like clips: test pattern plus temporal noise,
// 10 s at 25 fps, GOP 50, no B-frames.
var benchClips = []struct {
	name string
	spec clipSpec
}{
	{"h264_720p", clipSpec{codec: H264, size: "1280x720", seconds: 10, pixFmt: "yuv420p", noise: true, preset: "veryfast"}},
	{"h264_360p", clipSpec{codec: H264, size: "640x360", seconds: 10, pixFmt: "yuv420p", noise: true, preset: "veryfast"}},
	{"h265_720p", clipSpec{codec: H265, size: "1280x720", seconds: 10, pixFmt: "yuv420p", noise: true, preset: "veryfast"}},
	{"h265_360p", clipSpec{codec: H265, size: "640x360", seconds: 10, pixFmt: "yuv420p", noise: true, preset: "veryfast"}},
}

// BenchmarkDecode measures Decode+ScaleGray to a 320-wide picture; one op
// is one frame.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchClips {
		b.Run(bc.name, func(b *testing.B) {
			aus := readAUs(b, sharedClip(b, bc.spec), bc.spec.codec)
			d, err := New(bc.spec.codec)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Decode(aus[0], 0); err != nil {
				b.Fatal(err)
			}
			sw, sh := d.PictureSize()
			w, h := AnalysisSize(sw, sh, 320)
			img := newImage(w, h)
			d.Reset()
			k, frames := 0, 0
			for b.Loop() {
				if k == len(aus) {
					k = 0
					d.Reset()
				}
				got, err := d.Decode(aus[k], int64(k))
				if err != nil || !got {
					b.Fatalf("AU %d: %v, %v", k, got, err)
				}
				if err := d.ScaleGray(img); err != nil {
					b.Fatal(err)
				}
				k++
				frames++
			}
			reportFrames(b, frames)
		})
	}
}

// BenchmarkFFmpegCLI times `ffmpeg -threads 1 -i CLIP -f null -` on the
// same clips for comparison; one op is the whole clip (including process
// start and probing), ns/frame is comparable with BenchmarkDecode.
func BenchmarkFFmpegCLI(b *testing.B) {
	for _, bc := range benchClips {
		b.Run(bc.name, func(b *testing.B) {
			path := sharedClip(b, bc.spec)
			n := len(readAUs(b, path, bc.spec.codec))
			frames := 0
			for b.Loop() {
				cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
					"-threads", "1", "-i", path, "-f", "null", "-")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("ffmpeg: %v\n%s", err, out)
				}
				frames += n
			}
			reportFrames(b, frames)
		})
	}
}

// BenchmarkScaleGray compares swscale algorithms scaling one decoded
// 720p picture to 320x180, and the decoder's box filter for whole
// factors ("box", the default; "area" is swscale's SWS_AREA); one op is
// one picture.
func BenchmarkScaleGray(b *testing.B) {
	spec := benchClips[0].spec
	aus := readAUs(b, sharedClip(b, spec), spec.codec)
	for _, alg := range []struct {
		name  string
		flags int
	}{
		{"fast_bilinear", scaleFastBilinear},
		{"bilinear", scaleBilinear},
		{"area", scaleArea},
		{"box", scaleArea},
	} {
		b.Run(alg.name, func(b *testing.B) {
			d, err := New(spec.codec)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Decode(aus[0], 0); err != nil {
				b.Fatal(err)
			}
			d.setScaleFlags(alg.flags)
			d.setBox(alg.name == "box")
			img := newImage(AnalysisSize(1280, 720, 320))
			for b.Loop() {
				if err := d.ScaleGray(img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func reportFrames(b *testing.B, frames int) {
	s := b.Elapsed().Seconds()
	if frames == 0 || s == 0 {
		return
	}
	b.ReportMetric(s*1e9/float64(frames), "ns/frame")
	b.ReportMetric(float64(frames)/s, "frames/s")
}

// BenchmarkKeyframeAlone measures one keyframe decoded alone and scaled to
// a 320-wide picture, as an idle camera decodes it (a reset decoder, then
// drained), with the in-loop filters and without (SetNoDeblock); one op
// is one keyframe. VIGIL_BENCH_CLIPS adds Annex-B clips of real footage
// (space-separated paths of .h264 or .h265 with access unit delimiters),
// for example the gate matrix's.
func BenchmarkKeyframeAlone(b *testing.B) {
	type clip struct {
		name, path string
		codec      Codec
	}
	var clips []clip
	for _, bc := range benchClips {
		clips = append(clips, clip{bc.name, "", bc.spec.codec})
	}
	for _, p := range strings.Fields(os.Getenv("VIGIL_BENCH_CLIPS")) {
		c := H264
		if strings.HasSuffix(p, ".h265") || strings.HasSuffix(p, ".hevc") {
			c = H265
		}
		clips = append(clips, clip{strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), p, c})
	}
	for i, c := range clips {
		b.Run(c.name, func(b *testing.B) {
			path := c.path
			if path == "" {
				path = sharedClip(b, benchClips[i].spec)
			}
			aus := readAUs(b, path, c.codec)
			var keys [][]byte
			for _, au := range aus {
				if isKeyAU(au, c.codec) {
					keys = append(keys, au)
				}
			}
			if len(keys) == 0 {
				b.Skip("no keyframe")
			}
			for _, mode := range []struct {
				name  string
				noDbk bool
			}{{"deblock", false}, {"nodeblock", true}} {
				b.Run(mode.name, func(b *testing.B) {
					d, err := New(c.codec)
					if err != nil {
						b.Fatal(err)
					}
					defer d.Close()
					// The first unit carries the parameter sets; a reset
					// decoder keeps them.
					if _, err := d.Decode(aus[0], 0); err != nil {
						b.Fatal(err)
					}
					d.SetNoDeblock(mode.noDbk)
					var img Image
					k := 0
					for b.Loop() {
						d.Reset()
						got, err := d.Decode(keys[k%len(keys)], int64(k))
						if err == nil && !got {
							got, err = d.Drain()
						}
						if err != nil || !got {
							b.Fatalf("keyframe %d: %v, %v", k, got, err)
						}
						if img.Pix == nil {
							sw, sh := d.PictureSize()
							img = newImage(AnalysisSize(sw, sh, 320))
						}
						if err := d.ScaleGray(img); err != nil {
							b.Fatal(err)
						}
						k++
					}
				})
			}
		})
	}
}
