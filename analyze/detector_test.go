package analyze

import (
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// TestBackgroundFixedPoint checks the diff background kept in 16-bit
// fixed point: half a float's memory, and it still follows a change of
// a few grey levels, which an 8-bit average would never reach (at the
// weight of 5 frames a second, 0.095, a step under 5 levels rounds to
// nothing in 8 bits).
func TestBackgroundFixedPoint(t *testing.T) {
	f, err := NewFrame(320, 180)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := newDetector(config.DefaultAnalysis().Motion, nil, nil)
	defer d.close()
	w := getWork()
	defer putWork(w)
	var out detection
	fill := func(v byte) {
		for i := range f.Pix {
			f.Pix[i] = v
		}
	}
	fill(100)
	d.process(f, w, 0, false, false, &out)
	if d.avg.Type() != gocv.MatTypeCV16U || d.avg.ElemSize() != 2 {
		t.Fatalf("background of type %v, %d bytes a pixel: want 16-bit", d.avg.Type(), d.avg.ElemSize())
	}
	level := func() float64 { return d.avg.Mean().Val1 / avgScale }
	if got := level(); got != 100 {
		t.Fatalf("seeded at %g, want 100", got)
	}
	fill(103)
	for range 100 { // 20 s at 5 frames a second: ten time constants
		d.process(f, w, 200*time.Millisecond, false, false, &out)
		if out.moving {
			t.Fatal("3 grey levels raised motion")
		}
	}
	if got := level(); got < 102.95 || got > 103.05 {
		t.Errorf("background at %.3f after 20 s at 103, want 103", got)
	}
}
