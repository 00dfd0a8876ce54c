package ingest

import (
	"bytes"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"

	"github.com/vigil-video/vigil/config"
)

// TestFillerNotHandedOn: filler data NAL units padding a picture are
// dropped from the access unit, so its size (which the activity signal
// reads) is the picture's; an access unit of filler alone is kept.
func TestFillerNotHandedOn(t *testing.T) {
	enc := &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: 1400}
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	sps := []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	idr := append([]byte{0x65, 0x88, 0x84}, bytes.Repeat([]byte{0x5a}, 2000)...)
	p := []byte{0x41, 0x9a, 0x02, 0x11}
	filler := append([]byte{0x0c}, bytes.Repeat([]byte{0xff}, 50000)...)
	dp, err := NewDepacketizer(H264)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for i, au := range [][][]byte{{sps, pps, idr}, {p, filler}, {filler}} {
		pkts, err := enc.Encode(au)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkt := range pkts {
			pkt.Timestamp = uint32(i) * 3600
			if got, ok := dp.Packet(pkt); ok {
				sizes = append(sizes, len(got.Data))
			}
		}
	}
	if len(sizes) != 3 {
		t.Fatalf("%d access units out of 3", len(sizes))
	}
	if sizes[1] != 4+len(p) {
		t.Errorf("padded P picture handed on as %d bytes, want %d (the picture without its filler)", sizes[1], 4+len(p))
	}
	if sizes[2] != 4+len(filler) {
		t.Errorf("filler-only access unit handed on as %d bytes, want it whole (%d)", sizes[2], 4+len(filler))
	}
}

// TestAdmission: parameter sets are sized before their stream is handed
// on; each limit is named when exceeded, and the budget is shared.
func TestAdmission(t *testing.T) {
	// Baseline SPSs built field by field, so the test pins the sizes; the
	// engine's tests feed real encoders' streams.
	enc := func(profile byte, w, h int) []byte { return buildSPS(profile, w/16-1, h/16-1) }
	budget := NewBudget(8 << 20)
	var bytesA, bytesB atomic.Int64
	a := &admission{id: "a", codec: H264, limits: config.DefaultLimits(), budget: budget, bytes: &bytesA}
	if err := a.check([][]byte{enc(66, 640, 368)}); err != nil {
		t.Fatalf("640x368 baseline refused: %v", err)
	}
	want := int64(640 * 368 * 3 / 2 * (1 + 2))
	if bytesA.Load() != want || budget.Used() != want {
		t.Fatalf("reserved %d (budget %d), want %d", bytesA.Load(), budget.Used(), want)
	}
	// A smaller SPS after it (id 1, unused, say) does not free what the
	// decoder still holds for the larger one.
	if err := a.check([][]byte{enc(66, 160, 96)}); err != nil || bytesA.Load() != want || budget.Used() != want {
		t.Fatalf("after a smaller SPS: reserved %d (budget %d, %v), want %d kept", bytesA.Load(), budget.Used(), err, want)
	}
	wide := &admission{id: "w", codec: H264, limits: config.DefaultLimits(), budget: budget, bytes: &bytesB}
	if err := wide.check([][]byte{enc(66, 4112, 368)}); !errors.Is(err, ErrOverLimit) || !strings.Contains(err.Error(), "limits.max_width 4096") {
		t.Errorf("4112 wide: %v, want a refusal naming limits.max_width", err)
	}
	b := &admission{id: "b", codec: H264, limits: config.Limits{MaxWidth: 8192, MaxHeight: 8192, MaxChroma: config.Chroma420, MaxBitDepth: 8, MaxRefFrames: 8, MemoryMB: 4096}, budget: budget, bytes: &bytesB}
	if err := b.check([][]byte{enc(66, 1664, 1024)}); !errors.Is(err, ErrOverLimit) || !strings.Contains(err.Error(), "stream_memory_mb 8") {
		t.Errorf("1664x1024 (7.3 MiB) with 1 MiB reserved of 8: %v, want a refusal naming stream_memory_mb", err)
	}
	budget.release("a")
	if err := b.check([][]byte{enc(66, 1664, 1024)}); err != nil {
		t.Errorf("1664x1024 once the budget is free: %v", err)
	}
}

// buildSPS writes an H.264 SPS of profile (66 Baseline: 4:2:0 8-bit
// implied) with one reference frame, frame_mbs_only and the given size in
// macroblocks less one.
func buildSPS(profile byte, wMbs1, hMbs1 int) []byte {
	var bw bitWriter
	bw.ue(0) // seq_parameter_set_id
	bw.ue(0) // log2_max_frame_num_minus4
	bw.ue(2) // pic_order_cnt_type
	bw.ue(1) // max_num_ref_frames
	bw.bit(0)
	bw.ue(uint64(wMbs1))
	bw.ue(uint64(hMbs1))
	bw.bit(1) // frame_mbs_only_flag
	bw.bit(1) // direct_8x8_inference_flag
	bw.bit(0) // frame_cropping_flag
	bw.bit(0) // vui_parameters_present_flag
	bw.bit(1) // rbsp_stop_one_bit
	return append([]byte{0x67, profile, 0, 30}, bw.bytes()...)
}

type bitWriter struct {
	buf []byte
	n   int
}

func (w *bitWriter) bit(b int) {
	if w.n%8 == 0 {
		w.buf = append(w.buf, 0)
	}
	if b != 0 {
		w.buf[len(w.buf)-1] |= 0x80 >> (w.n % 8)
	}
	w.n++
}

// ue writes v as ue(v); 1<<32-1 takes 32 leading zeros, which a 32-bit
// reader wraps.
func (w *bitWriter) ue(v uint64) {
	v++
	n := 0
	for x := v; x > 1; x >>= 1 {
		n++
	}
	for range n {
		w.bit(0)
	}
	w.bits(v, n+1)
}

// bits writes the n low bits of v.
func (w *bitWriter) bits(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		w.bit(int(v>>i) & 1)
	}
}

func (w *bitWriter) bytes() []byte { return w.buf }
