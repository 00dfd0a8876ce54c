package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// Limits bound what one camera's stream may make its decoder allocate.
// Every sequence parameter set (from the SDP or in band) is checked
// against them before any access unit it governs is handed on: a stream
// over them never reaches a decoder. Zero fields take their defaults.
type Limits struct {
	// MaxWidth and MaxHeight bound the coded picture size in pixels (the
	// size the decoder allocates, before cropping): 16 to 8192 and 16 to
	// 8192.
	// They default to 4096 and 2160 (4K UHD).
	MaxWidth  int `yaml:"max_width"`
	MaxHeight int `yaml:"max_height"`
	// MaxChroma is the richest chroma format accepted: "4:2:0", "4:2:2"
	// or "4:4:4" (monochrome is always accepted).
	// It defaults to "4:2:0".
	MaxChroma string `yaml:"max_chroma"`
	// MaxBitDepth is the deepest sample accepted, in bits: 8 to 16.
	// It defaults to 8.
	MaxBitDepth int `yaml:"max_bit_depth"`
	// MaxRefFrames bounds the pictures the decoder keeps for reference
	// (H.264 max_num_ref_frames and max_dec_frame_buffering, H.265
	// sps_max_dec_pic_buffering): 1 to 16.
	// It defaults to 8.
	MaxRefFrames int `yaml:"max_ref_frames"`
	// MemoryMB bounds the camera's estimated decoder memory (its pictures:
	// size × chroma × depth × (references + 2)), in MiB: 1 to 4096.
	// It defaults to 256.
	MemoryMB int `yaml:"memory_mb"`
}

// Chroma formats of Limits.MaxChroma.
const (
	Chroma420 = "4:2:0"
	Chroma422 = "4:2:2"
	Chroma444 = "4:4:4"
)

// chromaIdc maps MaxChroma to chroma_format_idc.
var chromaIdc = map[string]int{Chroma420: 1, Chroma422: 2, Chroma444: 3}

// DefaultLimits returns the limits with every field at its default.
func DefaultLimits() Limits {
	return Limits{MaxWidth: 4096, MaxHeight: 2160, MaxChroma: Chroma420, MaxBitDepth: 8, MaxRefFrames: 8, MemoryMB: 256}
}

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxWidth == 0 {
		l.MaxWidth = d.MaxWidth
	}
	if l.MaxHeight == 0 {
		l.MaxHeight = d.MaxHeight
	}
	if l.MaxChroma == "" {
		l.MaxChroma = d.MaxChroma
	}
	if l.MaxBitDepth == 0 {
		l.MaxBitDepth = d.MaxBitDepth
	}
	if l.MaxRefFrames == 0 {
		l.MaxRefFrames = d.MaxRefFrames
	}
	if l.MemoryMB == 0 {
		l.MemoryMB = d.MemoryMB
	}
	return l
}

// Validate checks the ranges; the error starts with the key
// ("max_width: ..."), for the caller to prefix with its path.
func (l Limits) Validate() error {
	switch {
	case l.MaxWidth < 16 || l.MaxWidth > 8192:
		return fmt.Errorf("max_width: %d is not in 16..8192", l.MaxWidth)
	case l.MaxHeight < 16 || l.MaxHeight > 8192:
		return fmt.Errorf("max_height: %d is not in 16..8192", l.MaxHeight)
	case chromaIdc[l.MaxChroma] == 0:
		return fmt.Errorf("max_chroma: %q is not 4:2:0, 4:2:2 or 4:4:4", l.MaxChroma)
	case l.MaxBitDepth < 8 || l.MaxBitDepth > 16:
		return fmt.Errorf("max_bit_depth: %d is not in 8..16", l.MaxBitDepth)
	case l.MaxRefFrames < 1 || l.MaxRefFrames > 16:
		return fmt.Errorf("max_ref_frames: %d is not in 1..16", l.MaxRefFrames)
	case l.MemoryMB < 1 || l.MemoryMB > 4096:
		return fmt.Errorf("memory_mb: %d is not in 1..4096", l.MemoryMB)
	}
	return nil
}

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
	chroma := [4]string{"4:0:0", Chroma420, Chroma422, Chroma444}[min(max(s.Chroma, 0), 3)]
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
func (l Limits) check(s Shape) error {
	switch {
	case s.Width > l.MaxWidth:
		return fmt.Errorf("%w: %s: width %d is over limits.max_width %d", ErrOverLimit, s, s.Width, l.MaxWidth)
	case s.Height > l.MaxHeight:
		return fmt.Errorf("%w: %s: height %d is over limits.max_height %d", ErrOverLimit, s, s.Height, l.MaxHeight)
	case s.Chroma > chromaIdc[l.MaxChroma]:
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
	limits Limits
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
		if err := a.limits.check(shape); err != nil {
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
