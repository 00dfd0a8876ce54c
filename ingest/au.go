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

// Droppable reports whether no picture can refer to the access unit's
// picture, whatever follows, so that it may be left undecoded: H.264
// nal_ref_idc 0 (B-frames, the non-reference P-frames of a camera's
// temporal layers) in a stream of frame pictures only (its SPS's
// frame_mbs_only_flag: one field of a non-reference pair decoded without
// the other would come out half concealed); H.265 a sub-layer
// non-reference picture (the even types below 16) of the highest
// sub-layer its SPS allows: a lower sub-layer's non-reference picture may
// still be referred to by the pictures of the sub-layers above it. sps is
// the stream's SPS NAL unit; without it (nil, or one that does not parse)
// nothing is droppable.
func Droppable(codec Codec, sps []byte, au [][]byte) bool {
	ok, top := dropRule(codec, sps)
	return droppable(codec, ok, top, au)
}

// dropRule reads from the SPS whether pictures no other refers to may be
// left undecoded, and the highest sub-layer (H.265).
func dropRule(codec Codec, sps []byte) (ok bool, top int) {
	if codec == H265 {
		if len(sps) < 3 {
			return false, 0
		}
		return true, int(sps[2]>>1) & 7 // sps_max_sub_layers_minus1, after the VPS id
	}
	var s h264.SPS
	if len(sps) == 0 || s.Unmarshal(sps) != nil {
		return false, 0
	}
	return s.FrameMbsOnlyFlag, 0
}

func droppable(codec Codec, ok bool, top int, au [][]byte) bool {
	if !ok || !NonReference(codec, au) {
		return false
	}
	if codec != H265 {
		return true
	}
	for _, n := range au {
		if len(n) >= 2 && n[0]>>1&0x3f <= 14 {
			return int(n[1]&7)-1 == top // nuh_temporal_id_plus1
		}
	}
	return false
}

func (p *params) isRandomAccess(au [][]byte) bool { return RandomAccess(p.codec, au) }

// RandomAccess reports whether decoding can start at the access unit: an
// H.265 IRAP picture (IDR, CRA, BLA); an H.264 IDR, or an H.264 picture of
// intra slices whose SEI carries a recovery point (H.264 D.2.8). Encoders
// with open GOPs (x264 --open-gop, broadcast encoders, some cameras) code
// an IDR once, at the start, and each later GOP from such a picture: a
// client that joins after the first never sees an IDR. libavcodec starts
// on it and marks the pictures it cannot rebuild (those shown before it,
// which refer to the GOP before) corrupt.
func RandomAccess(codec Codec, au [][]byte) bool {
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if codec == H265 {
			if t := n[0] >> 1 & 0x3f; t >= byte(h265.NALUType_BLA_W_LP) && t <= byte(h265.NALUType_CRA_NUT) {
				return true
			}
		} else if n[0]&0x1f == byte(h264.NALUTypeIDR) {
			return true
		}
	}
	return codec == H264 && h264RecoveryPoint(au)
}

// h264RecoveryPoint reports whether a non-IDR H.264 access unit starts a
// GOP: a recovery point SEI message and intra slices only.
func h264RecoveryPoint(au [][]byte) bool {
	sei := false
	for _, n := range au {
		if len(n) > 1 && n[0]&0x1f == byte(h264.NALUTypeSEI) && hasRecoveryPoint(n[1:]) {
			sei = true
			break
		}
	}
	if !sei {
		return false
	}
	intra := false
	for _, n := range au {
		if len(n) < 2 || n[0]&0x1f != byte(h264.NALUTypeNonIDR) {
			continue
		}
		// first_mb_in_slice, slice_type (7.3.3): I is 2 or 7, SI 4 or 9.
		r := rbspReader{b: n[1:]}
		if _, ok := r.ue(); !ok {
			return false
		}
		t, ok := r.ue()
		if !ok || t%5 != 2 && t%5 != 4 {
			return false
		}
		intra = true
	}
	return intra
}

// hasRecoveryPoint walks the SEI messages of an H.264 SEI NAL unit's
// payload (7.3.2.3) for a recovery point (payload type 6) at the picture
// itself (recovery_frame_cnt 0).
func hasRecoveryPoint(b []byte) bool {
	r := rbspReader{b: b}
	for r.more() {
		typ, ok := r.seiValue()
		if !ok {
			return false
		}
		size, ok := r.seiValue()
		if !ok {
			return false
		}
		if typ == 6 {
			// recovery_frame_cnt (D.2.8): 0, the picture itself is whole;
			// more, as with intra refresh, it is not.
			cnt, ok := r.ue()
			return ok && cnt == 0
		}
		for range size {
			if _, ok := r.byte(); !ok {
				return false
			}
		}
	}
	return false
}

// rbspReader reads a NAL unit's payload without its emulation prevention
// bytes, without copying it.
type rbspReader struct {
	b     []byte
	i     int
	zeros int
	cur   byte // the byte bits are read from
	nbits int  // bits of cur left
}

func (r *rbspReader) byte() (byte, bool) {
	for r.i < len(r.b) {
		c := r.b[r.i]
		r.i++
		if r.zeros >= 2 && c == 3 {
			r.zeros = 0
			continue
		}
		if c == 0 {
			r.zeros++
		} else {
			r.zeros = 0
		}
		return c, true
	}
	return 0, false
}

// more reports whether anything but the RBSP trailing bits is left.
func (r *rbspReader) more() bool {
	return r.i < len(r.b) && !(r.i == len(r.b)-1 && r.b[r.i] == 0x80)
}

// seiValue reads an SEI payload type or size: 0xFF bytes add 255.
func (r *rbspReader) seiValue() (int, bool) {
	v := 0
	for {
		c, ok := r.byte()
		if !ok {
			return 0, false
		}
		v += int(c)
		if c != 0xff {
			return v, true
		}
		if v > 1<<20 {
			return 0, false
		}
	}
}

func (r *rbspReader) bit() (uint32, bool) {
	if r.nbits == 0 {
		c, ok := r.byte()
		if !ok {
			return 0, false
		}
		r.cur, r.nbits = c, 8
	}
	r.nbits--
	return uint32(r.cur>>r.nbits) & 1, true
}

// ue reads an unsigned Exp-Golomb code (9.1).
func (r *rbspReader) ue() (uint32, bool) {
	zeros := 0
	for {
		b, ok := r.bit()
		if !ok {
			return 0, false
		}
		if b == 1 {
			break
		}
		if zeros++; zeros > 31 {
			return 0, false
		}
	}
	v := uint32(0)
	for range zeros {
		b, ok := r.bit()
		if !ok {
			return 0, false
		}
		v = v<<1 | b
	}
	return v + (1<<zeros - 1), true
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
