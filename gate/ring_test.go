package gate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRingOrderStatistics: the ring's median and deviation, read from its
// sorted copy, are those of sorting its values each time, for rings filling
// and sliding, with ties (QPs, counts) and without.
func TestRingOrderStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 1))
	for _, kind := range []string{"continuous", "ties"} {
		var r ring
		for i := range 2000 {
			x := rng.NormFloat64()*0.3 + 10
			if kind == "ties" {
				x = float64(20 + rng.IntN(5))
			}
			r.add(x)
			want := slices.Clone(r.v[:r.n])
			slices.Sort(want)
			if !slices.Equal(r.s[:r.n], want) {
				t.Fatalf("%s, value %d: sorted copy %v, want %v", kind, i, r.s[:r.n], want)
			}
			if got, w := r.median(), want[len(want)/2]; got != w {
				t.Fatalf("%s, value %d: median %g, want %g", kind, i, got, w)
			}
			for _, m := range []float64{0, r.median(), x, want[0] - 1, want[len(want)-1] + 1} {
				d := make([]float64, r.n)
				for j, v := range r.v[:r.n] {
					d[j] = math.Abs(v - m)
				}
				slices.Sort(d)
				if got, w := r.mad(m), 1.4826*d[len(d)/2]; got != w {
					t.Fatalf("%s, value %d: mad around %g is %g, want %g", kind, i, m, got, w)
				}
			}
		}
	}
}
