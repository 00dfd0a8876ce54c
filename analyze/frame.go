package analyze

import (
	"errors"
	"fmt"
	"hash/maphash"
	"image"
	"image/color"

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

// hashSeed seeds the frames' pixel hashes (one per process).
var hashSeed = maphash.MakeSeed()

// hash is a 64-bit hash of the visible pixels: two frames of one size
// with the same hash are taken as bit-identical.
func (f *Frame) hash() uint64 {
	if f.Stride == f.Width {
		return maphash.Bytes(hashSeed, f.Pix[:f.Width*f.Height])
	}
	var h maphash.Hash
	h.SetSeed(hashSeed)
	for y := range f.Height {
		h.Write(f.Pix[y*f.Stride : y*f.Stride+f.Width])
	}
	return h.Sum64()
}

// valid reports whether the frame can be analyzed.
func (f *Frame) valid() bool {
	return f != nil && f.mat.Ptr() != nil && f.Width > 0 && f.Height > 0
}

// JPEG encodes the frame as a JPEG image, with boxes (normalized) drawn
// on a copy when given. It allocates: call it per request or per incident,
// not per frame.
func (f *Frame) JPEG(boxes []Box) ([]byte, error) {
	if !f.valid() {
		return nil, ErrFrameSize
	}
	src := f.mat
	if len(boxes) > 0 {
		c := f.mat.Clone()
		defer c.Close()
		for _, b := range boxes {
			r := image.Rect(int(b[0]*float64(f.Width)), int(b[1]*float64(f.Height)),
				int((b[0]+b[2])*float64(f.Width)), int((b[1]+b[3])*float64(f.Height)))
			gocv.Rectangle(&c, r, color.RGBA{255, 255, 255, 0}, 2)
		}
		src = c
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, src, []int{gocv.IMWriteJpegQuality, 85})
	if err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...), nil
}

// Snapshot is an 8-bit BGR picture in an OpenCV Mat (C memory), for
// evidence in color: a decoder writes Pix, JPEG encodes it with boxes.
// Close frees it.
type Snapshot struct {
	Pix    []byte
	Width  int
	Height int
	Stride int

	mat gocv.Mat
}

// NewSnapshot allocates a width x height BGR picture.
func NewSnapshot(width, height int) (*Snapshot, error) {
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("new snapshot %dx%d: %w", width, height, ErrFrameSize)
	}
	m := gocv.NewMatWithSize(height, width, gocv.MatTypeCV8UC3)
	pix, err := m.DataPtrUint8()
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("new snapshot %dx%d: %w", width, height, err)
	}
	return &Snapshot{Pix: pix, Width: width, Height: height, Stride: m.Step(), mat: m}, nil
}

// JPEG draws boxes (normalized) in red on the picture and encodes it.
func (s *Snapshot) JPEG(boxes []Box) ([]byte, error) {
	if s == nil || s.mat.Ptr() == nil {
		return nil, ErrFrameSize
	}
	thick := max(2, s.Width/320)
	for _, b := range boxes {
		r := image.Rect(int(b[0]*float64(s.Width)), int(b[1]*float64(s.Height)),
			int((b[0]+b[2])*float64(s.Width)), int((b[1]+b[3])*float64(s.Height)))
		gocv.Rectangle(&s.mat, r, color.RGBA{255, 0, 0, 0}, thick)
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, s.mat, []int{gocv.IMWriteJpegQuality, 85})
	if err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...), nil
}

// Close frees the picture. It is idempotent.
func (s *Snapshot) Close() {
	if s == nil || s.mat.Ptr() == nil {
		return
	}
	s.mat.Close()
	s.Pix = nil
}
