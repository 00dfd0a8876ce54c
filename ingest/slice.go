package ingest

import (
	"errors"

	"github.com/bluenviron/mediacommon/v2/pkg/bits"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// ErrNoQP marks an access unit whose slice QP cannot be read: no slice,
// an unknown parameter set, or a feature the parser does not follow
// (slice groups). Callers fall back to sizes alone.
var ErrNoQP = errors.New("slice qp unavailable")

// h264PPS holds the picture parameter set fields a slice header needs.
type h264PPS struct {
	spsID                    uint32
	entropyCABAC             bool
	bottomFieldPicOrder      bool
	numRefIdxL0, numRefIdxL1 uint32 // defaults, minus 1
	weightedPred             bool
	weightedBipredIdc        uint64
	picInitQP                int32 // 26 + pic_init_qp_minus26
	redundantPicCntPresent   bool
	valid                    bool
}

// SliceQP reads the quantizer of H.264 slices from their headers, without
// decoding: SliceQPY = 26 + pic_init_qp_minus26 + slice_qp_delta. It keeps
// the parameter sets seen in band (or given with Param). Not safe for
// concurrent use; QP does not allocate.
type SliceQP struct {
	sps [32]*h264.SPS
	pps []h264PPS // by id, grown to the largest id seen (at most maxPPS)
	buf [96]byte  // the start of a NAL unit without emulation prevention
	// w is the last slice's explicit luma weight for reference 0 of list
	// 0 (Weight).
	w lumaWeight
}

// lumaWeight is a slice's explicit weighted prediction of luma for one
// reference: luma = ref*weight/2^denom + offset.
type lumaWeight struct {
	weight, denom, offset int32
	ok                    bool
}

// isFade reports whether a luma weight (Weight) changes the whole
// picture's brightness: scaled by more than 25% or offset by more than 16
// levels. x264's weightp on a still view under sensor noise carries none,
// or weights within a few percent of 1; a lens covered 92% black is
// 0.12.
func isFade(scale float64, offset int) bool {
	return scale < 0.75 || scale > 1.25 || offset < -16 || offset > 16
}

// Fade reports whether the last slice QP read carried a luma weight that
// changes the whole picture's brightness (P slices only: keyframes carry
// no weight), which unit.AccessUnit.Fade passes to the activity signal.
func (p *SliceQP) Fade() bool { return p.w.fade() }

// fade reports whether the weight was carried and changes the whole
// picture's brightness (isFade).
func (w lumaWeight) fade() bool {
	return w.ok && isFade(float64(w.weight)/float64(int32(1)<<w.denom), int(w.offset))
}

// Weight reports the explicit luma weight of the last slice QP read, for
// the first reference of list 0: the scale (1 is no change) and the
// offset (in 8-bit luma levels), and whether the slice carried one. An
// encoder with weighted prediction (x264's default weightp, many hardware
// encoders) codes a global brightness change, a lens covered, lights off,
// a fade, as one weight in the slice header and almost no residual: its
// picture is as small as a still one's, and only the weight shows it.
func (p *SliceQP) Weight() (scale float64, offset int, ok bool) {
	if !p.w.ok {
		return 1, 0, false
	}
	return float64(p.w.weight) / float64(int32(1)<<p.w.denom), int(p.w.offset), true
}

// maxPPS bounds pic_parameter_set_id (H.264: 0..255).
const maxPPS = 256

// Param records an SPS or PPS NAL unit; other units are ignored.
func (p *SliceQP) Param(nalu []byte) error {
	if len(nalu) < 2 {
		return nil
	}
	switch h264.NALUType(nalu[0] & 0x1f) {
	case h264.NALUTypeSPS:
		var s h264.SPS
		if err := s.Unmarshal(nalu); err != nil {
			return err
		}
		if s.ID >= uint32(len(p.sps)) {
			return errors.New("sps id out of range")
		}
		p.sps[s.ID] = &s
	case h264.NALUTypePPS:
		return p.parsePPS(h264.EmulationPreventionRemove(nalu[1:]))
	}
	return nil
}

func (p *SliceQP) parsePPS(b []byte) error {
	r := bitReader{b: b}
	return catchShort(func() error {
		id := r.ue()
		if id >= maxPPS {
			return errors.New("pps id out of range")
		}
		if id >= uint32(len(p.pps)) {
			p.pps = append(p.pps, make([]h264PPS, id+1-uint32(len(p.pps)))...)
		}
		var pp h264PPS
		pp.spsID = r.ue()
		pp.entropyCABAC = r.flag()
		pp.bottomFieldPicOrder = r.flag()
		if r.ue() != 0 { // num_slice_groups_minus1: slice groups are not followed
			p.pps[id] = h264PPS{}
			return nil
		}
		pp.numRefIdxL0 = r.ue()
		pp.numRefIdxL1 = r.ue()
		pp.weightedPred = r.flag()
		pp.weightedBipredIdc = r.bits(2)
		pp.picInitQP = 26 + r.se()
		r.se() // pic_init_qs_minus26
		r.se() // chroma_qp_index_offset
		r.flag()
		r.flag()
		pp.redundantPicCntPresent = r.flag()
		pp.valid = true
		p.pps[id] = pp
		return nil
	})
}

var errShort = errors.New("truncated header")

// bitReader reads Exp-Golomb codes and bits from a header; a read past the
// end panics with errShort, which catchShort turns into an error.
type bitReader struct {
	b   []byte
	pos int
}

func (r *bitReader) ue() uint32 {
	v, err := bits.ReadGolombUnsigned(r.b, &r.pos)
	if err != nil {
		panic(errShort)
	}
	return v
}

func (r *bitReader) se() int32 {
	v, err := bits.ReadGolombSigned(r.b, &r.pos)
	if err != nil {
		panic(errShort)
	}
	return v
}

func (r *bitReader) flag() bool {
	v, err := bits.ReadFlag(r.b, &r.pos)
	if err != nil {
		panic(errShort)
	}
	return v
}

func (r *bitReader) bits(n int) uint64 {
	v, err := bits.ReadBits(r.b, &r.pos, n)
	if err != nil {
		panic(errShort)
	}
	return v
}

func (r *bitReader) skip(n int) { r.bits(n) }

// catchShort turns the bit readers' errShort panics into an error.
func catchShort(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r != errShort {
				panic(r)
			}
			err = errShort
		}
	}()
	return f()
}

// unescape copies the start of a NAL unit's payload without emulation
// prevention bytes into p.buf.
func (p *SliceQP) unescape(nalu []byte) []byte { return unescape(p.buf[:], nalu) }

// QP returns the QP of the access unit's first slice, recording parameter
// sets it carries on the way.
func (p *SliceQP) QP(au [][]byte) (int, error) {
	for _, n := range au {
		if len(n) < 2 {
			continue
		}
		switch t := h264.NALUType(n[0] & 0x1f); t {
		case h264.NALUTypeSPS, h264.NALUTypePPS:
			if err := p.Param(n); err != nil {
				return 0, err
			}
		case h264.NALUTypeIDR, h264.NALUTypeNonIDR:
			return p.sliceQP(n[0], p.unescape(n[1:]))
		}
	}
	return 0, ErrNoQP
}

// sliceQP walks a slice header (7.3.3) up to slice_qp_delta.
func (p *SliceQP) sliceQP(hdr byte, b []byte) (qp int, err error) {
	p.w = lumaWeight{}
	idr := hdr&0x1f == byte(h264.NALUTypeIDR)
	refIdc := hdr >> 5
	r := bitReader{b: b}
	err = catchShort(func() error {
		r.ue() // first_mb_in_slice
		sliceType := r.ue() % 5
		ppsID := r.ue()
		if ppsID >= uint32(len(p.pps)) || !p.pps[ppsID].valid {
			return ErrNoQP
		}
		pp := &p.pps[ppsID]
		if pp.spsID >= uint32(len(p.sps)) || p.sps[pp.spsID] == nil {
			return ErrNoQP
		}
		sps := p.sps[pp.spsID]
		const (
			sliceP, sliceB, sliceI, sliceSP, sliceSI = 0, 1, 2, 3, 4
		)
		if sps.SeparateColourPlaneFlag {
			r.skip(2)
		}
		r.skip(int(sps.Log2MaxFrameNumMinus4) + 4) // frame_num
		field := false
		if !sps.FrameMbsOnlyFlag {
			if field = r.flag(); field {
				r.flag() // bottom_field_flag
			}
		}
		if idr {
			r.ue() // idr_pic_id
		}
		switch sps.PicOrderCntType {
		case 0:
			r.skip(int(sps.Log2MaxPicOrderCntLsbMinus4) + 4)
			if pp.bottomFieldPicOrder && !field {
				r.se()
			}
		case 1:
			if !sps.DeltaPicOrderAlwaysZeroFlag {
				r.se()
				if pp.bottomFieldPicOrder && !field {
					r.se()
				}
			}
		}
		if pp.redundantPicCntPresent {
			r.ue()
		}
		if sliceType == sliceB {
			r.flag() // direct_spatial_mv_pred_flag
		}
		l0, l1 := pp.numRefIdxL0, pp.numRefIdxL1
		if sliceType == sliceP || sliceType == sliceSP || sliceType == sliceB {
			if r.flag() { // num_ref_idx_active_override_flag
				l0 = r.ue()
				if sliceType == sliceB {
					l1 = r.ue()
				}
			}
		}
		// ref_pic_list_modification
		lists := 0
		if sliceType != sliceI && sliceType != sliceSI {
			lists = 1
			if sliceType == sliceB {
				lists = 2
			}
		}
		for range lists {
			if r.flag() {
				for i := 0; ; i++ {
					idc := r.ue()
					if idc == 3 {
						break
					}
					if idc > 5 || i > 64 {
						return errors.New("bad ref_pic_list_modification")
					}
					r.ue()
				}
			}
		}
		chroma := sps.ChromaFormatIdc != 0 && !sps.SeparateColourPlaneFlag
		if (pp.weightedPred && (sliceType == sliceP || sliceType == sliceSP)) || (pp.weightedBipredIdc == 1 && sliceType == sliceB) {
			denom := r.ue() // luma_log2_weight_denom
			if denom > 7 {
				return errors.New("bad luma_log2_weight_denom")
			}
			if chroma {
				r.ue()
			}
			for list := range lists {
				n := l0
				if list == 1 {
					n = l1
				}
				if n > 31 {
					return errors.New("bad num_ref_idx")
				}
				for i := uint32(0); i <= n; i++ {
					if r.flag() {
						w, o := r.se(), r.se()
						if list == 0 && i == 0 && sliceType != sliceB {
							p.w = lumaWeight{weight: w, denom: int32(denom), offset: o, ok: true}
						}
					}
					if chroma && r.flag() {
						r.se()
						r.se()
						r.se()
						r.se()
					}
				}
			}
		}
		if refIdc != 0 {
			if idr {
				r.flag()
				r.flag()
			} else if r.flag() { // adaptive_ref_pic_marking_mode_flag
				for i := 0; ; i++ {
					op := r.ue()
					if op == 0 {
						break
					}
					if op > 6 || i > 64 {
						return errors.New("bad memory_management_control_operation")
					}
					if op == 1 || op == 3 {
						r.ue()
					}
					if op == 2 {
						r.ue()
					}
					if op == 3 || op == 6 {
						r.ue()
					}
					if op == 4 {
						r.ue()
					}
				}
			}
		}
		if pp.entropyCABAC && sliceType != sliceI && sliceType != sliceSI {
			r.ue() // cabac_init_idc
		}
		qp = int(pp.picInitQP + r.se())
		if qp < 0 || qp > 51 {
			return errors.New("slice qp out of range")
		}
		return nil
	})
	return qp, err
}
