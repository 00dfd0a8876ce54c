package nn_test

import (
	"os"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/nn"
)

// TestCut: the cut is the top of the bin where the kept share of the
// values is reached; an empty side keeps its extreme.
func TestCut(t *testing.T) {
	bins := make([]int64, nn.HistBins)
	bins[0], bins[9], bins[nn.HistBins-1] = 99_990, 9, 1 // 100,000 values
	for _, c := range []struct {
		keep float64
		want float32
	}{
		{1, 1},
		{0.99999, 10.0 / nn.HistBins}, // the one extreme value cut
		{0.9999, 1.0 / nn.HistBins},   // the nine above the first bin too
	} {
		if got := nn.Cut(bins, c.keep); got != c.want {
			t.Errorf("keep %g: cut %g, want %g", c.keep, got, c.want)
		}
	}
	if got := nn.Cut(make([]int64, nn.HistBins), 0.5); got != 1 {
		t.Errorf("empty side: cut %g, want 1", got)
	}
}

// TestRangesKeep: on real pictures, ranges that keep 99.9% of the values
// lie within the extremes, and some are narrower; keep outside (0, 1] is
// refused.
func TestRangesKeep(t *testing.T) {
	model, lib := ortPaths(t)
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	outs := nn.Outputs // NanoDet's heads (the calibration model adds the convolutions')
	frame := vtestFrame(t)
	defer frame.Close()
	pics := []gocv.Mat{frame}
	full, err := nn.Ranges(b, lib, outs, pics, 1)
	if err != nil {
		t.Fatal(err)
	}
	cut, err := nn.Ranges(b, lib, outs, pics, 0.999)
	if err != nil {
		t.Fatal(err)
	}
	narrower := 0
	for _, name := range outs {
		f, c := full[name], cut[name]
		if c[0] < f[0] || c[1] > f[1] || (f[0] < 0 && c[0] > 0) || (f[1] > 0 && c[1] < 0) {
			t.Errorf("%s: range %v with keep 0.999 is not within %v", name, c, f)
		}
		if c[0] > f[0] || c[1] < f[1] {
			narrower++
		}
	}
	if narrower == 0 {
		t.Errorf("no range of %v narrower with keep 0.999: %v against %v", outs, cut, full)
	}
	for _, k := range []float64{0, -1, 1.5} {
		if _, err := nn.Ranges(b, lib, outs, pics, k); err == nil {
			t.Errorf("keep %g accepted", k)
		}
	}
}
