// Package decode turns H.264/H.265 access units into small 8-bit grayscale
// analysis pictures, using libavcodec and libswscale through a small cgo
// wrapper (vgdec.c). It knows nothing of RTSP or incidents.
//
// Input access units are Annex-B (start codes), possibly carrying parameter
// sets. Each one is copied into a padded, reference-counted C buffer, so no
// Go memory is kept by libavcodec beyond a call. Output is written by
// sws_scale straight into a caller-owned Image, which may be C memory.
package decode

/*
#cgo pkg-config: libavcodec libavutil libswscale
#cgo CFLAGS: -O3
#include <stdlib.h>
#include "vgdec.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Codec is a video coding format the Decoder accepts.
type Codec int

// Supported codecs.
const (
	H264 Codec = 1
	H265 Codec = 2
)

// String returns "h264" or "h265".
func (c Codec) String() string {
	switch c {
	case H264:
		return "h264"
	case H265:
		return "h265"
	}
	return fmt.Sprintf("codec(%d)", int(c))
}

// Skip selects which frames the decoder decodes at all.
type Skip int

// Skip modes.
const (
	// SkipNone decodes every frame.
	SkipNone Skip = iota
	// SkipNonKey decodes keyframes only (AVDISCARD_NONKEY); other access
	// units are consumed without producing a picture.
	SkipNonKey
)

var (
	// ErrInvalidData is wrapped by Decode for corrupt or undecodable input.
	ErrInvalidData = errors.New("decode: invalid data")
	// ErrNoPicture is returned by ScaleGray before any picture was decoded.
	ErrNoPicture = errors.New("decode: no picture")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("decode: decoder closed")
)

// maxAU bounds the size of one access unit accepted by Decode.
const maxAU = 64 << 20

var quietOnce sync.Once

// Decoder decodes one video stream. It is not safe for concurrent use
// (one per camera), except Stats, which may be called from any goroutine.
// Close must be called to free its C memory.
type Decoder struct {
	c     *C.vg_dec
	codec Codec
	pic   C.vg_pic // the last picture; pic.got says whether there is one
	out   C.vg_pic // result of the current call; a field so cgo need not allocate it

	decoded atomic.Uint64
	errs    atomic.Uint64

	lastW, lastH int // size of the latest picture, kept by forget (Pool's key)
}

// New returns a single-threaded, low-delay decoder for codec. Errors wrap
// libavcodec's error text.
func New(codec Codec) (*Decoder, error) {
	quietOnce.Do(func() { C.vg_quiet() })
	var hevc C.int
	switch codec {
	case H264:
	case H265:
		hevc = 1
	default:
		return nil, fmt.Errorf("open decoder: unsupported codec %v", codec)
	}
	var cerr C.int
	c := C.vg_open(hevc, &cerr)
	if c == nil {
		return nil, fmt.Errorf("open %v decoder: %s", codec, avErr(cerr))
	}
	return &Decoder{c: c, codec: codec}, nil
}

// Limits cap what libavcodec allocates for a decoder's pictures, beside
// the checks ingest makes on the parameter sets: a picture over them fails
// to decode, unallocated. Zero fields leave libavcodec's own cap (8192x4352
// pixels) and any chroma or depth.
type Limits struct {
	// MaxPixels bounds width × height.
	MaxPixels int64
	// MaxChroma is the richest chroma_format_idc: 1 4:2:0, 2 4:2:2, 3 4:4:4.
	MaxChroma int
	// MaxBitDepth bounds the bits per sample.
	MaxBitDepth int
}

// SetLimits applies l from the next access unit on.
func (d *Decoder) SetLimits(l Limits) {
	if d.c == nil {
		return
	}
	C.vg_set_limits(d.c, C.int64_t(l.MaxPixels), C.int(l.MaxChroma), C.int(l.MaxBitDepth))
}

// Codec returns the codec the decoder was created for.
func (d *Decoder) Codec() Codec { return d.codec }

// Decode feeds one access unit and reports whether a new picture is ready
// (the last one, if the unit produced several). pts is returned by
// PicturePTS for the picture this unit produces. au is only read during
// the call. An empty au returns false, nil.
//
// Corrupt input returns an error wrapping ErrInvalidData; the decoder keeps
// going and recovers at the next keyframe. Even with an error the bool
// reports whether a (possibly concealed) picture came out; callers that
// check the error first simply skip it. Decode does not allocate Go memory.
func (d *Decoder) Decode(au []byte, pts int64) (bool, error) {
	if d.c == nil {
		return false, ErrClosed
	}
	if len(au) == 0 {
		return false, nil
	}
	if len(au) > maxAU {
		d.errs.Add(1)
		return false, fmt.Errorf("decode: access unit of %d bytes: %w", len(au), ErrInvalidData)
	}
	ret := C.vg_decode(d.c, (*C.uint8_t)(unsafe.Pointer(&au[0])), C.int(len(au)), C.int64_t(pts), &d.out)
	got := d.took()
	if ret < 0 {
		d.errs.Add(1)
		if C.vg_err_is_nomem(ret) != 0 {
			return got, fmt.Errorf("decode %v: %s", d.codec, avErr(ret))
		}
		return got, fmt.Errorf("decode %v: %s: %w", d.codec, avErr(ret), ErrInvalidData)
	}
	return got, nil
}

// took reports whether vg_decode or vg_drain put a picture in d.out, and
// makes it the current one.
func (d *Decoder) took() bool {
	if d.out.got == 0 {
		return false
	}
	d.pic = d.out
	d.lastW, d.lastH = int(d.out.width), int(d.out.height)
	d.decoded.Add(1)
	return true
}

// Drain ends the stream: the picture the decoder holds back for reordering
// (a keyframe decoded alone in a stream with B-frames: low delay or not,
// the decoder waits for the pictures shown before it) comes out, and the
// decoder then forgets its references, as Reset. It reports whether a
// picture came out; errors are Decode's.
func (d *Decoder) Drain() (bool, error) {
	if d.c == nil {
		return false, ErrClosed
	}
	ret := C.vg_drain(d.c, &d.out)
	got := d.took()
	if ret < 0 {
		d.errs.Add(1)
		return got, fmt.Errorf("decode %v: drain: %s: %w", d.codec, avErr(ret), ErrInvalidData)
	}
	return got, nil
}

// PictureSize returns the size of the last picture, or 0, 0 before any.
func (d *Decoder) PictureSize() (w, h int) {
	if d.pic.got == 0 {
		return 0, 0
	}
	return int(d.pic.width), int(d.pic.height)
}

// Corrupt reports whether the last picture was concealed by the decoder:
// slices of it were missing or undecodable, or a picture it refers to was
// (libavcodec's decode_error_flags and AV_FRAME_FLAG_CORRUPT). Such a
// picture is partly invented: grey, or copied from whatever the decoder
// held before.
func (d *Decoder) Corrupt() bool { return d.pic.got != 0 && d.pic.corrupt != 0 }

// PictureKey reports whether a picture out of the last call is a keyframe,
// as libavcodec flags it: an H.264 IDR, an H.265 IRAP picture (H.264
// recovery points may not be flagged).
func (d *Decoder) PictureKey() bool { return d.pic.got != 0 && d.pic.key != 0 }

// PicturePTS returns the pts passed with the access unit that produced the
// last picture.
func (d *Decoder) PicturePTS() int64 { return int64(d.pic.pts) }

// SetSkip selects which frames are decoded from the next access unit on.
func (d *Decoder) SetSkip(s Skip) {
	if d.c == nil {
		return
	}
	var on C.int
	if s == SkipNonKey {
		on = 1
	}
	C.vg_set_skip_nonkey(d.c, on)
}

// SetNoDeblock skips the in-loop filters from the next access unit on
// (libavcodec's skip_loop_filter: H.264's deblocking, H.265's deblocking
// and SAO) when on. The pictures are then not the encoder's: a picture
// decoded after one decoded so would drift from it, so it is for pictures
// decoded alone (an idle camera's keyframes), whose decoder is reset
// before its next use. Pool.Put turns it off.
func (d *Decoder) SetNoDeblock(on bool) {
	if d.c == nil {
		return
	}
	var v C.int
	if on {
		v = 1
	}
	C.vg_set_no_deblock(d.c, v)
}

// Reset makes the decoder forget its reference pictures (after a reconnect
// or a dropped GOP); decoding resumes cleanly at the next keyframe. The
// last picture stays available to ScaleGray.
func (d *Decoder) Reset() {
	if d.c == nil {
		return
	}
	C.vg_flush(d.c)
}

// forget is Reset, and the last picture is released: ScaleGray returns
// ErrNoPicture until the next one.
func (d *Decoder) forget() {
	C.vg_forget(d.c)
	d.pic = C.vg_pic{}
}

// Stats returns how many pictures were decoded and how many Decode calls
// failed. It is safe to call from any goroutine.
func (d *Decoder) Stats() (pictures, failures uint64) {
	return d.decoded.Load(), d.errs.Load()
}

// Close frees every C allocation of the decoder. It is idempotent; other
// methods return ErrClosed or do nothing afterwards.
func (d *Decoder) Close() {
	if d.c == nil {
		return
	}
	C.vg_close(d.c)
	d.c = nil
	d.pic = C.vg_pic{}
}

// avErr returns libav's text for a negative AVERROR code.
func avErr(code C.int) string {
	var buf [128]C.char
	C.vg_strerror(code, &buf[0], C.int(len(buf)))
	return C.GoString(&buf[0])
}
