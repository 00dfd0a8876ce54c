package analyze

import (
	"fmt"
	"image"
	"math/rand/v2"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// TestBlurMatchesOpenCV: blur5 is cv::GaussianBlur (5x5, sigma 0,
// BORDER_DEFAULT) to the bit, on noise and on smooth pictures, at the
// analysis sizes and at the smallest and oddest ones (the border is
// reflected more than once below five pixels).
func TestBlurMatchesOpenCV(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	want, got := gocv.NewMat(), gocv.NewMat()
	defer want.Close()
	defer got.Close()
	var rows []uint16 // one scratch for all sizes: grown, and reused when smaller
	for _, size := range [][2]int{{320, 180}, {640, 360}, {16, 9}, {17, 5}, {1, 1}, {1, 7}, {7, 1}, {2, 2}, {3, 4}, {5, 3}, {333, 187}} {
		for _, kind := range []string{"noise", "gradient"} {
			f, err := NewFrame(size[0], size[1])
			if err != nil {
				t.Fatal(err)
			}
			for y := range f.Height {
				for x := range f.Width {
					v := byte(rng.IntN(256))
					if kind == "gradient" {
						v = byte((x*7 + y*3 + rng.IntN(9)) % 256)
					}
					f.Pix[y*f.Stride+x] = v
				}
			}
			gocv.GaussianBlur(f.mat, &want, image.Pt(blurSize, blurSize), 0, 0, gocv.BorderDefault)
			if err := blur5C(f, &got, &rows); err != nil {
				t.Fatalf("%dx%d: %v", size[0], size[1], err)
			}
			w, _ := want.DataPtrUint8()
			g, _ := got.DataPtrUint8()
			if len(w) != len(g) {
				t.Fatalf("%dx%d %s: %d pixels, OpenCV %d", size[0], size[1], kind, len(g), len(w))
			}
			for i := range w {
				if w[i] != g[i] {
					t.Fatalf("%dx%d %s: pixel (%d,%d) is %d, OpenCV's %d", size[0], size[1], kind, i%size[0], i/size[0], g[i], w[i])
				}
			}
			f.Close()
		}
	}
}

// TestAreaMatchesOpenCV: area is the exact area mean, a half rounded up
// (areaExact), and cv::resize with INTER_AREA within one gray level,
// equal on all but ties (OpenCV rounds them to even): on noise, gradients and 0/255 masks, from the analysis sizes
// to tamper's thumbnails and the motion grid (whole factors, 2.5, 20),
// from larger pictures, and at odd sizes where no factor is whole. Sizes
// it does not take (a growth, a factor over 32) go to OpenCV.
func TestAreaMatchesOpenCV(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	want, got := gocv.NewMat(), gocv.NewMat()
	defer want.Close()
	defer got.Close()
	var scratch []uint32
	cases := [][4]int{
		{320, 180, 64, 36}, {320, 180, 160, 90}, {320, 180, 128, 72}, {320, 180, 16, 9},
		{640, 360, 128, 72}, {1280, 720, 320, 180}, {1920, 1080, 128, 72}, {333, 187, 128, 72},
		{321, 179, 100, 50}, {52, 199, 6, 100}, {130, 97, 64, 96}, {7, 5, 3, 2}, {1, 1, 1, 1}, {5, 9, 5, 9}, {17, 3, 1, 1}, {64, 32, 64, 1},
	}
	var differ, total int
	for _, c := range cases {
		for _, kind := range []string{"noise", "gradient", "mask"} {
			src := gocv.NewMatWithSize(c[1], c[0], gocv.MatTypeCV8UC1)
			px, _ := src.DataPtrUint8()
			for i := range px {
				x, y := i%c[0], i/c[0]
				switch kind {
				case "noise":
					px[i] = byte(rng.IntN(256))
				case "gradient":
					px[i] = byte((x*5 + y*3 + rng.IntN(7)) % 256)
				default:
					px[i] = byte(255 * rng.IntN(2) * ((x / 9) % 2))
				}
			}
			size := image.Pt(c[2], c[3])
			gocv.Resize(src, &want, size, 0, 0, gocv.InterpolationArea)
			if err := areaC(src, &got, size, &scratch); err != nil {
				t.Fatalf("%dx%d to %v: %v", c[0], c[1], size, err)
			}
			w, _ := want.DataPtrUint8()
			g, _ := got.DataPtrUint8()
			before := differ
			if len(w) != len(g) || len(g) != c[2]*c[3] {
				t.Fatalf("%dx%d to %v %s: %d pixels, OpenCV %d", c[0], c[1], size, kind, len(g), len(w))
			}
			exact := areaExact(px, c[0], c[1], c[2], c[3])
			for i := range w {
				if g[i] != exact[i] {
					t.Fatalf("%dx%d to %v %s: pixel (%d,%d) is %d, the exact mean rounded %d", c[0], c[1], size, kind, i%c[2], i/c[2], g[i], exact[i])
				}
				d := int(g[i]) - int(w[i])
				if d < -1 || d > 1 {
					t.Fatalf("%dx%d to %v %s: pixel (%d,%d) is %d, OpenCV's %d", c[0], c[1], size, kind, i%c[2], i/c[2], g[i], w[i])
				}
				if d != 0 {
					differ++
				}
			}
			// A tie (a sum landing on half a level) is rounded up here,
			// and to the even level by OpenCV's float path: at a factor
			// of 4 one pixel of noise in 16 is a tie, half of them odd.
			if n := differ - before; n*25 > len(w) {
				t.Errorf("%dx%d to %v %s: %d of %d pixels one level from OpenCV's: more than ties explain", c[0], c[1], size, kind, n, len(w))
			}
			total += len(w)
			src.Close()
		}
	}
	t.Logf("%d of %d pixels one level from OpenCV's", differ, total)
	src := gocv.NewMatWithSize(36, 64, gocv.MatTypeCV8UC1)
	defer src.Close()
	for _, size := range []image.Point{{128, 72}, {64, 37}, {1, 1}} {
		if err := areaC(src, &got, size, &scratch); err == nil {
			t.Errorf("64x36 to %v: the C pass took it", size)
		}
		area(src, &got, size, &scratch)
		if got.Cols() != size.X || got.Rows() != size.Y {
			t.Errorf("64x36 to %v: %dx%d", size, got.Cols(), got.Rows())
		}
	}
	// In place (gocv.Resize takes it): not the C pass, which would read
	// the pixels its destination's reallocation freed.
	big := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC1)
	defer big.Close()
	if err := areaC(big, &big, image.Pt(128, 72), &scratch); err == nil {
		t.Error("640x360 to 128x72 in place: the C pass took it")
	}
	area(big, &big, image.Pt(128, 72), &scratch)
	if big.Cols() != 128 || big.Rows() != 72 {
		t.Errorf("in place: %dx%d", big.Cols(), big.Rows())
	}
}

// areaExact is the area mean of src (sw x sh) at each pixel of dw x dh,
// in exact integers, a half rounded up: a source pixel's weight is its
// overlap with the output pixel in units of 1/dw by 1/dh of a pixel, and
// an output pixel's weights sum to sw*sh.
func areaExact(src []byte, sw, sh, dw, dh int) []byte {
	overlap := func(o, i, sn, dn int) int64 { // [o*sn, (o+1)*sn) and [i*dn, (i+1)*dn)
		lo, hi := max(o*sn, i*dn), min((o+1)*sn, (i+1)*dn)
		return int64(max(hi-lo, 0))
	}
	out := make([]byte, dw*dh)
	total := int64(sw) * int64(sh)
	for y := range dh {
		for x := range dw {
			var s int64
			for j := y * sh / dh; j < sh && j*dh < (y+1)*sh; j++ {
				for i := x * sw / dw; i < sw && i*dw < (x+1)*sw; i++ {
					s += int64(src[j*sw+i]) * overlap(x, i, sw, dw) * overlap(y, j, sh, dh)
				}
			}
			out[y*dw+x] = byte((2*s + total) / (2 * total))
		}
	}
	return out
}

// TestDiffStepMatchesOpenCV runs two diff backgrounds side by side over
// 200 frames of a noisy scene with a moving rectangle and a lighting
// drift, at 5 and 25 frames a second, with and without a mask: one
// updated by diffStep, the other by the OpenCV calls it replaces. Their
// averages stay within the band where a step rounds to nothing (0.5/weight
// 256ths of a gray level: 7 at 5 frames a second, 27 at 25; 3 is what they
// reach), agree on the mean within 0.1/256 (a step rounded down instead of
// to the nearest drifts by 5/256 and more), and their masks differ on at
// most one pixel in 10,000 (a difference that rounds to the threshold on
// one side only).
func TestDiffStepMatchesOpenCV(t *testing.T) {
	const width, height = 320, 180
	for _, tc := range []struct {
		fps    int
		masked bool
	}{{5, false}, {25, false}, {5, true}} {
		t.Run(fmt.Sprintf("%dfps-masked-%v", tc.fps, tc.masked), func(t *testing.T) {
			cfg := config.DefaultAnalysis().Motion
			var masks []Polygon
			if tc.masked {
				masks = []Polygon{{{0, 0}, {0.4, 0}, {0.4, 0.5}, {0, 0.5}}}
			}
			ours, cv := newDetector(cfg, masks, nil), newDetector(cfg, masks, nil)
			defer ours.close()
			defer cv.close()
			w1, w2 := newWork(), newWork()
			defer w1.close()
			defer w2.close()
			f, err := NewFrame(width, height)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, d := range []*detector{&ours, &cv} {
				d.width, d.height = width, height
				d.rasterize(w1)
			}
			step := time.Second / time.Duration(tc.fps)
			scene := movingRect(width, 0, 40*step)
			rng := newNoise(3)
			var masked, differ, maxDiff, sum int
			// Either average stops moving once a step rounds to nothing:
			// within 0.5/weight of a 256th of a gray level of the picture
			// (0.1 of a level at 25 frames a second), each at its own
			// place in that band.
			tolerance := int(0.5/runningWeight(step, bgTimeConstant)) + 2
			for i := range 200 {
				at := time.Duration(i) * step
				scene(at).draw(f, rng)
				// A lighting drift: the picture brightens by up to 12 levels.
				gocv.AddWeighted(f.mat, 1, f.mat, 0, float64(i%100)*0.12, &f.mat)
				blur5(f, w1)
				w1.blurred.CopyTo(&w2.blurred)
				if i == 0 {
					ours.seed(w1)
					cv.seed(w2)
					continue
				}
				learning := i < 10
				weight := runningWeight(step, bgTimeConstant)
				mask := &w1.mask
				if learning {
					mask = nil
				}
				// diffStep itself: ours.diff would fall back to OpenCV's
				// calls on an error and compare them with themselves.
				n1, err := diffStep(w1.blurred, &ours.avg, mask, ours.keep, ours.threshold, weight)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				n2 := cv.diffCV(w2, learning, weight)
				a1, _ := ours.avg.DataPtrUint16()
				a2, _ := cv.avg.DataPtrUint16()
				for j := range a1 {
					signed := int(a1[j]) - int(a2[j])
					sum += signed
					d := abs(signed)
					if d > tolerance {
						t.Fatalf("frame %d: average at (%d,%d) is %d/256, OpenCV's %d/256", i, j%width, j/width, a1[j], a2[j])
					}
					maxDiff = max(maxDiff, d)
				}
				if learning {
					continue
				}
				m1, _ := w1.mask.DataPtrUint8()
				m2, _ := w2.mask.DataPtrUint8()
				for j := range m1 {
					if m1[j] != m2[j] {
						differ++
					}
				}
				if n1 != gocv.CountNonZero(w1.mask) {
					t.Fatalf("frame %d: diffStep counted %d changed pixels, its mask holds %d", i, n1, gocv.CountNonZero(w1.mask))
				}
				if d := n1 - n2; d < -10 || d > 10 {
					t.Fatalf("frame %d: %d changed pixels, OpenCV %d", i, n1, n2)
				}
				masked += n2
			}
			if masked == 0 {
				t.Fatal("no pixel changed: the scene does not test the comparison")
			}
			// Both round to the nearest 256th: no drift of one from the
			// other (rounding down drifts by 0.5/256 and more).
			if bias := float64(sum) / float64(199*width*height); bias < -0.1 || bias > 0.1 {
				t.Errorf("the average is %+.2f/256 of a gray level off OpenCV's on the mean, want within 0.1/256", bias)
			}
			if share := float64(differ) / float64(190*width*height); share > 1e-4 {
				t.Errorf("masks differ on %.4f%% of pixels (%d), want at most 0.01%%", share*100, differ)
			}
			t.Logf("%d changed pixels over the frames, %d differ; averages %d/256 apart at most (tolerance %d), %+.3f/256 on the mean",
				masked, differ, maxDiff, tolerance, float64(sum)/float64(199*width*height))
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// BenchmarkMotionStep is the diff detector's per-pixel work on one
// 320x180 frame (blur, comparison, background update): in the two C
// passes ("passes") and in the OpenCV calls they replace ("opencv").
func BenchmarkMotionStep(b *testing.B) {
	const width, height = 320, 180
	cfg := config.DefaultAnalysis().Motion
	f, err := NewFrame(width, height)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	movingRect(width, 0, time.Second)(0).draw(f, newNoise(5))
	weight := runningWeight(200*time.Millisecond, bgTimeConstant)
	for _, name := range []string{"passes", "opencv"} {
		b.Run(name, func(b *testing.B) {
			d, w := newDetector(cfg, nil, nil), newWork()
			defer d.close()
			defer w.close()
			d.width, d.height = width, height
			blur5(f, w)
			d.seed(w)
			for b.Loop() {
				if name == "passes" {
					blur5(f, w)
					d.diff(w, false, weight)
				} else {
					gocv.GaussianBlur(f.mat, &w.blurred, image.Pt(blurSize, blurSize), 0, 0, gocv.BorderDefault)
					d.diffCV(w, false, weight)
				}
			}
		})
	}
}

// BenchmarkArea: tamper's three shrinks of a 320x180 picture (the
// contrast thumbnail, the sharpness picture and the moved check's
// background sample) and the motion grid's, by OpenCV's INTER_AREA and
// by area (its C pass, or OpenCV's for the halving).
func BenchmarkArea(b *testing.B) {
	f, err := NewFrame(320, 180)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	movingRect(320, 0, time.Second)(0).draw(f, newNoise(5))
	dst := gocv.NewMat()
	defer dst.Close()
	var scratch []uint32
	for _, size := range []image.Point{{thumbW, thumbH}, {sharpW, sharpH}, {bgW, bgH}, {cellsW, cellsH}} {
		for _, name := range []string{"area", "opencv"} {
			b.Run(fmt.Sprintf("%dx%d_%s", size.X, size.Y, name), func(b *testing.B) {
				for b.Loop() {
					if name == "area" {
						area(f.mat, &dst, size, &scratch)
					} else {
						gocv.Resize(f.mat, &dst, size, 0, 0, gocv.InterpolationArea)
					}
				}
			})
		}
	}
}
