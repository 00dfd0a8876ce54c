package decode

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestCorruptInput(t *testing.T) {
	type damage func(rng *rand.Rand, aus [][]byte) [][]byte
	tests := []struct {
		name   string
		damage damage
	}{
		{"random_bytes", func(rng *rand.Rand, _ [][]byte) [][]byte {
			var out [][]byte
			for i := 0; i < 20; i++ {
				b := make([]byte, 1+rng.IntN(4000))
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				out = append(out, b)
			}
			return out
		}},
		{"random_after_start_code", func(rng *rand.Rand, _ [][]byte) [][]byte {
			var out [][]byte
			for i := 0; i < 20; i++ {
				b := make([]byte, 5+rng.IntN(2000))
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				copy(b, []byte{0, 0, 0, 1})
				out = append(out, b)
			}
			return out
		}},
		{"truncated", func(rng *rand.Rand, aus [][]byte) [][]byte {
			var out [][]byte
			for _, au := range aus[:20] {
				out = append(out, au[:rng.IntN(len(au))])
			}
			return out
		}},
		{"bytes_flipped", func(rng *rand.Rand, aus [][]byte) [][]byte {
			var out [][]byte
			for _, au := range aus[:20] {
				b := append([]byte(nil), au...)
				for k := 0; k < 1+len(b)/100; k++ {
					i := 4 + rng.IntN(len(b)-4)
					b[i] ^= byte(1 + rng.IntN(255))
				}
				out = append(out, b)
			}
			return out
		}},
		{"gop_tail_without_keyframe", func(_ *rand.Rand, aus [][]byte) [][]byte {
			return aus[10:30]
		}},
	}
	for _, spec := range []clipSpec{h264Clip, h265Clip} {
		path := sharedClip(t, spec)
		aus := readAUs(t, path, spec.codec)
		ref := refGray(t, path, 320, 180)
		for _, tt := range tests {
			t.Run(spec.codec.String()+"/"+tt.name, func(t *testing.T) {
				d, err := New(spec.codec)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				rng := rand.New(rand.NewPCG(1, uint64(len(tt.name))))
				img := newImage(320, 180)
				var failures uint64
				for i, bad := range tt.damage(rng, aus) {
					got, err := d.Decode(bad, int64(i))
					if err != nil {
						failures++
						if !errors.Is(err, ErrInvalidData) {
							t.Fatalf("damaged AU %d: %v does not wrap ErrInvalidData", i, err)
						}
					}
					if got {
						if err := d.ScaleGray(img); err != nil {
							t.Fatalf("damaged AU %d: ScaleGray: %v", i, err)
						}
					}
				}
				if _, fails := d.Stats(); fails != failures {
					t.Fatalf("Stats failures %d, Decode returned %d errors", fails, failures)
				}
				t.Logf("%d of the damaged access units reported errors", failures)
				// Recovery without Reset: from the next keyframe on, every
				// picture is right.
				checkRecovers(t, d, aus, ref, nextKey(t, aus, 1, spec.codec))
			})
		}
	}
}

func TestEmptyAndClosed(t *testing.T) {
	d, err := New(H264)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Decode(nil, 0); got || err != nil {
		t.Fatalf("Decode(nil) = %v, %v; want false, nil", got, err)
	}
	if got, err := d.Decode([]byte{}, 0); got || err != nil {
		t.Fatalf("Decode(empty) = %v, %v; want false, nil", got, err)
	}
	d.Close()
	d.Close() // idempotent
	if _, err := d.Decode([]byte{0, 0, 1, 9}, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Decode after Close: %v, want ErrClosed", err)
	}
	if err := d.ScaleGray(newImage(4, 4)); !errors.Is(err, ErrClosed) {
		t.Fatalf("ScaleGray after Close: %v, want ErrClosed", err)
	}
	d.Reset()
	d.SetSkip(SkipNonKey)
	if w, h := d.PictureSize(); w != 0 || h != 0 {
		t.Fatalf("PictureSize after Close = %dx%d", w, h)
	}
}

func TestNewUnsupportedCodec(t *testing.T) {
	if d, err := New(Codec(7)); err == nil {
		d.Close()
		t.Fatal("New(Codec(7)) succeeded")
	}
}

func TestCodecString(t *testing.T) {
	for c, want := range map[Codec]string{H264: "h264", H265: "h265", Codec(9): "codec(9)"} {
		if got := c.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(c), got, want)
		}
	}
}
