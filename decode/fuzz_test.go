package decode

import (
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to both decoders as access units. The
// seed corpus in testdata/fuzz/FuzzDecode holds real access units (SPS/PPS
// + IDR, P, VPS/SPS/PPS + IDR) and truncated ones from small clips.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 9, 0xf0})
	f.Fuzz(func(t *testing.T, data []byte) {
		img := newImage(64, 36)
		for _, codec := range []Codec{H264, H265} {
			d, err := New(codec)
			if err != nil {
				t.Fatal(err)
			}
			// Twice, so the second call sees state left by the first.
			for i := int64(0); i < 2; i++ {
				got, err := d.Decode(data, i)
				if err != nil && !errors.Is(err, ErrInvalidData) {
					t.Fatalf("%v: %v does not wrap ErrInvalidData", codec, err)
				}
				if got {
					if w, h := d.PictureSize(); w <= 0 || h <= 0 {
						t.Fatalf("%v: picture of %dx%d", codec, w, h)
					}
					if err := d.ScaleGray(img); err != nil {
						t.Fatalf("%v: ScaleGray: %v", codec, err)
					}
				} else if w, _ := d.PictureSize(); i == 0 && w != 0 {
					t.Fatalf("%v: picture size set without a picture", codec)
				}
			}
			d.Close()
		}
	})
}
