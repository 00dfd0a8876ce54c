package ingest

import (
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// TestSliceQP265RefusesABadRPSIndex: a slice whose own reference picture
// set is predicted from an SPS set with a delta_idx past the SPS's sets
// (one coded as 2^32-1, which the Exp-Golomb reader wraps to 0 when 1 is
// added) is an error, not an index past the end of the SPS's sets: that
// panic is not the reader's short-header one, and took the process down.
func TestSliceQP265RefusesABadRPSIndex(t *testing.T) {
	var p SliceQP265
	p.sps[0] = &h265.SPS{Log2MaxPicOrderCntLsbMinus4: 4, ShortTermRefPicSets: []*h265.SPS_ShortTermRefPicSet{{NumNegativePics: 1}}}
	p.pps[0] = h265PPS{initQP: 26, valid: true}
	for _, d := range []uint64{1, 5, 1<<32 - 1} {
		var w bitWriter
		w.bit(1)      // first_slice_segment_in_pic_flag
		w.ue(0)       // slice_pic_parameter_set_id
		w.ue(1)       // slice_type P
		w.bits(3, 8)  // slice_pic_order_cnt_lsb
		w.bit(0)      // short_term_ref_pic_set_sps_flag
		w.bit(1)      // inter_ref_pic_set_prediction_flag
		w.ue(d)       // delta_idx_minus1
		w.bit(0)      // delta_rps_sign
		w.ue(0)       // abs_delta_rps_minus1
		w.bits(0, 64) // the rest
		_, err := p.QP([][]byte{append([]byte{0x02, 0x01}, w.bytes()...)})
		if err == nil {
			t.Errorf("delta_idx_minus1 %d with one SPS set: no error", d)
		}
		t.Logf("delta_idx_minus1 %d: %v", d, err)
	}
	// delta_idx_minus1 0 names the SPS's one set: the slice reads on.
	var w bitWriter
	w.bit(1)
	w.ue(0)
	w.ue(1)
	w.bits(3, 8)
	w.bit(0)
	w.bit(1)
	w.ue(0)      // delta_idx_minus1
	w.bit(0)     // delta_rps_sign
	w.ue(0)      // abs_delta_rps_minus1
	w.bits(3, 2) // used_by_curr_pic_flag for the set's picture and the delta
	w.bit(0)     // num_ref_idx_active_override_flag
	w.ue(0)      // five_minus_max_num_merge_cand
	w.ue(5)      // slice_qp_delta +3 (se(v): code 2k-1 is +k)
	w.bits(0, 16)
	if qp, err := p.QP([][]byte{append([]byte{0x02, 0x01}, w.bytes()...)}); err != nil || qp != 29 {
		t.Errorf("a slice predicting its set from the SPS's: qp %d (%v), want 29", qp, err)
	}
}
