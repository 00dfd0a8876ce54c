package ingest

import (
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// Codec is a video codec ingest can hand on.
type Codec string

// Codecs.
const (
	H264 Codec = "h264"
	H265 Codec = "h265"
)

// StreamInfo describes a stream that started playing.
type StreamInfo struct {
	Codec     Codec
	Transport string // "tcp" or "udp"
}

var startCode = []byte{0, 0, 0, 1}

// params tracks the last parameter sets seen (SDP or in band) so that every
// keyframe handed on is decodable alone.
type params struct {
	codec         Codec
	vps, sps, pps []byte
}

// NonReference reports whether the access unit's first slice is of a
// picture no other picture refers to.
func NonReference(codec Codec, au [][]byte) bool {
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if codec == H265 {
			if len(n) < 2 {
				continue
			}
			t := n[0] >> 1 & 0x3f
			if t <= 14 { // VCL, not IRAP: the even types are _N
				return t%2 == 0
			}
			continue
		}
		if t := n[0] & 0x1f; t == 1 || t == 5 {
			return n[0]>>5&3 == 0
		}
	}
	return false
}

func (p *params) isRandomAccess(au [][]byte) bool {
	if p.codec == H265 {
		return h265.IsRandomAccess(au)
	}
	return h264.IsRandomAccess(au)
}

// observe records in-band parameter sets and reports which the AU carries.
func (p *params) observe(au [][]byte) (hasVPS, hasSPS, hasPPS bool) {
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if p.codec == H265 {
			if len(n) < 2 {
				continue
			}
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				p.vps, hasVPS = append(p.vps[:0], n...), true
			case h265.NALUType_SPS_NUT:
				p.sps, hasSPS = append(p.sps[:0], n...), true
			case h265.NALUType_PPS_NUT:
				p.pps, hasPPS = append(p.pps[:0], n...), true
			}
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			p.sps, hasSPS = append(p.sps[:0], n...), true
		case h264.NALUTypePPS:
			p.pps, hasPPS = append(p.pps[:0], n...), true
		}
	}
	if p.codec != H265 {
		hasVPS = true
	}
	return hasVPS, hasSPS, hasPPS
}

// annexB returns the access unit in Annex-B form in one new buffer, with the
// known parameter sets in front of a keyframe that lacks them.
func (p *params) annexB(au [][]byte, key bool) []byte {
	var prefix [3][]byte
	if key {
		hasVPS, hasSPS, hasPPS := p.observe(au)
		if !hasVPS {
			prefix[0] = p.vps
		}
		if !hasSPS {
			prefix[1] = p.sps
		}
		if !hasPPS {
			prefix[2] = p.pps
		}
	}
	size := 0
	for _, n := range prefix {
		if len(n) > 0 {
			size += 4 + len(n)
		}
	}
	for _, n := range au {
		size += 4 + len(n)
	}
	buf := make([]byte, 0, size)
	for _, n := range prefix {
		if len(n) > 0 {
			buf = append(buf, startCode...)
			buf = append(buf, n...)
		}
	}
	for _, n := range au {
		buf = append(buf, startCode...)
		buf = append(buf, n...)
	}
	return buf
}
