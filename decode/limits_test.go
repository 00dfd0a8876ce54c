package decode

import (
	"testing"
)

// TestDecoderLimits: libavcodec itself refuses pictures over a decoder's
// limits (too many pixels, a richer chroma, a deeper sample) without
// producing a picture, and decodes the same keyframe without them.
func TestDecoderLimits(t *testing.T) {
	c444 := clipSpec{codec: H264, size: "320x240", seconds: 1, pixFmt: "yuv444p10le"}
	for _, tc := range []struct {
		name   string
		spec   clipSpec
		limits Limits
	}{
		{"pixels", h264Clip, Limits{MaxPixels: 320 * 240}},
		{"chroma", c444, Limits{MaxChroma: 1}},
		{"depth", h264Clip10, Limits{MaxBitDepth: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := readAUs(t, sharedClip(t, tc.spec), tc.spec.codec)[0]
			d, err := New(tc.spec.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.SetLimits(tc.limits)
			if got, err := d.Decode(key, 1); got || err == nil {
				t.Fatalf("keyframe over the limits %+v: picture %v, error %v; want no picture and an error", tc.limits, got, err)
			}
			d.SetLimits(Limits{})
			d.Reset()
			if got, err := d.Decode(key, 2); !got || err != nil {
				t.Fatalf("keyframe without limits: picture %v, error %v", got, err)
			}
		})
	}
}

// TestPoolForget: Forget closes the free decoders of one picture size
// and keeps the others.
func TestPoolForget(t *testing.T) {
	small := clipSpec{codec: H264, size: "320x240", seconds: 1, pixFmt: "yuv420p"}
	keyA := readAUs(t, sharedClip(t, h264Clip), H264)[0]
	keyB := readAUs(t, sharedClip(t, small), H264)[0]
	p := NewPool(4)
	defer p.Close()
	a, _ := p.Get(H264, 0, 0)
	b, _ := p.Get(H264, 0, 0)
	for d, key := range map[*Decoder][]byte{a: keyA, b: keyB} {
		if ok, err := d.Decode(key, 1); !ok || err != nil {
			t.Fatalf("decode: %v %v", ok, err)
		}
	}
	p.Put(a)
	p.Put(b)
	p.Forget(H264, 640, 360)
	if _, open := p.Stats(); open != 1 {
		t.Fatalf("after Forget of 640x360: %d decoders open, want 1 (the 320x240 one)", open)
	}
	if a.c != nil || b.c == nil {
		t.Fatal("Forget closed the wrong decoder")
	}
}
