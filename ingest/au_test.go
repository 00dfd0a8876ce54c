package ingest_test

import (
	"testing"

	"github.com/vigil-video/vigil/ingest"
)

// TestNonReference: the reference flag comes from the first slice's NAL
// header: H.264 nal_ref_idc 0, H.265 the sub-layer non-reference types
// (even types below 16); parameter sets and SEI before it do not count.
func TestNonReference(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec ingest.Codec
		au    [][]byte
		want  bool
	}{
		{"h264_p_ref", ingest.H264, [][]byte{{0x09, 0x10}, {0x06, 0x05}, {0x41, 0x9a}}, false},
		{"h264_b_nonref", ingest.H264, [][]byte{{0x09, 0x10}, {0x01, 0x9e}}, true},
		{"h264_idr", ingest.H264, [][]byte{{0x67, 0x42}, {0x68, 0xce}, {0x65, 0x88}}, false},
		{"h265_trail_r", ingest.H265, [][]byte{{0x46, 0x01}, {0x02, 0x01, 0xd0}}, false},
		{"h265_trail_n", ingest.H265, [][]byte{{0x4e, 0x01, 0x05}, {0x00, 0x01, 0xd0}}, true},
		{"h265_cra", ingest.H265, [][]byte{{0x2a, 0x01, 0xd0}}, false},
		{"empty", ingest.H264, nil, false},
	} {
		if got := ingest.NonReference(tc.codec, tc.au); got != tc.want {
			t.Errorf("%s: NonReference = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestDroppable: an H.264 non-reference picture is droppable in a stream
// of frame pictures (frame_mbs_only_flag), not in an interlaced one (a
// field of a non-reference pair decoded alone would be half concealed);
// an H.265 sub-layer non-reference picture only on the highest sub-layer
// its SPS allows (pictures of higher sub-layers may refer to it). Without
// an SPS nothing is droppable.
func TestDroppable(t *testing.T) {
	progressive := []byte{0x67, 0x4d, 0x40, 0x1e, 0xec, 0xa0, 0x50, 0x17, 0xfc, 0xb8, 0x08, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80,
		0x00, 0x00, 0x19, 0x07, 0x8b, 0x16, 0xcb} // x264, 640×360 main (scripts/gatematrix.sh: highway-bf)
	interlaced := []byte{0x67, 0x64, 0x00, 0x1e, 0xac, 0xe8, 0x0b, 0x42, 0x4d, 0xff, 0x80, 0x20, 0x00, 0x16, 0x88, 0x00, 0x00,
		0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x01, 0x90, 0xf8, 0xa1, 0x55} // x264, 720×576 MBAFF (scripts/gatematrix.sh GATE_PAL=1)
	sps1 := []byte{0x42, 0x01, 0x01}    // one sub-layer (sps_max_sub_layers_minus1 0)
	sps3 := []byte{0x42, 0x01, 0x05}    // three (minus1 2)
	trailN0 := []byte{0x00, 0x01, 0xd0} // TRAIL_N, TemporalId 0
	trailN2 := []byte{0x00, 0x03, 0xd0} // TRAIL_N, TemporalId 2
	trailR0 := []byte{0x02, 0x01, 0xd0} // TRAIL_R, TemporalId 0
	bNonRef := [][]byte{{0x09, 0x10}, {0x01, 0x9e}}
	for _, tc := range []struct {
		name  string
		codec ingest.Codec
		sps   []byte
		au    [][]byte
		want  bool
	}{
		{"h264_b_nonref", ingest.H264, progressive, bNonRef, true},
		{"h264_b_nonref_interlaced", ingest.H264, interlaced, bNonRef, false},
		{"h264_b_nonref_no_sps", ingest.H264, nil, bNonRef, false},
		{"h264_p_ref", ingest.H264, progressive, [][]byte{{0x41, 0x9a}}, false},
		{"h265_trail_n_one_layer", ingest.H265, sps1, [][]byte{trailN0}, true},
		{"h265_trail_n_no_sps", ingest.H265, nil, [][]byte{trailN0}, false},
		{"h265_trail_n_lower_layer", ingest.H265, sps3, [][]byte{trailN0}, false},
		{"h265_trail_n_top_layer", ingest.H265, sps3, [][]byte{{0x4e, 0x01, 0x05}, trailN2}, true},
		{"h265_trail_r", ingest.H265, sps1, [][]byte{trailR0}, false},
	} {
		if got := ingest.Droppable(tc.codec, tc.sps, tc.au); got != tc.want {
			t.Errorf("%s: Droppable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
