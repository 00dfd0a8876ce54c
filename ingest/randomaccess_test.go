package ingest_test

import (
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/ingest"
)

// TestRandomAccessOpenGOP: x264 with open GOPs codes an IDR once and each
// later GOP from an intra picture with a recovery point SEI. Each is a
// random access point, and libavcodec starts on it: a fresh decoder given
// such a picture (with the parameter sets), then the units after it,
// gives that picture first, flagged key, then the pictures after it, each
// the same as decoded from the start; the leading B-frames it cannot
// rebuild (shown before it, referring to the GOP before) it does not give.
func TestRandomAccessOpenGOP(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"cabac_bframes", []string{"-threads", "1", "-bf", "3", "-keyint_min", "25", "-sc_threshold", "0", "-x264-params", "open-gop=1"}},
		{"cavlc_bframe", []string{"-threads", "1", "-bf", "1", "-coder", "0", "-keyint_min", "25", "-sc_threshold", "0", "-x264-params", "open-gop=1"}},
		{"four_slices", []string{"-threads", "1", "-bf", "3", "-keyint_min", "25", "-sc_threshold", "0", "-x264-params", "open-gop=1:slices=4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aus := encode(t, append(tc.args, "-t", "4")...) // 100 pictures, a GOP every 25
			var keys []int
			idr := 0
			for i, au := range aus {
				if ingest.RandomAccess(ingest.H264, au) {
					keys = append(keys, i)
				}
				if h264.IsRandomAccess(au) {
					idr++
				}
			}
			if idr != 1 || len(keys) != 4 {
				t.Fatalf("%d IDRs and random access points at %v, want 1 IDR and 4 points", idr, keys)
			}
			// The parameter sets, as the engine prepends them to keyframes.
			var params [][]byte
			for _, n := range aus[0] {
				if typ := h264.NALUType(n[0] & 0x1f); typ == h264.NALUTypeSPS || typ == h264.NALUTypePPS {
					params = append(params, n)
				}
			}
			// Every picture decoded from the start, as reference, by PTS.
			ref := map[int64][]byte{}
			gray := func(d *decode.Decoder) []byte {
				img := decode.Image{Pix: make([]byte, 320*180), Width: 320, Height: 180, Stride: 320}
				if err := d.ScaleGray(img); err != nil {
					t.Fatal(err)
				}
				return img.Pix
			}
			{
				d, err := decode.New(decode.H264)
				if err != nil {
					t.Fatal(err)
				}
				for i, au := range aus {
					if ok, err := d.Decode(annexB(au), int64(i)); err != nil {
						t.Fatal(err)
					} else if ok {
						ref[d.PicturePTS()] = gray(d)
					}
				}
				d.Close()
			}
			for _, k := range keys[1:] {
				d, err := decode.New(decode.H264)
				if err != nil {
					t.Fatal(err)
				}
				whole, corrupt := 0, 0
				for i := k; i < min(k+10, len(aus)); i++ {
					au := aus[i]
					if i == k {
						au = append(append([][]byte{}, params...), au...)
					}
					ok, err := d.Decode(annexB(au), int64(i))
					if err != nil {
						t.Fatalf("unit %d after the point at %d: %v", i, k, err)
					}
					if !ok {
						continue
					}
					diff := 0
					if r, ok := ref[d.PicturePTS()]; ok {
						for j, v := range gray(d) {
							diff += max(int(v)-int(r[j]), int(r[j])-int(v))
						}
					}
					if whole+corrupt == 0 && (d.PicturePTS() != int64(k) || !d.PictureKey()) {
						t.Errorf("from %d: the first picture is unit %d's (key %v), want the random access point's, flagged key", k, d.PicturePTS(), d.PictureKey())
					}
					if diff != 0 {
						// A leading picture (shown before the point, referring
						// to the GOP before) given out concealed.
						t.Errorf("from %d: unit %d's picture differs from the one decoded from the start (mean %.2f a pixel)", k, d.PicturePTS(), float64(diff)/(320*180))
					}
					if d.Corrupt() {
						corrupt++
					} else {
						whole++
					}
				}
				d.Close()
				if whole < 5 {
					t.Errorf("no whole picture from the random access point at %d", k)
				}
			}
		})
	}
}

// annexB joins NAL units with start codes.
func annexB(au [][]byte) []byte {
	var b []byte
	for _, n := range au {
		b = append(append(b, 0, 0, 0, 1), n...)
	}
	return b
}

// TestRandomAccessIntraRefresh: x264's periodic intra refresh codes one IDR
// and then P-frames only, a recovery point SEI on some of them (the
// picture whole again some frames later): none of those is a keyframe,
// which a picture decoded alone must be.
func TestRandomAccessIntraRefresh(t *testing.T) {
	aus := encode(t, "-threads", "1", "-x264-params", "intra-refresh=1", "-t", "4")
	var keys []int
	for i, au := range aus {
		if ingest.RandomAccess(ingest.H264, au) {
			keys = append(keys, i)
		}
	}
	if len(keys) != 1 || keys[0] != 0 {
		t.Fatalf("random access points at %v, want the IDR at 0 only", keys)
	}
	sei := 0
	for _, au := range aus[1:] {
		for _, n := range au {
			if n[0]&0x1f == byte(h264.NALUTypeSEI) {
				sei++
			}
		}
	}
	if sei == 0 {
		t.Fatal("no SEI after the IDR: the clip is not what the test expects")
	}
}
