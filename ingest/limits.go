package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/vigil-video/vigil/config"
)

// ErrOverLimit marks a stream refused by the camera's Limits or the
// engine's Budget; the session is failed with ReasonOverLimit.
var ErrOverLimit = errors.New("stream over the limits")

// Shape is what a sequence parameter set makes the decoder allocate.
type Shape struct {
	Width, Height int // coded size, before cropping
	Chroma        int // chroma_format_idc: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4
	BitDepth      int // the deeper of luma and chroma
	Refs          int // pictures kept for reference or reordering
}

// Bytes estimates the decoder memory of a stream of this shape: its
// reference pictures, the one being decoded and the last one output.
func (s Shape) Bytes() int64 {
	planes := [4]float64{1, 1.5, 2, 3}[min(max(s.Chroma, 0), 3)]
	sample := 1.0
	if s.BitDepth > 8 {
		sample = 2
	}
	return int64(float64(s.Width) * float64(s.Height) * planes * sample * float64(s.Refs+2))
}

func (s Shape) String() string {
	chroma := [4]string{"4:0:0", config.Chroma420, config.Chroma422, config.Chroma444}[min(max(s.Chroma, 0), 3)]
	return fmt.Sprintf("%dx%d %s %d-bit, %d reference pictures", s.Width, s.Height, chroma, s.BitDepth, s.Refs)
}

// parseSPS reads the shape of an H.264 or H.265 SPS NAL unit.
func parseSPS(codec Codec, nalu []byte) (Shape, error) {
	if codec == H265 {
		var sps h265.SPS
		if err := sps.Unmarshal(nalu); err != nil {
			return Shape{}, err
		}
		s := Shape{Width: int(sps.PicWidthInLumaSamples), Height: int(sps.PicHeightInLumaSamples), Chroma: int(sps.ChromaFormatIdc),
			BitDepth: 8 + int(max(sps.BitDepthLumaMinus8, sps.BitDepthChromaMinus8))}
		for _, b := range sps.MaxDecPicBufferingMinus1 {
			s.Refs = max(s.Refs, int(b)+1)
		}
		return s, nil
	}
	var sps h264.SPS
	if err := sps.Unmarshal(nalu); err != nil {
		return Shape{}, err
	}
	s := Shape{Width: 16 * (int(sps.PicWidthInMbsMinus1) + 1), Chroma: 1, BitDepth: 8, Refs: int(sps.MaxNumRefFrames)}
	s.Height = 16 * (int(sps.PicHeightInMapUnitsMinus1) + 1)
	if !sps.FrameMbsOnlyFlag {
		s.Height *= 2
	}
	switch sps.ProfileIdc {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135: // the profiles that code these fields
		s.Chroma = int(sps.ChromaFormatIdc)
		s.BitDepth = 8 + int(max(sps.BitDepthLumaMinus8, sps.BitDepthChromaMinus8))
	}
	if v := sps.VUI; v != nil && v.BitstreamRestriction != nil {
		s.Refs = max(s.Refs, int(v.BitstreamRestriction.MaxDecFrameBuffering))
	}
	return s, nil
}

// check refuses a shape over the limits; the error names the key.
func checkLimits(l config.Limits, s Shape) error {
	switch {
	case s.Width > l.MaxWidth:
		return fmt.Errorf("%w: %s: width %d is over limits.max_width %d", ErrOverLimit, s, s.Width, l.MaxWidth)
	case s.Height > l.MaxHeight:
		return fmt.Errorf("%w: %s: height %d is over limits.max_height %d", ErrOverLimit, s, s.Height, l.MaxHeight)
	case s.Chroma > config.ChromaIdc[l.MaxChroma]:
		return fmt.Errorf("%w: %s: chroma is over limits.max_chroma %s", ErrOverLimit, s, l.MaxChroma)
	case s.BitDepth > l.MaxBitDepth:
		return fmt.Errorf("%w: %s: bit depth is over limits.max_bit_depth %d", ErrOverLimit, s, l.MaxBitDepth)
	case s.Refs > l.MaxRefFrames:
		return fmt.Errorf("%w: %s: references are over limits.max_ref_frames %d", ErrOverLimit, s, l.MaxRefFrames)
	case s.Bytes() > int64(l.MemoryMB)<<20:
		return fmt.Errorf("%w: %s: about %d MiB of pictures is over limits.memory_mb %d", ErrOverLimit, s, s.Bytes()>>20, l.MemoryMB)
	}
	return nil
}

// admission checks every new SPS of one stream against the camera's
// limits and the engine's budget, and keeps the camera's reservation. It
// runs on the stream's RTP reader.
type admission struct {
	id     string
	codec  Codec
	limits config.Limits
	budget *Budget
	bytes  *atomic.Int64 // the session's reservation, read by Stats
	last   []byte        // the last SPS admitted
}

// check admits the parameter sets of an access unit (or the SDP's).
func (a *admission) check(nalus [][]byte) error {
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		sps := h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS
		if a.codec == H265 {
			sps = h265.NALUType((n[0]>>1)&0x3f) == h265.NALUType_SPS_NUT
		}
		if !sps || bytes.Equal(n, a.last) {
			continue
		}
		shape, err := parseSPS(a.codec, n)
		if err != nil {
			return fmt.Errorf("%w: %s sequence parameter set cannot be sized: %v", ErrOverLimit, a.codec, err)
		}
		if err := checkLimits(a.limits, shape); err != nil {
			return err
		}
		// The reservation never shrinks within a stream: the decoder keeps
		// the pictures of a large SPS it has used when a small one follows
		// (a small unused SPS must not free the budget the large one holds).
		if b := shape.Bytes(); b > a.bytes.Load() {
			if err := a.budget.reserve(a.id, b); err != nil {
				return err
			}
			a.bytes.Store(b)
		}
		a.last = append(a.last[:0], n...)
	}
	return nil
}

// Budget is the decoder memory all cameras may take together (the engine's
// stream_memory_mb). A session reserves its stream's estimate (Shape.Bytes)
// before handing on any access unit of it, and gives it back when the
// session ends. It is safe for concurrent use.
type Budget struct {
	max int64

	mu   sync.Mutex
	used int64
	by   map[string]int64
}

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget { return &Budget{max: max, by: map[string]int64{}} }

// reserve sets camera id's reservation to n bytes, or refuses when the
// other cameras' reservations leave less than n.
func (b *Budget) reserve(id string, n int64) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	others := b.used - b.by[id]
	if others+n > b.max {
		return fmt.Errorf("%w: about %d MiB of pictures would exceed stream_memory_mb %d (%d MiB reserved by other cameras)",
			ErrOverLimit, n>>20, b.max>>20, others>>20)
	}
	b.used, b.by[id] = others+n, n
	return nil
}

// release gives camera id's reservation back.
func (b *Budget) release(id string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= b.by[id]
	delete(b.by, id)
}

// Used returns the bytes reserved by all cameras.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Max returns the budget's size in bytes.
func (b *Budget) Max() int64 { return b.max }
