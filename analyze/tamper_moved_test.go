package analyze

import (
	"image"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

// TestMedian7 checks the moved check's median network against the
// insertion sort on every order of seven distinct values and on random
// samples with ties and extremes.
func TestMedian7(t *testing.T) {
	var ring [bgSamples][]byte
	const n = 5040 + 20000
	for k := range ring {
		ring[k] = make([]byte, n)
	}
	// Every permutation of 10, 20, ..., 70 (7! = 5040), Heap's algorithm.
	p := []byte{10, 20, 30, 40, 50, 60, 70}
	c := make([]int, len(p))
	i := 0
	put := func() {
		for k := range p {
			ring[k][i] = p[k]
		}
		i++
	}
	put()
	for j := 0; j < len(p); {
		if c[j] < j {
			if j%2 == 0 {
				p[0], p[j] = p[j], p[0]
			} else {
				p[c[j]], p[j] = p[j], p[c[j]]
			}
			put()
			c[j]++
			j = 0
		} else {
			c[j] = 0
			j++
		}
	}
	if i != 5040 {
		t.Fatalf("%d permutations", i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for ; i < n; i++ {
		for k := range ring {
			switch rng.IntN(4) {
			case 0:
				ring[k][i] = 0
			case 1:
				ring[k][i] = 255
			default:
				ring[k][i] = byte(rng.IntN(4) * 60)
			}
		}
	}
	got, want := make([]byte, n), make([]byte, n)
	var col [bgSamples]byte
	median7(got, &ring)
	medianFew(want, &ring, bgSamples, &col)
	for i := range got {
		if got[i] != want[i] {
			var s []byte
			for k := range ring {
				s = append(s, ring[k][i])
			}
			t.Fatalf("median of %v: %d, want %d", s, got[i], want[i])
		}
	}
	if want[0] != 40 {
		t.Fatalf("median of the first permutation %d, want 40", want[0])
	}
}

// TestCompareForgetsShift: a comparison that judges the picture as one
// cell (a reference with edges in too few cells) does not register, and
// must not keep the shift an earlier comparison found, nor must an
// accepted view.
func TestCompareForgetsShift(t *testing.T) {
	f, err := NewFrame(320, 180)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range f.Pix {
		f.Pix[i] = 90 // no edges anywhere
	}
	tm := newTamper(config.DefaultAnalysis().Tamper)
	defer tm.bg.close()
	w := getWork()
	defer putWork(w)
	now := t0
	for range bgSamples {
		tm.bg.sample(w, f.mat, now, true)
		now = now.Add(bgEvery)
	}
	tm.bg.learn(w, 1, false)
	tm.bg.shift = image.Pt(6, 0)
	if !tm.bg.sample(w, f.mat, now, true) {
		t.Fatal("no sample")
	}
	tm.bg.compare(w)
	if tm.bg.shift != (image.Point{}) {
		t.Errorf("shift %v kept by a comparison that did not register", tm.bg.shift)
	}
	tm.bg.shift = image.Pt(6, 0)
	tm.acceptView(w)
	if tm.bg.shift != (image.Point{}) {
		t.Errorf("shift %v kept by an accepted view", tm.bg.shift)
	}
}

// TestMovedComparesOnChange: on a still view the background is compared
// with the reference at every third sample only, and at once when it
// changes: a view shifted by 10% is compared at the sample where the
// median takes it, though the periodic comparison is not due then.
func TestMovedComparesOnChange(t *testing.T) {
	c, f := newCameraT(t, config.DefaultAnalysis())
	tx := newTexture(t, 1)
	const step = 200 * time.Millisecond // 5 analyzed frames a second
	at := time.Duration(0)
	// play runs frames of v until until(); it returns the frame times of
	// the comparisons.
	play := func(v view, until func(n int, compared []time.Duration) bool) []time.Duration {
		var compared []time.Duration
		for n := 0; !until(n, compared); n++ {
			last := c.tam.bg.lastAt
			tx.draw(f, v)
			c.Analyze(f, t0.Add(at))
			if c.tam.bg.lastAt != last {
				compared = append(compared, at)
			}
			at += step
		}
		return compared
	}
	still := view{noise: 2}
	play(still, func(n int, _ []time.Duration) bool { return at >= 10*time.Second }) // learning
	if !c.tam.learned {
		t.Fatal("not learned in 10 s")
	}
	compared := play(still, func(int, []time.Duration) bool { return at >= 22*time.Second })
	// 12 s of samples every 400 ms: 30, of which every third is compared.
	if n := len(compared); n < 8 || n > 12 {
		t.Errorf("%d comparisons in 12 s of a still view, want 10 (every third sample): %v", n, compared)
	}
	// Up to a comparison, then the view shifts by 32 pixels (10%).
	last := play(still, func(_ int, cmp []time.Duration) bool { return len(cmp) > 0 })[0]
	compared = play(view{x: 32, noise: 2}, func(int, []time.Duration) bool { return at >= last+3*time.Second })
	// Samples of the new view at last+0.4, +0.8, +1.2 (the periodic
	// comparison), +1.6: the median takes the new view at the fourth.
	flip := last + bgDelay
	if !slices.Contains(compared, flip) {
		t.Errorf("the view shifted after %v: comparisons at %v, want one at %v (the median takes the new view)", last, compared, flip)
	}
}

// BenchmarkMedian is the background's median over a full ring of noise
// (median7, in C) beside the insertion sort used while the ring fills
// (medianFew, in Go), at the background's size.
func BenchmarkMedian(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 9))
	var ring [bgSamples][]byte
	for k := range ring {
		ring[k] = make([]byte, bgW*bgH)
		for i := range ring[k] {
			ring[k][i] = byte(rng.IntN(256))
		}
	}
	out := make([]byte, bgW*bgH)
	var col [bgSamples]byte
	b.Run("median7", func(b *testing.B) {
		for b.Loop() {
			median7(out, &ring)
		}
	})
	b.Run("insertion", func(b *testing.B) {
		for b.Loop() {
			medianFew(out, &ring, bgSamples, &col)
		}
	})
}
