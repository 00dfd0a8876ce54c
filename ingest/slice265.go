package ingest

import (
	"errors"
	"math/bits"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// QPReader reads the slice QP of access units of one stream (SliceQP for
// H.264, SliceQP265 for H.265), and the luma weight of the last slice
// read.
type QPReader interface {
	// QP returns the QP of the access unit's first slice, recording the
	// parameter sets it carries on the way; ErrNoQP (or a parse error)
	// when it cannot be read.
	QP(au [][]byte) (int, error)
	// Param records a parameter set given out of band (the SDP's).
	Param(nalu []byte) error
	// Fade reports whether the last slice read carried a luma weight that
	// changes the whole picture's brightness.
	Fade() bool
}

// NewQPReader returns the slice QP reader of codec (nil for another).
func NewQPReader(codec Codec) QPReader {
	switch codec {
	case H264:
		return &SliceQP{}
	case H265:
		return &SliceQP265{}
	}
	return nil
}

// h265PPS holds the picture parameter set fields a slice segment header
// needs (H.265 7.3.2.3.1).
type h265PPS struct {
	spsID                    uint32
	outputFlagPresent        bool
	extraSliceHeaderBits     int
	cabacInitPresent         bool
	numRefIdxL0, numRefIdxL1 uint32 // defaults, minus 1
	initQP                   int32  // 26 + init_qp_minus26
	weightedPred             bool
	weightedBipred           bool
	listsModification        bool
	valid                    bool
}

// SliceQP265 reads the quantizer of H.265 slices from their slice segment
// headers, without decoding: SliceQpY = 26 + init_qp_minus26 +
// slice_qp_delta (7.4.7.1), the picture's base QP before the coding
// units' own deltas, as x264's slice QP is. It keeps the parameter sets
// seen in band (or given with Param). A stream it does not follow (long
// term pictures listed in the SPS, reference list modification, screen
// content coding, a first slice that is not its picture's first, an SPS
// that does not parse) has no QP: the activity signal
// uses sizes alone, as it did for every H.265 stream before. Not safe for
// concurrent use.
type SliceQP265 struct {
	sps [16]*h265.SPS
	pps [64]h265PPS
	buf [128]byte // the start of a NAL unit without emulation prevention
	w   lumaWeight
}

// Fade reports whether the last slice QP read carried a luma weight that
// changes the whole picture's brightness (P slices, the first reference).
func (p *SliceQP265) Fade() bool { return p.w.fade() }

// Param records an SPS or PPS NAL unit; other units are ignored.
func (p *SliceQP265) Param(nalu []byte) error {
	if len(nalu) < 3 {
		return nil
	}
	switch h265.NALUType(nalu[0] >> 1 & 0x3f) {
	case h265.NALUType_SPS_NUT:
		var s h265.SPS
		if err := s.Unmarshal(nalu); err != nil {
			// Its id may be one a PPS names: forget every SPS rather than
			// read slices against a stale one, until one that parses.
			p.sps = [len(p.sps)]*h265.SPS{}
			return err
		}
		if int(s.ID) >= len(p.sps) {
			return errors.New("sps id out of range")
		}
		p.sps[s.ID] = nil
		switch ptl := &s.ProfileTierLevel; {
		case s.Log2MaxPicOrderCntLsbMinus4 > 12 || s.BitDepthLumaMinus8 > 8:
			return errors.New("sps values out of range")
		case ptl.GeneralProfileIdc >= 9 || ptl.GeneralProfileCompatibilityFlag[9]:
			// Screen content coding adds slice header syntax (SPS and PPS
			// extensions) the reader does not follow.
			return nil
		}
		p.sps[s.ID] = &s
	case h265.NALUType_PPS_NUT:
		return p.parsePPS(h264.EmulationPreventionRemove(nalu[2:]))
	}
	return nil
}

func (p *SliceQP265) parsePPS(b []byte) error {
	r := bitReader{b: b}
	return catchShort(func() error {
		id := r.ue()
		if id >= uint32(len(p.pps)) {
			return errors.New("pps id out of range")
		}
		p.pps[id] = h265PPS{}
		var pp h265PPS
		pp.spsID = r.ue()
		r.flag() // dependent_slice_segments_enabled_flag: a dependent segment is never a picture's first
		pp.outputFlagPresent = r.flag()
		pp.extraSliceHeaderBits = int(r.bits(3))
		r.flag() // sign_data_hiding_enabled_flag
		pp.cabacInitPresent = r.flag()
		pp.numRefIdxL0 = r.ue()
		pp.numRefIdxL1 = r.ue()
		if pp.numRefIdxL0 > 14 || pp.numRefIdxL1 > 14 {
			return errors.New("bad num_ref_idx_default_active")
		}
		pp.initQP = 26 + r.se()
		r.flag()      // constrained_intra_pred_flag
		r.flag()      // transform_skip_enabled_flag
		if r.flag() { // cu_qp_delta_enabled_flag
			r.ue() // diff_cu_qp_delta_depth
		}
		r.se()   // pps_cb_qp_offset
		r.se()   // pps_cr_qp_offset
		r.flag() // pps_slice_chroma_qp_offsets_present_flag
		pp.weightedPred = r.flag()
		pp.weightedBipred = r.flag()
		r.flag() // transquant_bypass_enabled_flag
		tiles := r.flag()
		r.flag() // entropy_coding_sync_enabled_flag
		if tiles {
			cols, rows := r.ue(), r.ue()
			if cols > 64 || rows > 64 {
				return errors.New("bad tile count")
			}
			if !r.flag() { // uniform_spacing_flag
				for range cols + rows {
					r.ue()
				}
			}
			r.flag() // loop_filter_across_tiles_enabled_flag
		}
		r.flag()      // pps_loop_filter_across_slices_enabled_flag
		if r.flag() { // deblocking_filter_control_present_flag
			r.flag()       // deblocking_filter_override_enabled_flag
			if !r.flag() { // pps_deblocking_filter_disabled_flag
				r.se()
				r.se()
			}
		}
		if r.flag() { // pps_scaling_list_data_present_flag
			skipScalingList(&r)
		}
		pp.listsModification = r.flag()
		pp.valid = true
		p.pps[id] = pp
		return nil
	})
}

// skipScalingList reads past scaling_list_data() (7.3.4).
func skipScalingList(r *bitReader) {
	for size := range 4 {
		step := 1
		if size == 3 {
			step = 3
		}
		for m := 0; m < 6; m += step {
			if !r.flag() { // scaling_list_pred_mode_flag
				r.ue()
				continue
			}
			if size > 1 {
				r.se() // scaling_list_dc_coef_minus8
			}
			for range min(64, 1<<(4+size<<1)) {
				r.se()
			}
		}
	}
}

// unescape copies the start of a NAL unit's payload into buf without its
// emulation prevention bytes.
func unescape(buf, nalu []byte) []byte {
	n, zeros := 0, 0
	for _, c := range nalu {
		if n == len(buf) {
			break
		}
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		buf[n] = c
		n++
	}
	return buf[:n]
}

// QP returns the QP of the access unit's first slice segment, recording
// parameter sets it carries on the way.
func (p *SliceQP265) QP(au [][]byte) (int, error) {
	for _, n := range au {
		if len(n) < 3 {
			continue
		}
		switch t := h265.NALUType(n[0] >> 1 & 0x3f); {
		case t == h265.NALUType_SPS_NUT || t == h265.NALUType_PPS_NUT:
			if err := p.Param(n); err != nil {
				return 0, err
			}
		case t <= h265.NALUType_CRA_NUT: // VCL
			return p.sliceQP(t, unescape(p.buf[:], n[2:]))
		}
	}
	return 0, ErrNoQP
}

// ceilLog2 is Ceil(Log2(n)), the bits of an index below n.
func ceilLog2(n uint32) int {
	if n <= 1 {
		return 0
	}
	return bits.Len32(n - 1)
}

// sliceQP walks a slice segment header (7.3.6.1) up to slice_qp_delta.
func (p *SliceQP265) sliceQP(t h265.NALUType, b []byte) (qp int, err error) {
	p.w = lumaWeight{}
	r := bitReader{b: b}
	err = catchShort(func() error {
		if !r.flag() { // first_slice_segment_in_pic_flag
			return ErrNoQP // the picture's first slice segment was lost
		}
		if t >= h265.NALUType_BLA_W_LP {
			r.flag() // no_output_of_prior_pics_flag
		}
		ppsID := r.ue()
		if ppsID >= uint32(len(p.pps)) || !p.pps[ppsID].valid {
			return ErrNoQP
		}
		pp := &p.pps[ppsID]
		if pp.spsID >= uint32(len(p.sps)) || p.sps[pp.spsID] == nil {
			return ErrNoQP
		}
		sps := p.sps[pp.spsID]
		r.skip(pp.extraSliceHeaderBits)
		const sliceB, sliceP, sliceI = 0, 1, 2
		sliceType := r.ue()
		if sliceType > sliceI {
			return errors.New("bad slice_type")
		}
		if pp.outputFlagPresent {
			r.flag()
		}
		if sps.SeparateColourPlaneFlag {
			r.skip(2)
		}
		temporalMVP := false
		if t != h265.NALUType_IDR_W_RADL && t != h265.NALUType_IDR_N_LP {
			pocBits := int(sps.Log2MaxPicOrderCntLsbMinus4) + 4
			r.skip(pocBits) // slice_pic_order_cnt_lsb
			sets := uint32(len(sps.ShortTermRefPicSets))
			if !r.flag() { // short_term_ref_pic_set_sps_flag
				if err := skipSliceRPS(&r, sps, sets); err != nil {
					return err
				}
			} else {
				r.skip(ceilLog2(sets)) // short_term_ref_pic_set_idx
			}
			if sps.LongTermRefPicsPresentFlag {
				// num_long_term_ref_pics_sps is 0: the SPS parser refuses
				// others, so neither num_long_term_sps nor lt_idx_sps.
				n := r.ue() // num_long_term_pics
				if n > 32 {
					return errors.New("bad num_long_term_pics")
				}
				for range n {
					r.skip(pocBits) // poc_lsb_lt
					r.flag()        // used_by_curr_pic_lt_flag
					if r.flag() {   // delta_poc_msb_present_flag
						r.ue()
					}
				}
			}
			if sps.TemporalMvpEnabledFlag {
				temporalMVP = r.flag()
			}
		}
		chroma := sps.ChromaFormatIdc != 0 && !sps.SeparateColourPlaneFlag
		if sps.SampleAdaptiveOffsetEnabledFlag {
			r.flag()
			if chroma {
				r.flag()
			}
		}
		if sliceType != sliceI {
			if pp.listsModification {
				return ErrNoQP // its syntax needs the pictures' count: not followed
			}
			l0, l1 := pp.numRefIdxL0, pp.numRefIdxL1
			if r.flag() { // num_ref_idx_active_override_flag
				l0 = r.ue()
				if sliceType == sliceB {
					l1 = r.ue()
				}
				if l0 > 14 || l1 > 14 {
					return errors.New("bad num_ref_idx_active")
				}
			}
			if sliceType == sliceB {
				r.flag() // mvd_l1_zero_flag
			}
			if pp.cabacInitPresent {
				r.flag()
			}
			if temporalMVP {
				fromL0 := true
				if sliceType == sliceB {
					fromL0 = r.flag()
				}
				if fromL0 && l0 > 0 || !fromL0 && l1 > 0 {
					r.ue() // collocated_ref_idx
				}
			}
			if pp.weightedPred && sliceType == sliceP || pp.weightedBipred && sliceType == sliceB {
				if err := p.skipWeights(&r, chroma, sliceType == sliceB, l0, l1); err != nil {
					return err
				}
			}
			r.ue() // five_minus_max_num_merge_cand
		}
		qp = int(pp.initQP + r.se())
		if qp < -6*int(sps.BitDepthLumaMinus8) || qp > 51 {
			return errors.New("slice qp out of range")
		}
		return nil
	})
	return qp, err
}

// skipSliceRPS reads past the slice's own st_ref_pic_set(num_short_term_ref_pic_sets)
// (7.3.7): predicted from the SPS's sets, or explicit.
func skipSliceRPS(r *bitReader, sps *h265.SPS, sets uint32) error {
	if sets > 0 && r.flag() { // inter_ref_pic_set_prediction_flag
		d := r.ue() // delta_idx_minus1
		if d >= sets {
			return errors.New("bad delta_idx")
		}
		r.flag() // delta_rps_sign
		r.ue()   // abs_delta_rps_minus1
		ref := sps.ShortTermRefPicSets[sets-1-d]
		for range ref.NumNegativePics + ref.NumPositivePics + 1 {
			if !r.flag() { // used_by_curr_pic_flag
				r.flag() // use_delta_flag
			}
		}
		return nil
	}
	neg, pos := r.ue(), r.ue()
	if neg > 16 || pos > 16 {
		return errors.New("bad num_negative_pics")
	}
	for range neg + pos {
		r.ue()   // delta_poc_s*_minus1
		r.flag() // used_by_curr_pic_s*_flag
	}
	return nil
}

// skipWeights reads pred_weight_table() (7.3.6.3), keeping the luma
// weight of list 0's first reference of a P slice. Every reference of one
// layer has a POC of its own, so each has its flags.
func (p *SliceQP265) skipWeights(r *bitReader, chroma, b bool, l0, l1 uint32) error {
	denom := r.ue() // luma_log2_weight_denom
	if denom > 7 {
		return errors.New("bad luma_log2_weight_denom")
	}
	if chroma {
		r.se() // delta_chroma_log2_weight_denom
	}
	lists := 1
	if b {
		lists = 2
	}
	for list := range lists {
		n := l0 + 1
		if list == 1 {
			n = l1 + 1
		}
		var lumaF, chromaF [15]bool
		for i := range n {
			lumaF[i] = r.flag()
		}
		if chroma {
			for i := range n {
				chromaF[i] = r.flag()
			}
		}
		for i := range n {
			if lumaF[i] {
				dw, o := r.se(), r.se()
				if list == 0 && i == 0 && !b {
					p.w = lumaWeight{weight: int32(1)<<denom + dw, denom: int32(denom), offset: o, ok: true}
				}
			}
			if chromaF[i] {
				for range 4 {
					r.se()
				}
			}
		}
	}
	return nil
}
