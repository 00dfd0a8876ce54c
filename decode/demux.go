package decode

/*
#cgo pkg-config: libavformat libavcodec libavutil
#include <stdlib.h>
#include "vgdemux.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrNotVideo marks a container without H.264 or H.265 video.
var ErrNotVideo = errors.New("no H.264 or H.265 video")

// Container is the video of a container file (MP4, MKV, MPEG-TS, AVI,
// QuickTime: whatever libavformat reads), as Annex-B access units.
type Container struct {
	Codec Codec
	// FPS is the stream's frame rate as the container declares it (0 when
	// it does not).
	FPS float64
	// AnnexB is every access unit of the video stream, in decoding order,
	// with start codes and parameter sets in band.
	AnnexB []byte
	// Units is the number of access units; Keyframes of them are keyframes.
	Units, Keyframes int
}

// ReadContainer reads the first H.264 or H.265 video stream of the file at
// path. Errors name the file; a container holding another codec wraps
// ErrNotVideo and names that codec.
func ReadContainer(path string) (*Container, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr, hevc C.int
	var fps C.double
	var name *C.char
	d := C.vg_demux_open(cpath, &cerr, &hevc, &fps, &name)
	if d == nil {
		switch cerr {
		case C.VG_DEMUX_ENOVIDEO:
			return nil, fmt.Errorf("read %s: no video stream: %w", path, ErrNotVideo)
		case C.VG_DEMUX_ECODEC:
			return nil, fmt.Errorf("read %s: video is %s (transcode it, e.g. ffmpeg -i IN -c:v libx264 -bf 0 OUT.mp4): %w",
				path, C.GoString(name), ErrNotVideo)
		}
		return nil, fmt.Errorf("read %s: %s", path, avErr(cerr))
	}
	defer C.vg_demux_close(d)
	c := &Container{Codec: H264, FPS: float64(fps)}
	if hevc != 0 {
		c.Codec = H265
	}
	for {
		var data *C.uint8_t
		var size, key C.int
		r := C.vg_demux_next(d, &data, &size, &key)
		if r == 1 {
			break
		}
		if r < 0 {
			return nil, fmt.Errorf("read %s: access unit %d: %s", path, c.Units, avErr(r))
		}
		c.AnnexB = append(c.AnnexB, unsafe.Slice((*byte)(unsafe.Pointer(data)), int(size))...)
		c.Units++
		if key != 0 {
			c.Keyframes++
		}
	}
	if c.Units == 0 {
		return nil, fmt.Errorf("read %s: the video stream is empty: %w", path, ErrNotVideo)
	}
	return c, nil
}
