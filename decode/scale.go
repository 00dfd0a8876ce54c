package decode

/*
#include "vgdec.h"
#include <libswscale/swscale.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Image is an 8-bit grayscale (or, for ScaleBGR, BGR) destination owned
// by the caller. Pix may be
// Go or C memory; row y starts at Pix[y*Stride]. The decoder never keeps
// Pix after a call.
type Image struct {
	Pix           []byte
	Width, Height int
	Stride        int
}

var errBadImage = errors.New("decode: bad destination image")

// ScaleGray scales the last picture into dst as 8-bit gray. For 8-bit and
// deeper planar YUV (and NV12-like) pictures only the luma plane is read,
// so values are the codec's luma levels; other formats are converted. The
// swscale context is cached and rebuilt only when the source size or
// format or the destination size changes. ScaleGray does not allocate in
// steady state.
func (d *Decoder) ScaleGray(dst Image) error {
	if d.c == nil {
		return ErrClosed
	}
	if d.pic.got == 0 {
		return ErrNoPicture
	}
	if dst.Width <= 0 || dst.Height <= 0 || dst.Stride < dst.Width ||
		len(dst.Pix) < dst.Stride*(dst.Height-1)+dst.Width {
		return fmt.Errorf("scale %dx%d stride %d into %d bytes: %w",
			dst.Width, dst.Height, dst.Stride, len(dst.Pix), errBadImage)
	}
	ret := C.vg_scale_gray(d.c, (*C.uint8_t)(unsafe.Pointer(&dst.Pix[0])),
		C.int(dst.Width), C.int(dst.Height), C.int(dst.Stride))
	if ret < 0 {
		return fmt.Errorf("scale to %dx%d gray: %s", dst.Width, dst.Height, avErr(ret))
	}
	return nil
}

// ScaleBGR scales the last picture into dst as 8-bit BGR (3 bytes per
// pixel, dst.Stride >= 3*dst.Width), for color snapshots. It uses its own
// cached swscale context, so it does not disturb ScaleGray's.
func (d *Decoder) ScaleBGR(dst Image) error {
	if d.c == nil {
		return ErrClosed
	}
	if d.pic.got == 0 {
		return ErrNoPicture
	}
	if dst.Width <= 0 || dst.Height <= 0 || dst.Stride < 3*dst.Width ||
		len(dst.Pix) < dst.Stride*(dst.Height-1)+3*dst.Width {
		return fmt.Errorf("scale %dx%d BGR stride %d into %d bytes: %w",
			dst.Width, dst.Height, dst.Stride, len(dst.Pix), errBadImage)
	}
	ret := C.vg_scale_bgr(d.c, (*C.uint8_t)(unsafe.Pointer(&dst.Pix[0])),
		C.int(dst.Width), C.int(dst.Height), C.int(dst.Stride))
	if ret < 0 {
		return fmt.Errorf("scale to %dx%d BGR: %s", dst.Width, dst.Height, avErr(ret))
	}
	return nil
}

// swscale algorithms, for benchmarks comparing them (default scaleArea).
const (
	scaleFastBilinear = int(C.SWS_FAST_BILINEAR)
	scaleBilinear     = int(C.SWS_BILINEAR)
	scaleArea         = int(C.SWS_AREA)
)

// setScaleFlags switches the swscale algorithm and returns the previous one.
func (d *Decoder) setScaleFlags(flags int) int {
	return int(C.vg_set_sws_flags(d.c, C.int(flags)))
}

// setBox turns the box filter for whole-factor shrinks on (the default)
// or off (swscale's SWS_AREA does them), for tests and benchmarks.
func (d *Decoder) setBox(on bool) {
	v := 0
	if on {
		v = 1
	}
	C.vg_set_box(d.c, C.int(v))
}

// boxed returns how many pictures the box filter scaled (tests).
func (d *Decoder) boxed() int { return int(C.vg_boxed(d.c)) }

// AnalysisSize returns the analysis picture size for a source of srcW x
// srcH scaled to width: the aspect ratio is kept and both sides are even.
// A source narrower than width (or width <= 0) keeps its size, evened.
func AnalysisSize(srcW, srcH, width int) (w, h int) {
	if srcW <= 0 || srcH <= 0 {
		return 0, 0
	}
	if width <= 0 || srcW < width {
		return max(srcW&^1, 2), max(srcH&^1, 2)
	}
	w = max(width&^1, 2)
	// Nearest even height: round(srcH*w / (2*srcW)) * 2.
	h = (srcH*w + srcW) / (2 * srcW) * 2
	return w, max(h, 2)
}
