package decode

import (
	"bytes"
	"fmt"
	"testing"
)

func TestAnalysisSize(t *testing.T) {
	tests := []struct {
		srcW, srcH, width int
		w, h              int
	}{
		{1920, 1080, 320, 320, 180},
		{1280, 720, 320, 320, 180},
		{640, 480, 320, 320, 240},
		{2560, 1440, 640, 640, 360},
		{704, 576, 320, 320, 262}, // 261.8 -> nearest even
		{1920, 1088, 320, 320, 182},
		{720, 1280, 320, 320, 568}, // portrait, 568.9 -> 568
		{320, 180, 320, 320, 180},
		{300, 170, 320, 300, 170},  // narrower than width: source size
		{301, 171, 320, 300, 170},  // evened
		{1280, 720, 321, 320, 180}, // odd width evened
		{1280, 720, 0, 1280, 720},  // no width: source size
		{0, 720, 320, 0, 0},
		{1280, -1, 320, 0, 0},
	}
	for _, tt := range tests {
		w, h := AnalysisSize(tt.srcW, tt.srcH, tt.width)
		if w != tt.w || h != tt.h {
			t.Errorf("AnalysisSize(%d, %d, %d) = %d, %d; want %d, %d",
				tt.srcW, tt.srcH, tt.width, w, h, tt.w, tt.h)
		}
		if w%2 != 0 || h%2 != 0 {
			t.Errorf("AnalysisSize(%d, %d, %d) = %d, %d: not even", tt.srcW, tt.srcH, tt.width, w, h)
		}
	}
}

// decodedDecoder returns a decoder holding the first picture of the H.264
// test clip.
func decodedDecoder(t *testing.T) *Decoder {
	t.Helper()
	aus := readAUs(t, sharedClip(t, h264Clip), H264)
	d, err := New(H264)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	if got, err := d.Decode(aus[0], 0); !got || err != nil {
		t.Fatalf("Decode = %v, %v", got, err)
	}
	return d
}

// TestScaleGrayStaysInBounds checks that sws_scale writes exactly the
// destination rectangle: not past the last pixel of a tight buffer, and
// not into row padding.
func TestScaleGrayStaysInBounds(t *testing.T) {
	d := decodedDecoder(t)
	const guard = 64
	for _, tt := range []struct{ w, h, stride int }{
		{320, 180, 320}, {318, 178, 318}, {322, 182, 322}, {100, 56, 100},
		{66, 38, 66}, {2, 2, 2}, {640, 360, 640}, {1280, 720, 1280}, {320, 180, 333},
	} {
		size := tt.stride*(tt.h-1) + tt.w
		buf := bytes.Repeat([]byte{0xA5}, size+guard)
		img := Image{Pix: buf[:size:size], Width: tt.w, Height: tt.h, Stride: tt.stride}
		for i := range img.Pix {
			img.Pix[i] = 0xA5
		}
		if err := d.ScaleGray(img); err != nil {
			t.Fatalf("%dx%d stride %d: %v", tt.w, tt.h, tt.stride, err)
		}
		for i, v := range buf[size:] {
			if v != 0xA5 {
				t.Fatalf("%dx%d stride %d: wrote %d bytes past the end", tt.w, tt.h, tt.stride, i+1)
			}
		}
		for y := 0; y < tt.h-1; y++ {
			for x := tt.w; x < tt.stride; x++ {
				if buf[y*tt.stride+x] != 0xA5 {
					t.Fatalf("%dx%d stride %d: wrote row padding at row %d", tt.w, tt.h, tt.stride, y)
				}
			}
		}
		if m := mean(img); m < 20 || m > 235 {
			t.Fatalf("%dx%d: implausible mean level %.1f", tt.w, tt.h, m)
		}
	}
}

func TestScaleGrayRejectsBadImage(t *testing.T) {
	d := decodedDecoder(t)
	for _, img := range []Image{
		{},
		{Pix: make([]byte, 100), Width: 10, Height: 10, Stride: 9},
		{Pix: make([]byte, 99), Width: 10, Height: 10, Stride: 10},
		{Pix: make([]byte, 100), Width: 0, Height: 10, Stride: 10},
		{Pix: make([]byte, 100), Width: 10, Height: -1, Stride: 10},
	} {
		if err := d.ScaleGray(img); err == nil {
			t.Errorf("ScaleGray(%dx%d stride %d, %d bytes) succeeded", img.Width, img.Height, img.Stride, len(img.Pix))
		}
	}
}

// TestSteadyStateAllocs checks that Decode+ScaleGray allocate no Go memory
// on steady input.
func TestSteadyStateAllocs(t *testing.T) {
	for _, spec := range []clipSpec{h264Clip, h265Clip} {
		t.Run(spec.codec.String(), func(t *testing.T) {
			aus := readAUs(t, sharedClip(t, spec), spec.codec)
			d, err := New(spec.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			img := newImage(320, 180)
			i := 0
			step := func() {
				if _, err := d.Decode(aus[i], int64(i)); err != nil {
					t.Fatal(err)
				}
				if err := d.ScaleGray(img); err != nil {
					t.Fatal(err)
				}
				i++
			}
			for i < 10 {
				step()
			}
			if allocs := testing.AllocsPerRun(len(aus)-i-1, step); allocs != 0 {
				t.Fatalf("%.2f allocations per Decode+ScaleGray, want 0", allocs)
			}
		})
	}
}

// TestStreamChanges feeds clips of different size and pixel format through
// one decoder, as after a camera reconfiguration: the scaler follows.
func TestStreamChanges(t *testing.T) {
	small := clipSpec{codec: H264, size: "352x288", seconds: 1, pixFmt: "yuv420p"}
	img := newImage(320, 180)
	d, err := New(H264)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, spec := range []clipSpec{h264Clip, h264Clip10, small, h264Clip} {
		path := sharedClip(t, spec)
		aus := readAUs(t, path, H264)[:10]
		ref := refGray(t, path, img.Width, img.Height)
		var w, h int
		fmt.Sscanf(spec.size, "%dx%d", &w, &h)
		for i, au := range aus {
			if got, err := d.Decode(au, int64(i)); !got || err != nil {
				t.Fatalf("%s AU %d: %v, %v", spec.name(), i, got, err)
			}
			if pw, ph := d.PictureSize(); pw != w || ph != h {
				t.Fatalf("%s AU %d: picture %dx%d, want %dx%d", spec.name(), i, pw, ph, w, h)
			}
			if err := d.ScaleGray(img); err != nil {
				t.Fatal(err)
			}
			if mad := meanAbsDiff(expandRange(img), ref[i]); mad > 3 {
				t.Fatalf("%s AU %d: differs from reference by %.2f", spec.name(), i, mad)
			}
		}
	}
}

// TestScaleBGR: the color path fills exactly its rectangle with the same
// picture as the gray path (its luma follows the gray values), and does
// not disturb the gray path's cached context.
func TestScaleBGR(t *testing.T) {
	d := decodedDecoder(t)
	const w, h, pad = 160, 90, 7
	stride := 3*w + pad
	bgr := bytes.Repeat([]byte{0xAB}, stride*h)
	if err := d.ScaleBGR(Image{Pix: bgr, Width: w, Height: h, Stride: stride}); err != nil {
		t.Fatal(err)
	}
	gray := make([]byte, w*h)
	if err := d.ScaleGray(Image{Pix: gray, Width: w, Height: h, Stride: w}); err != nil {
		t.Fatal(err)
	}
	var lo, hi byte = 255, 0
	off := 0
	for y := range h {
		row := bgr[y*stride:]
		for p := range pad {
			if row[3*w+p] != 0xAB {
				t.Fatalf("row %d padding written", y)
			}
		}
		for x := range w {
			b, g, r := int(row[3*x]), int(row[3*x+1]), int(row[3*x+2])
			// BT.601 luma of full-range RGB against limited-range Y.
			luma := (299*r + 587*g + 114*b) / 1000
			// Saturated colors clip in RGB: allow a few outliers.
			if want := (int(gray[y*w+x]) - 16) * 255 / 219; abs(luma-want) > 12 {
				off++
			}
			lo, hi = min(lo, byte(luma)), max(hi, byte(luma))
		}
	}
	if hi-lo < 40 {
		t.Errorf("flat picture (%d..%d)", lo, hi)
	}
	if off > w*h/20 {
		t.Errorf("%d of %d pixels' luma is off the gray path's", off, w*h)
	}
	if err := d.ScaleBGR(Image{Pix: make([]byte, 10), Width: w, Height: h, Stride: 3 * w}); err == nil {
		t.Error("a short buffer was accepted")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestBoxMatchesSwscale: the box filter for whole-factor shrinks gives
// what swscale's SWS_AREA gives, within one level and on the mean within
// 0.1 of a level (it rounds each mean once; swscale's fixed-point filter
// sometimes the other way), on noisy camera-like clips at 720p (4x),
// 360p (2x) and 1080p (6x) to 320x180; and shrinks that are not by a
// whole factor (or from 10-bit luma) are still swscale's to the bit.
func TestBoxMatchesSwscale(t *testing.T) {
	for _, tc := range []struct {
		spec  clipSpec
		w, h  int
		boxed bool // a whole-factor shrink of 8-bit luma
	}{
		{clipSpec{codec: H264, size: "1280x720", seconds: 1, pixFmt: "yuv420p", noise: true}, 320, 180, true},
		{clipSpec{codec: H264, size: "640x360", seconds: 1, pixFmt: "yuv420p", noise: true}, 320, 180, true},
		{clipSpec{codec: H265, size: "1920x1080", seconds: 1, pixFmt: "yuv420p", noise: true}, 320, 180, true},
		{clipSpec{codec: H264, size: "1280x720", seconds: 1, pixFmt: "yuv420p", noise: true}, 300, 168, false},
		{clipSpec{codec: H265, size: "1280x720", seconds: 1, pixFmt: "yuv420p10le", noise: true}, 320, 180, false},
	} {
		name := fmt.Sprintf("%s-%s-%s-to-%dx%d", tc.spec.codec, tc.spec.size, tc.spec.pixFmt, tc.w, tc.h)
		t.Run(name, func(t *testing.T) {
			d, err := New(tc.spec.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			box, area := newImage(tc.w, tc.h), newImage(tc.w, tc.h)
			var pictures, differ, sum int
			for i, au := range readAUs(t, sharedClip(t, tc.spec), tc.spec.codec) {
				got, err := d.Decode(au, int64(i))
				if err != nil {
					t.Fatal(err)
				}
				if !got || i%5 != 0 {
					continue
				}
				d.setBox(true)
				if err := d.ScaleGray(box); err != nil {
					t.Fatal(err)
				}
				d.setBox(false)
				if err := d.ScaleGray(area); err != nil {
					t.Fatal(err)
				}
				pictures++
				for j := range box.Pix {
					diff := int(box.Pix[j]) - int(area.Pix[j])
					if diff < -1 || diff > 1 {
						t.Fatalf("picture %d, pixel (%d,%d): box %d, swscale %d", i, j%tc.w, j/tc.w, box.Pix[j], area.Pix[j])
					}
					if diff != 0 {
						differ++
					}
					sum += diff
				}
			}
			if pictures == 0 {
				t.Fatal("no picture decoded")
			}
			n := pictures * tc.w * tc.h
			bias := float64(sum) / float64(n)
			t.Logf("%d pictures: %.2f%% of pixels one level apart, %+.3f on the mean", pictures, 100*float64(differ)/float64(n), bias)
			if !tc.boxed && differ > 0 {
				t.Errorf("%d pixels differ from swscale's where the box filter does not apply", differ)
			}
			if used := d.boxed(); used != pictures && tc.boxed || used != 0 && !tc.boxed {
				t.Errorf("the box filter scaled %d of %d pictures, want all of them: %v", used, pictures, tc.boxed)
			}
			if bias < -0.1 || bias > 0.1 {
				t.Errorf("the box filter is %+.3f levels off swscale's on the mean, want within 0.1", bias)
			}
		})
	}
}
