package backoff

import (
	"math"
	"testing"
	"time"
)

// lowest and highest pin the draw to either end of [d/2, d].
func lowest(int64) int64    { return 0 }
func highest(n int64) int64 { return n - 1 }

// ceiling is the k-th wait's ceiling (from 0), computed without Backoff's
// doubling: min(Min·2^k, max(Min, Max)).
func ceiling(lo, hi time.Duration, k int) time.Duration {
	hi = max(lo, hi)
	if c := float64(lo) * math.Pow(2, float64(k)); c < float64(hi) {
		return time.Duration(c)
	}
	return hi
}

func TestSequence(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min, max time.Duration
		rand     func(int64) int64
		want     []time.Duration
	}{
		{"camera defaults, lowest draw", time.Second, 30 * time.Second, lowest,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second}},
		{"camera defaults, highest draw", time.Second, 30 * time.Second, highest,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"sink defaults, highest draw", 500 * time.Millisecond, 30 * time.Second, highest,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second}},
		{"odd ceilings, lowest draw", 3, 7, lowest, []time.Duration{1, 3, 3, 3}},
		{"odd ceilings, highest draw", 3, 7, highest, []time.Duration{3, 6, 7, 7}},
		{"max equals min", time.Millisecond, time.Millisecond, highest, []time.Duration{time.Millisecond, time.Millisecond}},
		{"max below min is min", time.Second, 0, highest, []time.Duration{time.Second, time.Second}},
		{"zero value", 0, 0, nil, []time.Duration{0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Backoff{Min: tc.min, Max: tc.max, rand: tc.rand}
			for round := range 2 { // the second round after Reset
				for i, want := range tc.want {
					if got := b.Next(); got != want {
						t.Fatalf("round %d: wait %d = %s, want %s", round, i, got, want)
					}
				}
				b.Reset()
			}
		})
	}
}

// TestBoundsHold draws many real waits and checks each lies in [d/2, d] for
// its ceiling d, that the ceiling reaches Max, and that Reset restarts it.
func TestBoundsHold(t *testing.T) {
	for _, tc := range []struct{ min, max time.Duration }{
		{time.Second, 30 * time.Second},
		{500 * time.Millisecond, 30 * time.Second},
		{time.Millisecond, time.Hour},
		{3, 1000},
		{1, 1},
		{time.Nanosecond, math.MaxInt64}, // doubling must not overflow
	} {
		b := Backoff{Min: tc.min, Max: tc.max}
		for round := range 100 {
			steps := 1 + round%90 // up to 90: past 2^63 ns
			for k := range steps {
				d := ceiling(tc.min, tc.max, k)
				if got := b.Next(); got < d/2 || got > d {
					t.Fatalf("min %s max %s: wait %d = %s, want in [%s, %s]", tc.min, tc.max, k, got, d/2, d)
				}
			}
			b.Reset()
		}
	}
}

// TestUniform checks the draw covers [d/2, d] evenly: both ends are reached
// and the mean is 3d/4.
func TestUniform(t *testing.T) {
	const d, n = 1000, 20000
	b := Backoff{Min: d, Max: d}
	lo, hi, sum := time.Duration(d), time.Duration(0), 0.0
	for range n {
		w := b.Next()
		lo, hi, sum = min(lo, w), max(hi, w), sum+float64(w)
	}
	if lo != d/2 || hi != d {
		t.Errorf("waits ranged over [%d, %d], want [%d, %d]", lo, hi, d/2, d)
	}
	// The standard deviation of the mean is about 144/sqrt(n) ≈ 1.
	if mean := sum / n; math.Abs(mean-750) > 10 {
		t.Errorf("mean wait %.1f, want about 750", mean)
	}
}
