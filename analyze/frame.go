package analyze

import (
	"errors"
	"fmt"

	"gocv.io/x/gocv"
)

// ErrFrameSize is returned by NewFrame for a non-positive width or height.
var ErrFrameSize = errors.New("analyze: invalid frame size")

// Frame is an 8-bit single-channel picture whose pixels live in an OpenCV
// Mat (C memory).
//
// Pix aliases the Mat's data (row y starts at Pix[y*Stride]), so a decoder
// can write into it directly; Pix is invalid after Close. A Frame is not
// safe for concurrent use. Close frees it.
type Frame struct {
	Pix    []byte
	Width  int
	Height int
	Stride int

	mat gocv.Mat
}

// NewFrame allocates a width x height frame. The pixel contents are
// undefined until written. The caller must Close it.
func NewFrame(width, height int) (*Frame, error) {
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("new frame %dx%d: %w", width, height, ErrFrameSize)
	}
	m := gocv.NewMatWithSize(height, width, gocv.MatTypeCV8UC1)
	pix, err := m.DataPtrUint8()
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("new frame %dx%d: %w", width, height, err)
	}
	return &Frame{Pix: pix, Width: width, Height: height, Stride: m.Step(), mat: m}, nil
}

// Close frees the frame's pixels. It is idempotent.
func (f *Frame) Close() {
	if f == nil || f.mat.Ptr() == nil {
		return
	}
	f.mat.Close()
	f.Pix = nil
}

// valid reports whether the frame can be analyzed.
func (f *Frame) valid() bool {
	return f != nil && f.mat.Ptr() != nil && f.Width > 0 && f.Height > 0
}
