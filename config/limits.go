package config

import "fmt"

// Limits bound what one camera's stream may make its decoder allocate.
// Every sequence parameter set (from the SDP or in band) is checked
// against them before any access unit it governs is handed on: a stream
// over them never reaches a decoder (see package ingest).
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

// ChromaIdc maps Limits.MaxChroma to chroma_format_idc.
var ChromaIdc = map[string]int{Chroma420: 1, Chroma422: 2, Chroma444: 3}

// DefaultLimits returns the limits with every field at its default.
func DefaultLimits() Limits {
	return Limits{MaxWidth: 4096, MaxHeight: 2160, MaxChroma: Chroma420, MaxBitDepth: 8, MaxRefFrames: 8, MemoryMB: 256}
}

// Validate checks the ranges; the error starts with the key
// ("max_width: ..."), for the caller to prefix with its path.
func (l Limits) validate() error {
	switch {
	case l.MaxWidth < 16 || l.MaxWidth > 8192:
		return fmt.Errorf("max_width: %d is not in 16..8192", l.MaxWidth)
	case l.MaxHeight < 16 || l.MaxHeight > 8192:
		return fmt.Errorf("max_height: %d is not in 16..8192", l.MaxHeight)
	case ChromaIdc[l.MaxChroma] == 0:
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
