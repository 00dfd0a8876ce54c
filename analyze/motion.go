package analyze

/*
#cgo CFLAGS: -O3
#include "motion.h"
*/
import "C"

import (
	"errors"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// The diff detector's per-pixel steps (the blur, then the comparison with
// the background and its update) are two C loops instead of eight OpenCV
// calls: 53 to 27 µs a 320x180 frame (BENCHMARKS.md, "The motion
// detector in two passes"). They do what those calls did: the blur to the
// bit, the mask to the bit for one step from the same average, and the
// average within 1/256 of a gray level a step (within the band where a
// step rounds to nothing over many: TestDiffStepMatchesOpenCV).

var errMatSize = errors.New("analyze: matrices of different sizes")

// ensure makes m a rows x cols Mat of type t, keeping it when it is one.
func ensure(m *gocv.Mat, rows, cols int, t gocv.MatType) {
	if m.Rows() == rows && m.Cols() == cols && m.Type() == t {
		return
	}
	m.Close()
	*m = gocv.NewMatWithSize(rows, cols, t)
}

// blur5 writes f blurred by a 5x5 Gaussian (sigma 0, reflected border:
// cv::GaussianBlur's result) to w.blurred.
func blur5(f *Frame, w *work) {
	if blur5C(f, &w.blurred, &w.blurRows) != nil {
		// Not reached (ensure's Mats are continuous): OpenCV's own.
		gocv.GaussianBlur(f.mat, &w.blurred, image.Pt(blurSize, blurSize), 0, 0, gocv.BorderDefault)
	}
}

var errNoBlur = errors.New("analyze: blur: the destination is not continuous")

// blur5C is blur5 in its C loop alone, into dst, with rows as its
// scratch (grown as needed, kept for the next frame).
func blur5C(f *Frame, dst *gocv.Mat, rows *[]uint16) error {
	ensure(dst, f.Height, f.Width, gocv.MatTypeCV8UC1)
	out, err := dst.DataPtrUint8()
	if err != nil || len(out) != f.Width*f.Height {
		return errNoBlur
	}
	if n := int(C.vg_blur5_rows(C.int(f.Width))); len(*rows) < n {
		*rows = make([]uint16, n)
	}
	C.vg_blur5((*C.uint8_t)(&f.Pix[0]), C.int(f.Stride), (*C.uint8_t)(&out[0]), C.int(dst.Step()),
		C.int(f.Width), C.int(f.Height), (*C.uint16_t)(&(*rows)[0]))
	return nil
}

// diffStep compares blurred with the background avg (16-bit, avgScale
// fixed point) and moves avg toward it by weight. With mask non-nil it
// makes mask 255 where they differ by more than threshold and keep (when
// not empty) is not 0, and returns how many pixels it set. All Mats are
// blurred's size; avg is 16U, mask and keep 8U.
func diffStep(blurred gocv.Mat, avg *gocv.Mat, mask *gocv.Mat, keep gocv.Mat, threshold float32, weight float64) (int, error) {
	rows, cols := blurred.Rows(), blurred.Cols()
	b, err := blurred.DataPtrUint8()
	if err != nil {
		return 0, err
	}
	a, err := avg.DataPtrUint16()
	if err != nil {
		return 0, err
	}
	if len(a) != rows*cols || len(b) != rows*cols {
		return 0, errMatSize
	}
	var m, k *C.uint8_t
	if mask != nil {
		ensure(mask, rows, cols, gocv.MatTypeCV8UC1)
		mp, err := mask.DataPtrUint8()
		if err != nil {
			return 0, err
		}
		m = (*C.uint8_t)(&mp[0])
		if !keep.Empty() {
			kp, err := keep.DataPtrUint8()
			if err != nil {
				return 0, err
			}
			if len(kp) != rows*cols {
				return 0, errMatSize
			}
			k = (*C.uint8_t)(&kp[0])
		}
	}
	// cv::threshold compares an 8-bit picture with the threshold's
	// floor; config keeps it in 1..255.
	t := int(math.Floor(float64(max(min(threshold, 255), 0))))
	n := C.vg_diff_step((*C.uint8_t)(&b[0]), (*C.uint16_t)(&a[0]), m, k, C.int(rows*cols), C.int(t), C.double(weight))
	return int(n), nil
}

// area shrinks src (8-bit, one channel) to size into dst as gocv.Resize
// with InterpolationArea does, in one C pass (vg_area: within one gray
// level of OpenCV's, where a tie is rounded up and OpenCV rounds it to
// even); scratch is kept for the next call. A halving goes to OpenCV,
// whose vectorized path for it is 4 times faster (2.7 µs, 320x180 to
// 160x90); so do sizes the C pass does not take (a growth, a factor over
// 32, weights too fine). The other shrinks of a 320x180 picture take 2.7
// to 3.7 times less (BenchmarkArea): to 128x72 21 against 77 µs, to
// 64x36 7.5 against 21, to 16x9 5.3 against 14.5.
func area(src gocv.Mat, dst *gocv.Mat, size image.Point, scratch *[]uint32) {
	if src.Cols() == 2*size.X && src.Rows() == 2*size.Y || areaC(src, dst, size, scratch) != nil {
		gocv.Resize(src, dst, size, 0, 0, gocv.InterpolationArea)
	}
}

var errNoArea = errors.New("analyze: area: a size or matrix the C pass does not take")

// areaC is area in its C pass alone.
func areaC(src gocv.Mat, dst *gocv.Mat, size image.Point, scratch *[]uint32) error {
	sw, sh, dw, dh := src.Cols(), src.Rows(), size.X, size.Y
	// dst must not be src: ensure would free the pixels being read.
	if src.Ptr() == dst.Ptr() || src.Type() != gocv.MatTypeCV8UC1 || !src.IsContinuous() || dw < 1 || dh < 1 || dw > sw || dh > sh ||
		sw/dw > C.VG_AREA_MAX || sh/dh > C.VG_AREA_MAX || (sw/gcd(sw, dw))*(sh/gcd(sh, dh)) > 1<<24 {
		return errNoArea
	}
	in, err := src.DataPtrUint8()
	if err != nil || len(in) < sw*sh {
		return errNoArea
	}
	ensure(dst, dh, dw, gocv.MatTypeCV8UC1)
	out, err := dst.DataPtrUint8()
	if err != nil || len(out) != dw*dh {
		return errNoArea
	}
	if n := int(C.vg_area_scratch(C.int(sw), C.int(dw))); len(*scratch) < n {
		*scratch = make([]uint32, n)
	}
	C.vg_area((*C.uint8_t)(&in[0]), C.int(sw), C.int(sw), C.int(sh), (*C.uint8_t)(&out[0]), C.int(dw),
		C.int(dw), C.int(dh), (*C.uint32_t)(&(*scratch)[0]))
	return nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
