package analyze

import (
	"image"
	"math"
	"time"

	"gocv.io/x/gocv"
)

// Tamper causes (Transition.Cause of KindTamper).
const (
	CauseCovered = "covered" // lens covered or picture blacked out
	CauseDefocus = "defocus" // sharpness far below the learned baseline
	CauseMoved   = "moved"   // the view no longer matches the learned reference
	CauseFrozen  = "frozen"  // the picture does not change while the stream flows
)

// tamperCauses is the order in which causes are checked and reported.
var tamperCauses = [...]string{CauseCovered, CauseMoved, CauseDefocus, CauseFrozen}

const (
	thumbW, thumbH = 64, 36  // contrast and reference thumbnail
	sharpW, sharpH = 160, 90 // sharpness picture: area downscaling halves sensor noise
	// baselineTimeConstant is how slowly the baseline follows the scene
	// once learned (dusk, seasons), while no tamper is suspected.
	baselineTimeConstant = 5 * time.Minute
	// hysteresis widens each threshold for an incident to continue.
	coveredKeep = 1.5  // contrast under 1.5x the start threshold
	ratioKeep   = 0.15 // correlation and sharpness ratio 0.15 above
	// minTexture is the learned contrast (gray levels) below which a view
	// has too little structure to judge covered, moved or defocus.
	// Sensor noise of sigma 30 leaves about 6 on the thumbnail; real
	// scenes have 20 to 60.
	minTexture = 12
	// tamperEvery: the picture is measured when this much frame time has
	// passed since the last measure (every other frame at 5 frames a
	// second, every ninth at 25), and at every keyframe (the frozen
	// check's keyframe pictures); the moved check samples at the same
	// cadence. A frame between keeps the previous reading. Every cause
	// lasts seconds (min_duration, frozen_time): measuring every frame
	// was a third of the analysis' cost for nothing a camera could show.
	// An eighth under bgEvery, so that frames 400 ms apart with jitter
	// are each measured.
	tamperEvery = bgEvery * 7 / 8
)

// tamperReading is one frame's tamper measures and the causes they show,
// over the start threshold (enter) and over the keep threshold (stay).
type tamperReading struct {
	contrast    float64     // thumbnail standard deviation, gray levels
	sharpness   float64     // Laplacian deviation over picture deviation
	correlation float64     // the background's edges against the reference's (tamper_moved.go)
	shift       image.Point // the background's offset from the reference, when registered
	identical   bool        // the frame equals the previous one

	enter, stay [len(tamperCauses)]bool
	since       time.Time // frozen: the first of the identical frames
}

// tamper holds one camera's tamper baseline. It is kept across Reset (a
// camera knocked while offline is still moved when it comes back); only
// the frozen check starts over with a new stream.
type tamper struct {
	cfg TamperConfig

	learnFrom time.Time // first frame
	learned   bool
	n         int // frames in the learned average

	baseContrast float64
	baseSharp    float64

	bg background // moved: the learned background and the reference
	// prevHash is a hash of the previous analyzed frame's pixels (frozen:
	// bit-identical), prevW x prevH its size; hasPrev whether there is one.
	prevHash       uint64
	prevW, prevH   int
	hasPrev        bool
	prevTime       time.Time
	identicalSince time.Time

	// Keyframes (frozen). A still view that its encoder codes at a high
	// quantizer (the sensor noise quantized away, a long GOP) repeats
	// bit-identical pictures until the next keyframe, which codes the
	// noise afresh: identical runs as long as the GOP, in a live view. A
	// frozen source (a sensor or encoder stuck on one picture) shows the
	// same picture at every keyframe (the encoder codes the same source
	// the same way), or stops sending keyframes. So once the stream's
	// keyframes are known (keys of them seen, at most 3), a picture is
	// frozen when:
	//   - the pictures at the last two keyframes are identical, the pictures
	//     between them did not change (keySame, since keySince, the first
	//     of them) and none has since (keyDiff). The first picture after a
	//     keyframe may differ from it (a keyframe decoded alone skips the
	//     in-loop filters that the chain's pictures have), and so may the
	//     last before the next (x264 codes the picture before an IDR of a
	//     frozen source a little differently: prevChanged).
	//   - its identical run spans a keyframe (crossed), or lasts twice the
	//     longest keyframe interval (keyEvery) with no keyframe; before two
	//     intervals are known (a first interval may be an IDR forced at
	//     connect), keyUnknownAfter with no keyframe.
	// keyHash is the hash of the first picture analyzed at or after the
	// last keyframe; afterKey counts the pictures analyzed since, keyDiff
	// those from the second on that differ from the one before.
	keyNext     bool // Camera.SetKeyframe: a keyframe before this frame
	keys        int
	crossed     bool
	keyAt       time.Time
	keyEvery    time.Duration
	keyHash     uint64
	afterKey    int
	keyDiff     int
	prevChanged bool
	keySame     bool
	keySince    time.Time
}

func newTamper(cfg TamperConfig) tamper {
	return tamper{cfg: cfg, bg: background{corr: 1, ref: gocv.NewMat()}}
}

// restart forgets the previous frame (a new stream) but keeps the
// baseline.
func (t *tamper) restart() {
	t.hasPrev = false
	t.identicalSince = time.Time{}
	t.keys, t.crossed, t.keyAt, t.keyEvery = 0, false, time.Time{}, 0
	t.keySame, t.keyDiff, t.afterKey, t.prevChanged = false, 0, 0, false
	// The outage is not frame time the reference follows the background
	// by (background.elapsed).
	t.bg.lastAt = time.Time{}
}

// keyUnknownAfter is how long a stream that has shown fewer than three
// keyframes may go without one before an identical run is frozen without
// spanning one (a stream with one IDR at its start, or whose decoder flags
// no recovery point): GOPs of up to 20 s are taken as live.
const keyUnknownAfter = 20 * time.Second

// frozen reports whether the picture at now is frozen, and
// since when (frozen_time is the lifecycle's).
func (t *tamper) frozen(now time.Time) (bool, time.Time) {
	if t.keySame && t.keyDiff == 0 {
		since := t.keySince
		if !t.identicalSince.IsZero() && t.identicalSince.Before(since) {
			since = t.identicalSince
		}
		return true, since
	}
	switch {
	case t.identicalSince.IsZero():
		return false, time.Time{}
	case t.keys == 0 || t.crossed:
		return true, t.identicalSince
	case t.keys < 3:
		return now.Sub(t.keyAt) > keyUnknownAfter, t.identicalSince
	}
	return now.Sub(t.keyAt) > 2*t.keyEvery, t.identicalSince
}

// process measures f at frame time now and fills r, and reports whether
// it did: a frame less than tamperEvery after the last measured one is
// not measured (r, the last reading, stands), unless it is a keyframe.
// During the learning window it learns and reports nothing. quiet
// reports that no tamper incident is open or pending, so the baseline
// may follow the scene.
func (t *tamper) process(f *Frame, w *work, now time.Time, dt time.Duration, quiet bool, r *tamperReading) bool {
	if t.hasPrev && now.After(t.prevTime) {
		if now.Sub(t.prevTime) < tamperEvery && !t.keyNext {
			return false
		}
		dt = now.Sub(t.prevTime)
	}
	*r = tamperReading{correlation: 1}
	area(f.mat, &w.thumb, image.Pt(thumbW, thumbH), &w.areaRows)
	area(f.mat, &w.small, image.Pt(sharpW, sharpH), &w.areaRows)
	r.contrast = stdDev(w, w.thumb)
	smallStd := stdDev(w, w.small)
	gocv.Laplacian(w.small, &w.lap, gocv.MatTypeCV16S, 3, 1, 0, gocv.BorderDefault)
	r.sharpness = stdDev(w, w.lap) / (smallStd + 1)

	// Frozen: bit-identical to the previous analyzed frame (a 64-bit hash
	// of the pixels stands for the frame: no copy of it is kept).
	h := f.hash()
	r.identical = t.hasPrev && t.prevW == f.Width && t.prevH == f.Height && t.prevHash == h
	key := t.keyNext
	t.keyNext = false
	switch {
	case key:
		if t.keys > 0 {
			// The longest interval: an IDR at a scene cut must not make
			// the next GOP's quiet run look keyframe-less.
			t.keyEvery = max(t.keyEvery, now.Sub(t.keyAt))
			steady := t.keyDiff == 0 || t.keyDiff == 1 && t.prevChanged
			switch same := h == t.keyHash && steady; {
			case same && !t.keySame:
				t.keySame, t.keySince = true, t.keyAt
			case !same:
				t.keySame = false
			}
		}
		t.keys = min(t.keys+1, 3)
		t.keyAt, t.keyHash, t.keyDiff, t.afterKey = now, h, 0, 0
	case t.keys > 0:
		t.afterKey++
		if t.afterKey > 1 && !r.identical {
			t.keyDiff++
		}
	}
	t.prevChanged = !r.identical
	if r.identical {
		if t.identicalSince.IsZero() {
			t.identicalSince = t.prevTime
		}
		t.crossed = t.crossed || key
	} else {
		t.identicalSince, t.crossed = time.Time{}, false
	}
	t.prevHash, t.prevW, t.prevH = h, f.Width, f.Height
	t.hasPrev, t.prevTime = true, now

	if t.learnFrom.IsZero() {
		t.learnFrom = now
	}
	// A comparison at every sample while the view may have moved (a
	// featureless view is not judged moved: its correlation means
	// nothing).
	suspect := !quiet || t.baseContrast >= minTexture &&
		(t.bg.corr < min(t.cfg.MovedCorrelation+ratioKeep, 0.99) || t.bg.shift != image.Point{})
	sampled := t.bg.sample(w, f.mat, now, suspect)
	if !t.learned {
		t.learn(r, 1/float64(t.n+1))
		t.n++
		if now.Sub(t.learnFrom) >= t.cfg.LearnTime && t.n >= 3 {
			t.learned = true
			t.bg.learn(w, 1, sampled)
		}
		return true
	}
	if sampled {
		t.bg.compare(w)
	}
	r.correlation, r.shift = t.bg.corr, t.bg.shift

	c := &t.cfg
	if t.baseContrast < minTexture {
		// A featureless view (a blank wall, fog): only frozen is judged.
		if frozen, since := t.frozen(now); frozen {
			r.enter[3], r.stay[3], r.since = true, true, since
		}
		if quiet && !r.identical {
			t.learn(r, runningWeight(dt, baselineTimeConstant))
			if sampled {
				t.bg.learn(w, runningWeight(t.bg.elapsed, baselineTimeConstant), true)
			}
		}
		return true
	}
	covered := min(c.CoveredContrast, t.baseContrast/3)
	r.enter[0] = r.contrast < covered
	r.stay[0] = r.contrast < covered*coveredKeep
	if !r.stay[0] {
		shifted := r.shift != image.Point{}
		r.enter[1] = r.correlation < c.MovedCorrelation || shifted
		r.stay[1] = r.correlation < min(c.MovedCorrelation+ratioKeep, 0.99) || shifted
		if !r.stay[1] {
			ratio := r.sharpness / math.Max(t.baseSharp, 1e-6)
			r.enter[2] = ratio < c.DefocusRatio
			r.stay[2] = ratio < c.DefocusRatio+ratioKeep
		}
	}
	// A covered lens shows a dark, still picture, which an encoder may
	// code as bit-identical pictures: covered says it all, and frozen is
	// not raised beside it.
	if frozen, since := t.frozen(now); frozen && !r.stay[0] {
		r.enter[3], r.stay[3], r.since = true, true, since
	}
	if quiet && !r.stay[0] && !r.stay[1] && !r.stay[2] && !r.identical {
		t.learn(r, runningWeight(dt, baselineTimeConstant))
		if sampled {
			t.bg.learn(w, runningWeight(t.bg.elapsed, baselineTimeConstant), true)
		}
	}
	return true
}

// learn moves the baseline towards the frame's measures by weight w.
func (t *tamper) learn(r *tamperReading, w float64) {
	if t.n == 0 {
		t.baseContrast, t.baseSharp = r.contrast, r.sharpness
		return
	}
	if w <= 0 {
		return
	}
	t.baseContrast += (r.contrast - t.baseContrast) * w
	t.baseSharp += (r.sharpness - t.baseSharp) * w
}

// acceptView makes the current background the reference (a moved camera
// whose new view has been accepted).
func (t *tamper) acceptView(w *work) {
	t.bg.learn(w, 1, false)
	t.bg.corr, t.bg.shift = 1, image.Point{}
}

// stdDev is the standard deviation of m's single channel.
func stdDev(w *work, m gocv.Mat) float64 {
	gocv.MeanStdDev(m, &w.mean, &w.std)
	return w.std.GetDoubleAt(0, 0)
}

func (t *tamper) close() { t.bg.close() }
