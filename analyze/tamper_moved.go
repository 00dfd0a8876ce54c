package analyze

/*
#include "motion.h"
*/
import "C"

import (
	"image"
	"math"
	"slices"
	"time"

	"gocv.io/x/gocv"
)

// Moved compares the learned background, not the picture: every
// bgEvery of frame time the camera's picture, as a bgW x bgH thumbnail,
// joins a ring of the last bgSamples, whose per-pixel median is the
// background (what stays in place more than half of the last 2.8 s: a
// car or a person passing is not in it). Its edges (gradient magnitude,
// smoothed) are compared with the reference's edges by normalized
// correlation, at the best of the shifts up to bgSlack pixels (a camera
// that sways a little has not moved). A shift of 10% of the view, or a
// zoom, moves every edge and leaves a correlation near 0; a lighting
// change keeps the edges where they are; a parked car changes some of
// them only. Edges that run along the shift (a road's lines, a door's
// frame) match at any offset along them, so the background is also
// registered against the reference: when it matches clearly better at
// an offset of more than bgSlack pixels than at none, the view has
// moved whatever the cells say. The reference is the background when
// learning ends, then follows it slowly while no tamper is suspected.
const (
	bgW, bgH  = 128, 72
	bgSamples = 7
	bgEvery   = 400 * time.Millisecond
	bgSlack   = 3 // pixels of the thumbnail, about 2% of its width
	// cellsX x cellsY cells are compared apart; cellsMin of them must
	// have edges (a mean gradient of cellEdgesMin gray levels a pixel)
	// to be judged alone.
	cellsX, cellsY = 4, 3
	cellsMin       = 4
	cellEdgesMin   = 4
	// regX, regY: the largest shift registration looks for, about 12%
	// of the width and 14% of the height; regGain: how much better the
	// best shift must match than none.
	regX, regY = 8, 5 // at half the thumbnail's size
	regGain    = 0.1
	// bgDelay is how long after a change of view the background shows
	// it: the median takes it once more than half the ring holds it.
	bgDelay = (bgSamples/2 + 1) * bgEvery
	// bgCompareEvery: while nothing is suspected, the background's edges
	// are compared with the reference's once bgCompareEvery samples'
	// frame time (1.2 s; half a sample's less, for jitter) has passed
	// since the last comparison: every third sample at full rate, every
	// sample of keyframes alone; or at once when the background has
	// changed by bgChange gray levels a pixel on average since the last
	// comparison. On real footage (TestTamperMovedOnFootage) a view that
	// moved changed its background by 7 to 35 gray levels at the sample
	// where the median took it; still and busy views by 0.1 to 3 (median
	// 0.3 on the highway, 1.0 on vtest.avi's passers-by), which the
	// periodic comparison covers anyway. The comparison is two thirds of
	// the check's cost (BenchmarkMovedBackground).
	bgCompareEvery = 3
	bgChange       = 2.0
	// maxElapsed bounds background.elapsed: keyframes alone come up to
	// 10 s apart.
	maxElapsed = 30 * time.Second
)

// background is the moved check's state, inside tamper.
type background struct {
	ring     [bgSamples][]byte
	n, next  int       // samples in the ring, where the next goes
	sampleAt time.Time // frame time of the last sample
	// ref is the reference's edges (32F; empty: none yet). The
	// background's edges are not kept: they are computed from the ring
	// into the frame's work set (work.edges) when it changes, and again
	// from the unchanged ring when the reference is set at another time.
	ref  gocv.Mat
	col  [bgSamples]byte
	corr float64 // the latest comparison
	// last is the background at the latest comparison, lastAt its frame
	// time (zero after a new stream: tamper.restart).
	last   []byte
	lastAt time.Time
	// elapsed is the frame time between the latest two comparisons (at
	// most maxElapsed): how far the reference follows the background at
	// the latter.
	elapsed time.Duration
	// shift is the background's offset from the reference (thumbnail
	// pixels) where their edges match best, within regX x regY, when
	// that match is clearly better than without a shift; else zero.
	shift image.Point
}

// close frees the edges; it is idempotent.
func (b *background) close() {
	if b.ref.Ptr() != nil {
		b.ref.Close()
		b.ref = gocv.Mat{}
	}
}

// sample adds the frame gray (8U) to the ring when it is due (tamperEvery
// after the last sample) and computes the background; when a comparison
// is due (force: something is suspected; see bgCompareEvery) it also
// computes its edges into w.edges, and reports whether it did.
func (b *background) sample(w *work, gray gocv.Mat, now time.Time, force bool) bool {
	if !b.due(now) {
		return false
	}
	prev := b.sampleAt
	b.sampleAt = now
	area(gray, &w.bgSmall, image.Pt(bgW, bgH), &w.areaRows)
	px, err := w.bgSmall.DataPtrUint8()
	if err != nil || len(px) != bgW*bgH {
		return false
	}
	// A picture stands for the frame time since the previous sample: one
	// slot per bgEvery of it (frames analyzed sparsely, keyframes alone,
	// fill the ring as fast in frame time as a full rate does).
	slots := 1
	if b.n > 0 && now.After(prev) {
		slots = int(min(now.Sub(prev)+bgEvery/2, bgSamples*bgEvery) / bgEvery)
	}
	for range max(slots, 1) {
		if b.ring[b.next] == nil {
			b.ring[b.next] = make([]byte, bgW*bgH)
		}
		copy(b.ring[b.next], px)
		b.next = (b.next + 1) % bgSamples
		b.n = min(b.n+1, bgSamples)
	}
	out, ok := b.median(w)
	if !ok {
		return false
	}
	since := now.Sub(b.lastAt)
	if b.last == nil {
		b.last = make([]byte, len(out))
	} else if !force && !b.lastAt.IsZero() && since >= 0 && since < bgCompareEvery*bgEvery-bgEvery/2 && meanAbsDiff(out, b.last) < bgChange {
		return false
	}
	copy(b.last, out)
	b.elapsed = bgEvery
	if !b.lastAt.IsZero() && since > 0 {
		b.elapsed = min(since, maxElapsed)
	}
	b.lastAt = now
	b.edgesOf(w)
	return true
}

// due reports whether a frame at now is sampled: tamperEvery after the
// last sample, a tolerance under bgEvery for frames 400 ms apart with
// jitter.
func (b *background) due(now time.Time) bool {
	return b.n == 0 || now.Sub(b.sampleAt) >= tamperEvery || !now.After(b.sampleAt)
}

// meanAbsDiff is the mean absolute difference of a and b (same length).
func meanAbsDiff(a, b []byte) float64 {
	b = b[:len(a)]
	var sum int
	for i, x := range a {
		d := int(x) - int(b[i])
		sum += max(d, -d)
	}
	return float64(sum) / float64(max(len(a), 1))
}

// median computes the background (the median of the ring) into w.median
// and returns its pixels; false when the ring is empty.
func (b *background) median(w *work) ([]byte, bool) {
	if b.n == 0 {
		return nil, false
	}
	out, err := w.median.DataPtrUint8()
	if err != nil || len(out) != bgW*bgH {
		return nil, false
	}
	if b.n == bgSamples {
		median7(out, &b.ring)
	} else {
		medianFew(out, &b.ring, b.n, &b.col)
	}
	return out, true
}

// edges computes the background into w.median and its edges into
// w.edges; false when the ring is empty.
func (b *background) edges(w *work) bool {
	if _, ok := b.median(w); !ok {
		return false
	}
	b.edgesOf(w)
	return true
}

// edgesOf computes the edges of the background in w.median into w.edges.
func (b *background) edgesOf(w *work) {
	gocv.Sobel(w.median, &w.gx, gocv.MatTypeCV32F, 1, 0, 3, 1, 0, gocv.BorderReplicate)
	gocv.Sobel(w.median, &w.gy, gocv.MatTypeCV32F, 0, 1, 3, 1, 0, gocv.BorderReplicate)
	gocv.Magnitude(w.gx, w.gy, &w.mag)
	gocv.GaussianBlur(w.mag, &w.edges, image.Pt(5, 5), 1.2, 1.2, gocv.BorderReplicate)
}

// medianFew sets out[i] to the median of the first n (< bgSamples) ring
// samples at i: the ring's first seconds.
func medianFew(out []byte, ring *[bgSamples][]byte, n int, col *[bgSamples]byte) {
	for i := range out {
		// Insertion sort of at most bgSamples bytes: cheaper than a
		// generic sort by far at this size.
		for k := range n {
			v := ring[k][i]
			j := k
			for ; j > 0 && col[j-1] > v; j-- {
				col[j] = col[j-1]
			}
			col[j] = v
		}
		out[i] = col[n/2]
	}
}

// median7 sets out[i] to the median of the ring's seven samples at i,
// with a compare-exchange network (13 exchanges, after N. Devillard's
// opt_med7), branch-free, in C (vg_median7, vectorized): 0.8 µs for
// the 128x72 background where the same network in Go took 29
// (BenchmarkMedian; BENCHMARKS.md).
func median7(out []byte, ring *[bgSamples][]byte) {
	n := len(out)
	for _, r := range ring {
		n = min(n, len(r)) // all bgW x bgH: sample makes them
	}
	if n == 0 {
		return
	}
	C.vg_median7((*C.uint8_t)(&ring[0][0]), (*C.uint8_t)(&ring[1][0]), (*C.uint8_t)(&ring[2][0]),
		(*C.uint8_t)(&ring[3][0]), (*C.uint8_t)(&ring[4][0]), (*C.uint8_t)(&ring[5][0]), (*C.uint8_t)(&ring[6][0]),
		(*C.uint8_t)(&out[0]), C.int(n))
}

// compare sets corr and shift (register): over a grid of cells, the upper quartile of each
// cell's best correlation of the reference's edges (its inner part) with
// the background's at shifts up to bgSlack. A camera that moved changes
// every cell; people or vehicles that stop in view change the cells they
// cover, and the view has not moved while a quarter of the cells still
// match. Cells whose reference has almost no edges (a blank wall) are
// not judged; with fewer than cellsMin judged cells the whole picture is
// one cell. w.edges must hold the background's edges (sample, this
// frame).
func (b *background) compare(w *work) {
	b.shift = image.Point{} // register sets it again when it runs
	if b.ref.Empty() || b.n == 0 {
		b.corr = 1
		return
	}
	cw, ch := bgW/cellsX, bgH/cellsY
	var corrs [cellsX * cellsY]float64
	n := 0
	for cy := range cellsY {
		for cx := range cellsX {
			cell := image.Rect(cx*cw, cy*ch, (cx+1)*cw, (cy+1)*ch)
			if c, ok := b.match(w, cell); ok {
				corrs[n] = c
				n++
			}
		}
	}
	if n < cellsMin {
		c, _ := b.match(w, image.Rect(0, 0, bgW, bgH))
		b.corr = c
		return
	}
	judged := corrs[:n]
	slices.Sort(judged)
	b.corr = judged[min(n-1, n*3/4)]
	b.register(w)
}

// register sets shift: the offset at which the reference's edges, less
// regX and regY on each side, match the background's best, when that
// match beats the one without a shift by regGain.
func (b *background) register(w *work) {
	b.shift = image.Point{}
	// At half the size: a sixteenth of the work, and a shift of 10% of
	// the view is still 6 pixels.
	gocv.Resize(w.edges, &w.halfEdges, image.Pt(bgW/2, bgH/2), 0, 0, gocv.InterpolationArea)
	gocv.Resize(b.ref, &w.halfRef, image.Pt(bgW/2, bgH/2), 0, 0, gocv.InterpolationArea)
	inner := w.halfRef.Region(image.Rect(regX, regY, bgW/2-regX, bgH/2-regY))
	defer inner.Close()
	gocv.MatchTemplate(w.halfEdges, inner, &w.reg, gocv.TmCcoeffNormed, w.noMask)
	best, at := maxLoc(w.reg)
	still := w.reg.GetFloatAt(regY, regX)
	d := at.Sub(image.Pt(regX, regY))
	if float64(best-still) >= regGain && 4*(d.X*d.X+d.Y*d.Y) > bgSlack*bgSlack {
		b.shift = d.Mul(2)
		// Reported: the match without the shift.
		b.corr = min(b.corr, float64(still))
	}
}

// match is the best correlation of the reference's edges in cell, less
// bgSlack on each side, with the background's edges in cell, and whether
// the reference has edges enough there to judge.
func (b *background) match(w *work, cell image.Rectangle) (float64, bool) {
	inner := b.ref.Region(cell.Inset(bgSlack))
	defer inner.Close()
	gocv.MeanStdDev(inner, &w.mean, &w.std)
	if m := w.mean.GetDoubleAt(0, 0); m < cellEdgesMin {
		return 0, false
	}
	area := w.edges.Region(cell)
	defer area.Close()
	gocv.MatchTemplate(area, inner, &w.ncc, gocv.TmCcoeffNormed, w.noMask)
	best, _ := maxLoc(w.ncc)
	c := float64(best)
	if math.IsNaN(c) || math.IsInf(c, 0) {
		c = 0 // flat edges match nothing
	}
	return c, true
}

// learn makes the background the reference (weight >= 1 or no
// reference yet) or moves the reference towards it by weight. sampled
// tells that w.edges holds the background's edges (sample returned true
// on this frame); otherwise they are computed again from the ring.
func (b *background) learn(w *work, weight float64, sampled bool) {
	if !sampled && !b.edges(w) {
		return
	}
	if b.ref.Empty() || weight >= 1 {
		w.edges.CopyTo(&b.ref)
		return
	}
	if weight > 0 {
		gocv.AccumulatedWeighted(w.edges, &b.ref, weight)
	}
}

// maxLoc returns the largest value of a continuous 32F matrix and where
// it is (gocv.MinMaxLoc allocates on every call); NaN values are skipped.
func maxLoc(m gocv.Mat) (float32, image.Point) {
	v, err := m.DataPtrFloat32()
	best, at := float32(math.Inf(-1)), -1
	cols := m.Cols() // a cgo call: not in the loop
	if err != nil || cols == 0 {
		return best, image.Point{}
	}
	for i, x := range v {
		if x > best {
			best, at = x, i
		}
	}
	if at < 0 {
		return best, image.Point{}
	}
	return best, image.Pt(at%cols, at/cols)
}
