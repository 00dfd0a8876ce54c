package decode

import (
	"errors"
	"math"
	"testing"
)

// expandRange maps limited-range luma levels to full range, as ffmpeg's
// own gray conversion does, so our luma-only output can be compared with it.
func expandRange(img Image) Image {
	out := Image{Pix: make([]byte, img.Width*img.Height), Width: img.Width, Height: img.Height, Stride: img.Width}
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			v := math.Round((float64(img.Pix[y*img.Stride+x]) - 16) * 255 / 219)
			out.Pix[y*out.Width+x] = byte(min(max(v, 0), 255))
		}
	}
	return out
}

func TestDecodeClips(t *testing.T) {
	tests := []struct {
		name    string
		spec    clipSpec
		limited bool // luma-only path: output keeps limited range
	}{
		{"h264_yuv420p", h264Clip, true},
		{"h265_yuv420p", h265Clip, true},
		{"h264_yuv420p10le", h264Clip10, true},
		{"h265_gbrp", h265ClipRG, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := sharedClip(t, tt.spec)
			aus := readAUs(t, path, tt.spec.codec)
			const w, h = 320, 180
			ref := refGray(t, path, w, h)
			if len(ref) != len(aus) {
				t.Fatalf("ffmpeg decoded %d frames, clip has %d access units", len(ref), len(aus))
			}
			d, err := New(tt.spec.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if w, h := d.PictureSize(); w != 0 || h != 0 {
				t.Fatalf("PictureSize before decoding = %dx%d, want 0x0", w, h)
			}
			img := newImage(w, h)
			if err := d.ScaleGray(img); !errors.Is(err, ErrNoPicture) {
				t.Fatalf("ScaleGray before decoding: %v, want ErrNoPicture", err)
			}
			pictures, keys := 0, 0
			for i, au := range aus {
				pts := int64(1000 + 40*i)
				got, err := d.Decode(au, pts)
				if err != nil {
					t.Fatalf("AU %d: %v", i, err)
				}
				if !got {
					t.Fatalf("AU %d: no picture", i)
				}
				pictures++
				if d.PictureKey() {
					keys++
				} else if i == 0 {
					t.Fatal("AU 0, the stream's first, is not a keyframe")
				}
				if pw, ph := d.PictureSize(); pw != 640 || ph != 360 {
					t.Fatalf("AU %d: picture %dx%d, want 640x360", i, pw, ph)
				}
				if d.PicturePTS() != pts {
					t.Fatalf("AU %d: PicturePTS %d, want %d", i, d.PicturePTS(), pts)
				}
				if err := d.ScaleGray(img); err != nil {
					t.Fatalf("AU %d: %v", i, err)
				}
				cmp := img
				if tt.limited {
					cmp = expandRange(img)
				}
				refImg := Image{Pix: ref[i], Width: w, Height: h, Stride: w}
				if diff := math.Abs(mean(cmp) - mean(refImg)); diff > 1.5 {
					t.Fatalf("AU %d: mean %.1f, ffmpeg's %.1f", i, mean(cmp), mean(refImg))
				}
				if mad := meanAbsDiff(cmp, ref[i]); mad > 2 {
					t.Fatalf("AU %d: mean absolute difference from ffmpeg's picture %.2f", i, mad)
				}
			}
			if pictures != len(aus) {
				t.Fatalf("%d pictures from %d access units", pictures, len(aus))
			}
			if keys == pictures {
				t.Fatalf("every one of %d pictures flagged a keyframe", pictures)
			}
			if n, fails := d.Stats(); n != uint64(len(aus)) || fails != 0 {
				t.Fatalf("Stats = %d, %d; want %d, 0", n, fails, len(aus))
			}
		})
	}
}

func TestSkipNonKey(t *testing.T) {
	for _, spec := range []clipSpec{h264Clip, h265Clip} {
		t.Run(spec.codec.String(), func(t *testing.T) {
			aus := readAUs(t, sharedClip(t, spec), spec.codec)
			d, err := New(spec.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.SetSkip(SkipNonKey)
			keys := 0
			for i, au := range aus {
				key := isKeyAU(au, spec.codec)
				if key {
					keys++
				}
				got, err := d.Decode(au, int64(i))
				if err != nil {
					t.Fatalf("AU %d: %v", i, err)
				}
				if got != key {
					t.Fatalf("AU %d: picture %v, keyframe %v", i, got, key)
				}
				if got && d.PicturePTS() != int64(i) {
					t.Fatalf("AU %d: PicturePTS %d", i, d.PicturePTS())
				}
			}
			if keys < 2 {
				t.Fatalf("clip has %d keyframes, want at least 2", keys)
			}
			// Back to full decoding: the next GOP decodes completely.
			d.SetSkip(SkipNone)
			d.Reset()
			for i, au := range aus {
				if got, err := d.Decode(au, int64(i)); err != nil || !got {
					t.Fatalf("after SkipNone, AU %d: %v, %v", i, got, err)
				}
			}
		})
	}
}

// nextKey returns the index of the first keyframe access unit at or after i.
func nextKey(t *testing.T, aus [][]byte, i int, codec Codec) int {
	t.Helper()
	for ; i < len(aus); i++ {
		if isKeyAU(aus[i], codec) {
			return i
		}
	}
	t.Fatal("no keyframe left in clip")
	return -1
}

// checkRecovers decodes aus[from:] and checks that every access unit gives
// a picture matching ffmpeg's reference.
func checkRecovers(t *testing.T, d *Decoder, aus, ref [][]byte, from int) {
	t.Helper()
	img := newImage(320, 180)
	for i := from; i < len(aus); i++ {
		got, err := d.Decode(aus[i], int64(i))
		if err != nil || !got {
			t.Fatalf("AU %d after recovery point %d: %v, %v", i, from, got, err)
		}
		if err := d.ScaleGray(img); err != nil {
			t.Fatal(err)
		}
		if mad := meanAbsDiff(expandRange(img), ref[i]); mad > 3 {
			t.Fatalf("AU %d after recovery point %d: differs from reference by %.2f", i, from, mad)
		}
	}
}

func TestResetThenNextKeyframe(t *testing.T) {
	for _, spec := range []clipSpec{h264Clip, h265Clip} {
		t.Run(spec.codec.String(), func(t *testing.T) {
			path := sharedClip(t, spec)
			aus := readAUs(t, path, spec.codec)
			ref := refGray(t, path, 320, 180)
			d, err := New(spec.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for i := 0; i < 20; i++ {
				if _, err := d.Decode(aus[i], int64(i)); err != nil {
					t.Fatal(err)
				}
			}
			// A dropped GOP: forget references, skip to the next keyframe.
			d.Reset()
			if w, h := d.PictureSize(); w != 640 || h != 360 {
				t.Fatalf("PictureSize after Reset = %dx%d", w, h)
			}
			checkRecovers(t, d, aus, ref, nextKey(t, aus, 21, spec.codec))
		})
	}
}

// TestCorruptPicture: a keyframe that lost its last slices (packets lost on
// the way) still gives a picture, concealed, and Corrupt says so; whole, it
// does not.
func TestCorruptPicture(t *testing.T) {
	key := readAUs(t, sharedClip(t, h264Clip), H264)[0]
	for _, tc := range []struct {
		size    int
		corrupt bool
	}{{len(key), false}, {len(key) * 3 / 4, true}, {len(key) / 2, true}} {
		d, err := New(H264)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Decode(key[:tc.size], 0)
		if !got || err != nil {
			t.Fatalf("%d of %d bytes: picture %v, %v", tc.size, len(key), got, err)
		}
		if d.Corrupt() != tc.corrupt {
			t.Errorf("%d of %d bytes of a keyframe: Corrupt() = %v, want %v", tc.size, len(key), d.Corrupt(), tc.corrupt)
		}
		d.Close()
	}
}

// TestDrainKeyframeWithBFrames: in a stream with B-frames, a keyframe
// decoded alone (an idle camera in mode auto) stays in the decoder, held
// back for reordering; Drain gives it out, and the decoder then starts
// over cleanly at the next keyframe.
func TestDrainKeyframeWithBFrames(t *testing.T) {
	dir := t.TempDir()
	for _, codec := range []Codec{H264, H265} {
		t.Run(codec.String(), func(t *testing.T) {
			spec := clipSpec{codec: codec, size: "320x240", seconds: 3, pixFmt: "yuv420p", bframes: 3, preset: "ultrafast"}
			aus := readAUs(t, makeClip(t, dir, spec), codec)
			d, err := New(codec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for _, k := range []int{0, 50} { // the first two keyframes, each alone
				ok, err := d.Decode(aus[k], int64(k))
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					if ok, err = d.Drain(); err != nil || !ok {
						t.Fatalf("keyframe %d: Drain gave no picture (%v)", k, err)
					}
				}
				if w, h := d.PictureSize(); w != 320 || h != 240 || d.PicturePTS() != int64(k) || d.Corrupt() {
					t.Fatalf("keyframe %d: picture %dx%d pts %d corrupt %v", k, w, h, d.PicturePTS(), d.Corrupt())
				}
			}
		})
	}
}
