package analyze

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

func TestNewFrame(t *testing.T) {
	for _, tc := range []struct {
		name          string
		width, height int
		err           bool
	}{
		{"qvga", 320, 180, false},
		{"odd", 33, 7, false},
		{"zero_width", 0, 10, true},
		{"negative_height", 10, -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFrame(tc.width, tc.height)
			if tc.err {
				if !errors.Is(err, ErrFrameSize) {
					t.Fatalf("err %v, want ErrFrameSize", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Width != tc.width || f.Height != tc.height || f.Stride < tc.width || len(f.Pix) < f.Stride*tc.height {
				t.Fatalf("frame %dx%d stride %d len %d", f.Width, f.Height, f.Stride, len(f.Pix))
			}
			// Pix aliases the Mat: a write through Pix is what OpenCV sees.
			x, y := tc.width-1, tc.height-1
			f.Pix[y*f.Stride+x] = 201
			if got := f.mat.GetUCharAt(y, x); got != 201 {
				t.Errorf("Mat(%d,%d) = %d after writing 201 to Pix", y, x, got)
			}
			f.Close()
			f.Close()
			if f.Pix != nil {
				t.Error("Pix still set after Close")
			}
		})
	}
}

func TestFrameSizeChangeRelearns(t *testing.T) {
	c, f := newTestCamera(t, config.AlgorithmDiff)
	feed(c, f, 5, 0, 10*time.Second, staticScene(100, 10))
	big, err := NewFrame(640, 360)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	// A new resolution with a different scene must not raise motion.
	if got := feed(c, big, 5, 10*time.Second, 20*time.Second, staticScene(180, 10)); len(got) != 0 {
		t.Fatalf("got %+v after a size change, want nothing", got)
	}
}

func TestFrameJPEG(t *testing.T) {
	f, err := NewFrame(64, 36)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range f.Pix {
		f.Pix[i] = byte(i)
	}
	for _, boxes := range [][]Box{nil, {{0.1, 0.1, 0.5, 0.5}}} {
		b, err := f.JPEG(boxes)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 100 || b[0] != 0xff || b[1] != 0xd8 {
			t.Fatalf("not a JPEG: % x", b[:min(4, len(b))])
		}
	}
}
