package decode

import (
	"bytes"
	"errors"
	"testing"
)

// TestPoolLendsCleanDecoders: a decoder given back forgets the camera that
// used it (no picture of one camera can reach another), is lent again
// rather than a new one opened, and decodes the next camera's keyframe
// exactly as a decoder of its own would, whatever size that camera's
// pictures are; a full pool closes what it cannot keep.
func TestPoolLendsCleanDecoders(t *testing.T) {
	small := clipSpec{codec: H264, size: "320x240", seconds: 1, pixFmt: "yuv420p", noise: true}
	keyA := readAUs(t, sharedClip(t, h264Clip), H264)[0]
	keyB := readAUs(t, sharedClip(t, small), H264)[0]
	gray := func(d *Decoder, key []byte) []byte {
		t.Helper()
		if ok, err := d.Decode(key, 1); !ok || err != nil {
			t.Fatalf("decode keyframe: %v, %v", ok, err)
		}
		img := newImage(160, 120)
		if err := d.ScaleGray(img); err != nil {
			t.Fatal(err)
		}
		return img.Pix
	}
	fresh, err := New(H264)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	wantB := gray(fresh, keyB)

	p := NewPool(2)
	defer p.Close()
	a, err := p.Get(H264, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	gray(a, keyA) // camera A, 640x360
	p.Put(a)
	if lent, open := p.Stats(); lent != 0 || open != 1 {
		t.Fatalf("after Put: lent %d, open %d; want 0, 1", lent, open)
	}
	b, err := p.Get(H264, 320, 240)
	if err != nil {
		t.Fatal(err)
	}
	if b != a {
		t.Fatal("a free decoder of the codec was not lent again")
	}
	if w, h := b.PictureSize(); w != 0 || h != 0 {
		t.Fatalf("lent decoder still has a %dx%d picture of the camera before", w, h)
	}
	if err := b.ScaleGray(newImage(160, 120)); !errors.Is(err, ErrNoPicture) {
		t.Fatalf("ScaleGray on a lent decoder: %v, want ErrNoPicture", err)
	}
	if got := gray(b, keyB); !bytes.Equal(got, wantB) {
		t.Fatal("a shared decoder decoded camera B's keyframe differently from a decoder of its own")
	}
	c, _ := p.Get(H264, 320, 240)
	d, _ := p.Get(H264, 320, 240)
	if lent, open := p.Stats(); lent != 3 || open != 3 {
		t.Fatalf("three lent: lent %d, open %d", lent, open)
	}
	p.Put(b)
	p.Put(c)
	p.Put(d) // the pool keeps 2: this one is closed
	if lent, open := p.Stats(); lent != 0 || open != 2 {
		t.Fatalf("after giving back three to a pool of 2: lent %d, open %d; want 0, 2", lent, open)
	}
	if d.c != nil {
		t.Fatal("the decoder the full pool could not keep was not closed")
	}
	h, err := p.Get(H265, 0, 0)
	if err != nil || h == b || h == c || h.Codec() != H265 {
		t.Fatalf("Get(H265) = %v, %v: want a new H.265 decoder", h, err)
	}
	p.Put(h)
}

// TestNoDeblockIsForKeyframesAlone: a keyframe decoded without the in-loop
// filters (an idle camera's, decoded alone) is not the encoder's picture,
// and a decoder given back to the pool decodes with them again: the next
// camera's GOP (a wake-up's replay) comes out exactly as a decoder of its
// own makes it.
func TestNoDeblockIsForKeyframesAlone(t *testing.T) {
	for _, spec := range []clipSpec{
		{codec: H264, size: "640x360", seconds: 1, pixFmt: "yuv420p", noise: true},
		{codec: H265, size: "640x360", seconds: 1, pixFmt: "yuv420p", noise: true},
	} {
		t.Run(spec.codec.String(), func(t *testing.T) {
			aus := readAUs(t, sharedClip(t, spec), spec.codec)
			gray := func(d *Decoder, au []byte, i int) []byte {
				t.Helper()
				if ok, err := d.Decode(au, int64(i)); !ok || err != nil {
					t.Fatalf("decode unit %d: %v, %v", i, ok, err)
				}
				img := newImage(640, 360)
				if err := d.ScaleGray(img); err != nil {
					t.Fatal(err)
				}
				return img.Pix
			}
			fresh, err := New(spec.codec)
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			want := make([][]byte, len(aus))
			for i, au := range aus {
				want[i] = gray(fresh, au, i)
			}

			p := NewPool(1)
			defer p.Close()
			d, err := p.Get(spec.codec, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			d.SetNoDeblock(true)
			if bytes.Equal(gray(d, aus[0], 0), want[0]) {
				t.Fatal("the keyframe decoded without the in-loop filters is the filtered picture: the option is not applied")
			}
			p.Put(d)
			d, err = p.Get(spec.codec, 640, 360)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Put(d)
			for i, au := range aus {
				if !bytes.Equal(gray(d, au, i), want[i]) {
					t.Fatalf("unit %d of the next GOP decoded by the decoder given back differs from a decoder of its own: the in-loop filters stayed off", i)
				}
			}
		})
	}
}
