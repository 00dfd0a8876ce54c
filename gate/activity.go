package gate

import (
	"math"
	"slices"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/unit"
)

// Activity says, from the bitstream alone and without decoding, whether a
// camera's scene is active.
//
// Each predicted picture is reduced to its complexity, log(size) +
// QP·ln2/6 (the first slice's QP, H.264 or H.265; sizes alone when it is
// unknown, -1): the bits a picture
// costs halve when the encoder raises its QP by 6, so the complexity moves
// little when a constant-bitrate encoder trades QP for size, and moves
// when the scene costs more. It is compared with the idle level of its
// kind of picture (reference pictures, and non-reference ones: B-frames
// are a fraction of a P-frame) at its position after the keyframe (the
// median of the last 8 GOPs there, once 3 were seen: rate control makes
// the same ramp of sizes and QPs every GOP, a VBV encoder on a clean view
// 50 times larger at the GOP's end than at its start, a CBR one tiny
// pictures at the end), or, before that and beyond 256 pictures, with the
// median of the last 64 calm pictures. The deviation is the median absolute
// deviation of the last 64 calm pictures from their level: robust
// statistics, which a few large pictures (a single noisy one) do not move.
//
// The evidence adds up over pictures (a CUSUM): each picture adds its
// deviations above the level, counted up to 3, less an allowance of 1
// (people moving in front of a noisy view make a run of pictures 1-2
// deviations up, rarely 3: a drift of 1.5 forgot them), or of half a
// deviation more than the still view's pictures add on average where that
// is more, up to 2 (heavy grain: level.free). A picture below its level
// takes back at most 1.5, as constant-bitrate encoders follow each large
// picture with a small one. WakeFrames pictures 3 deviations up (or more,
// smaller ones: 8 at 2 deviations; with a larger allowance a,
// 2·WakeFrames/(3-a) at 3) wake the camera, and so does one picture
// SizeFactor deviations up, times the allowance (and as many of its
// position's own spread, where that is larger: posSpread), or with a slice
// QP QPRise above the idle QP at its position (a constant-bitrate encoder
// raises its QP at every GOP's end to save bits for the keyframe; where a
// position's QP is not known, before 3 GOPs with a QP read there or beyond
// the first 256 pictures of a GOP, a QP rise is judged against the calm
// pictures' median QP, only if they hold steady (qpSpread) and the
// picture's complexity did not fall 2
// deviations or more). The evidence starts again at each keyframe
// (carried over, it woke a clean CRF view of a road 24 times in 116 s).
// Evidence of one picture's worth that had not woken the camera when a
// keyframe comes makes it Suspect: an idle camera then decodes that
// keyframe, whose analysis may see what the sizes cannot (a 0.5 s GOP
// leaves 9 pictures to judge, too few to add up a person walking in).
// The first pictures after each keyframe (coded 2 to 3 times larger, or
// much smaller, whatever the scene) are neither judged nor learned.
//
// Keyframes are judged by themselves: a keyframe that comes early (an
// encoder with a dynamic GOP codes one on a scene change) or whose size
// differs from the last keyframes' by more than 2 times (the picture
// changed: lights, an IR switch, a large object) wakes the camera.
//
// Reject is the pixel verification's answer: the decoded pictures showed
// nothing. The camera sleeps at once, the pictures that woke it join the
// idle level and their positions' levels (a lasting change such as rain
// becomes the new idle; a position an encoder codes larger every GOP once
// its rate control has settled stops waking the camera), and
// this camera's thresholds rise by half, up to 2.25 times (two
// rejections): each encoder teaches the signal its own noise, and no run
// of false wakes makes it deaf (at 3.4 times, a 10 s GOP stream lost the
// pedestrians of vtest after three false wakes in two minutes). Each step
// is given back after raiseHold of stream without a rejection: what woke
// the camera (night grain, rain) passes, and a camera that had two false
// wakes in a month of nights would otherwise keep, by day and for ever,
// thresholds that wait for the next keyframe to see a person walk in.
//
// A predicted picture coded at the bottom of the encoder's QP range (the
// idle QP at most 10, this one at most one above it: a clean view that
// leaves a constant-bitrate encoder bits to spare) counts for at most 2
// deviations, whatever its size, and is learned as idle: a single jump
// of size no longer wakes the camera, a run of 8 such pictures still does
// (at an allowance of 1); a rise of its QP does at once.
//
// What it cannot see: change that costs the encoder no bits, such as a
// slow drift of light, or motion too small to move the picture's
// complexity out of the sensor noise (people far away in a noisy 500 kbps
// substream; most of a constant-bitrate night stream): the keyframes'
// analysis sees them, one GOP later at worst.
// Activity is not safe for concurrent use; Observe does not allocate.
type Activity struct {
	cfg config.Activity

	sinceKey int // pictures since the last keyframe
	kind     [2]level
	keys     ring // keyframes' complexity
	gop      ring // the last keyframe intervals, in pictures
	scratch  [window]float64
	raise    float64
	// calm is the stream time since the last rejection or step given back
	// (raiseHold); last is the latest PTS seen (B-frames come back in
	// time, by less than maxGap), if seen.
	calm, last time.Duration
	seen       bool
	evidence   float64
	// keyEvidence is the evidence when the last keyframe came.
	keyEvidence float64
	// lowRun counts the judged pictures in a row, up to now, coded at
	// least collapseFactor times smaller than their idle level; keyLow
	// says that lowRun reached collapseRun when the last keyframe came.
	lowRun int
	keyLow bool

	active     bool
	lastActive time.Duration
}

const (
	// postKey is the number of pictures after a keyframe that are neither
	// judged nor learned.
	postKey = 3
	// window is the number of calm pictures an idle level is taken over.
	window = 64
	// positions after the keyframe that have levels of their own, and the
	// GOPs each keeps.
	positions, posGOPs = 256, 8
	// zCap, zFree and zFloor: a picture adds max(min(z, zCap), -zFloor) -
	// zFree to the evidence. A picture below its level takes back at most
	// 1.5: a constant-bitrate encoder pays for each large picture of a
	// person walking with a small one next (sizes 4,330, 449, 2,442,
	// 3,066, 1,085, 5,390, 284 bytes where the still view costs 2,300),
	// and without a floor each small one wiped out the evidence.
	zCap, zFree, zFloor = 3.0, 1.0, 0.5
	// zSpan, zMargin and zLearn: the allowance (level.free) follows the
	// mean of what the last zSpan pictures of its kind judged while the
	// camera slept added (about 10 s at 25 fps without B-frames), once
	// zLearn were, and keeps a still view's evidence drifting zMargin a
	// picture down.
	zSpan, zMargin, zLearn = 256, 0.5, 50
	// zCalm: a picture up to this many deviations above its level is
	// learned as idle; one this many deviations under it or more has its
	// QP rise judged only where its position's idle QP is known.
	zCalm = 2.0
	// maxRaise bounds what rejections raise the thresholds by (two
	// rejections).
	maxRaise = 2.25
	// raiseHold is the stream time without a rejection after which one
	// step of the raise is given back; a gap in the stream's timestamps
	// counts for at most maxGap (the most ingest lets a stream's clock
	// jump: a camera at 0.1 fps still gives a step back in 10 minutes).
	raiseHold, maxGap = 10 * time.Minute, 10 * time.Second
	// qpSpread: where a position's QP is not known, a QP rise is judged
	// against the calm pictures' median QP only if their QPs spread this
	// little (median absolute deviation, scaled: at most one QP step
	// either way for half of them). x264 at constant bitrate holds its QP
	// within one step but at the GOP's end; x265's strict CBR on a clean
	// view swings it from 19 to 32 within a GOP, the same way every GOP.
	qpSpread = 1.5
	// lowQP: an idle QP at or under this is the bottom of the encoder's range.
	lowQP = 10
	// collapseFactor, collapseRun: collapseRun judged pictures in a row
	// before a keyframe, each collapseFactor times smaller than its idle
	// level (a frozen source: x264 codes each picture of it in 24 bytes,
	// against 600-2,000 live), make the keyframe suspect, so that an idle
	// camera decodes it and the frozen check compares it with the last one
	// decoded a GOP earlier, not a keyframe_interval later. Collapsed
	// pictures are learned as idle: after a few GOPs the level has come
	// down to them, and a picture frozen for hours costs no more keyframes.
	collapseFactor, collapseRun = 8.0, 5
)

// ring keeps the last window values, and the same values sorted: a
// picture's judgement reads three medians and a deviation of 64 values,
// which sorting each time made 2.5 µs a picture (300 idle cameras: 2% of
// a core).
type ring struct {
	v    [window]float64 // in the order they came
	s    [window]float64 // sorted
	n, i int
}

// add keeps x, forgetting the oldest value when the ring is full. The
// values are finite (complexities, their distances, QPs, counts).
func (r *ring) add(x float64) {
	n := r.n
	if n == window {
		j, _ := slices.BinarySearch(r.s[:n], r.v[r.i])
		copy(r.s[j:n-1], r.s[j+1:n])
		n--
	}
	k, _ := slices.BinarySearch(r.s[:n], x)
	copy(r.s[k+1:n+1], r.s[k:n])
	r.s[k] = x
	r.v[r.i] = x
	r.i = (r.i + 1) % window
	r.n = min(r.n+1, window)
}

// median of the ring's values (the upper one of an even count).
func (r *ring) median() float64 {
	return r.s[r.n/2]
}

// median of v, sorted in s (as long as v).
func median(s, v []float64) float64 {
	copy(s, v)
	slices.Sort(s)
	return s[len(s)/2]
}

// mad is the median absolute deviation of the ring's values from m,
// scaled to a standard deviation: the (n/2)th smallest distance from m,
// taken from the sorted values outward from m.
func (r *ring) mad(m float64) float64 {
	s := r.s[:r.n]
	hi, _ := slices.BinarySearch(s, m)
	lo := hi - 1
	var d float64
	for range r.n/2 + 1 {
		if lo >= 0 && (hi >= len(s) || m-s[lo] <= s[hi]-m) {
			d = m - s[lo]
			lo--
		} else {
			d = s[hi] - m
			hi++
		}
	}
	return 1.4826 * d
}

// posRing keeps a position's complexity and slice QP over the last posGOPs
// GOPs.
type posRing struct {
	v    [posGOPs]float64
	qp   [posGOPs]int8 // -1: unknown
	n, i uint8
}

func (r *posRing) add(x float64, qp int) {
	r.v[r.i] = x
	r.qp[r.i] = int8(min(max(qp, -1), 127))
	r.i = (r.i + 1) % posGOPs
	r.n = min(r.n+1, posGOPs)
}

// qpMedian is the median of the position's known QPs, -1 if fewer than 3
// are known (H.265, or slice headers the parser could not read).
func (r *posRing) qpMedian() float64 {
	var s [posGOPs]int8
	q := s[:0]
	for _, v := range r.qp[:r.n] {
		if v >= 0 {
			q = append(q, v)
		}
	}
	if len(q) < 3 {
		return -1
	}
	slices.Sort(q)
	return float64(q[len(q)/2])
}

// posSpread is the spread of position at's own values around ref (their
// median absolute deviation, scaled; 0 before 3 GOPs): where it is larger
// than the level's deviation, a single picture there is judged by it. An
// encoder whose pictures alternate between a few bytes and a few
// thousand, in an order that drifts from GOP to GOP (x265 at constant
// bitrate), gives a position no level: one picture many deviations above
// the level is then no surprise there.
func (l *level) posSpread(at int, ref float64, scratch *[window]float64) float64 {
	if at >= len(l.pos) || l.pos[at].n < 3 {
		return 0
	}
	p := &l.pos[at]
	s := scratch[:p.n]
	for i, v := range p.v[:p.n] {
		s[i] = math.Abs(v - ref)
	}
	slices.Sort(s)
	return 1.4826 * s[len(s)/2]
}

// level is the idle level of one kind of picture.
type level struct {
	x   ring      // calm complexities
	res ring      // their distance from the level they were judged against
	qp  ring      // calm slice QPs
	pos []posRing // by position after the keyframe, grown to the GOP's length (at most positions)
	// the last active pictures (complexity, its level, QP, position),
	// learned on Reject
	last  [4][4]float64
	nLast int
	// zMean is the mean of what the sizes of the pictures judged while
	// the camera slept added to the evidence before the allowance (their
	// deviations capped, a QP rise left out): the mean of the first nZ,
	// then a moving average over about zSpan; see free.
	zMean float64
	nZ    int
}

// free is the allowance each picture's deviations pay before they add to
// the evidence: zFree, or more where the pictures judged while the camera
// slept (sizes only: a QP rise is not noise to learn) add more than
// zFree - zMargin on average, once zLearn were. A view whose pictures are
// mostly at their level adds about 0.2 a picture; x264 under heavy night
// grain codes 30-45% of them twice as large as the rest, each 5-9
// deviations up, and adds 1.2-1.3 a picture: with zFree the evidence
// drifts up and wakes the camera every GOP, whatever the raise. It is
// zCap - zFree at most, so that a picture 3 deviations up still adds to
// the evidence: a person who stays in view of a camera that did not wake
// (a 0.5 s GOP at raised thresholds) would otherwise lift the allowance
// past what any picture adds, and the signal, Suspect included, would go
// deaf.
func (l *level) free() float64 {
	if l.nZ < zLearn {
		return zFree
	}
	return min(max(zFree, l.zMean+zMargin), zCap-zFree)
}

// idle adds zc, a picture judged while the camera slept, to zMean.
func (l *level) idle(zc float64) {
	l.nZ = min(l.nZ+1, zSpan)
	l.zMean += (zc - l.zMean) / float64(l.nZ)
}

func (l *level) learn(x, ref float64, qp, at int) {
	l.x.add(x)
	l.res.add(x - ref)
	if qp >= 0 {
		l.qp.add(float64(qp))
	}
	if at < positions {
		if at >= len(l.pos) {
			l.pos = append(l.pos, make([]posRing, at+1-len(l.pos))...)
		}
		l.pos[at].add(x, qp)
	}
}

// NewActivity returns the activity signal of a camera in mode auto (nil
// in the other modes); cfg is complete (config.DefaultActivity and the
// file's keys) and valid.
func NewActivity(mode string, cfg config.Activity) Signal {
	if mode != config.ModeAuto {
		return nil
	}
	return &Activity{cfg: cfg, raise: 1}
}

// Reset forgets the stream's levels; what Reject taught is kept, and so is
// the allowance each kind of picture had learned (level.free): a camera
// that reconnects is the same sensor and encoder, and a grainy view
// relearning it woke the camera again after its reconnect.
func (a *Activity) Reset() {
	b := Activity{cfg: a.cfg, raise: a.raise, calm: a.calm}
	for k := range a.kind {
		b.kind[k].zMean, b.kind[k].nZ = a.kind[k].zMean, a.kind[k].nZ
	}
	*a = b
}

// Active reports the current state.
func (a *Activity) Active() bool { return a.active }

// Raise is the factor rejections raised the thresholds by (1 to maxRaise).
func (a *Activity) Raise() float64 { return a.raise }

// Suspect reports whether, when the last keyframe came, the evidence held
// at least one picture's worth (zCap - zFree: a picture 3 deviations up,
// or two 2 up, at an allowance of 1) without waking the camera, or the
// pictures before it had collapsed (lowRun).
func (a *Activity) Suspect() bool { return a.keyLow || a.keyEvidence >= (zCap-zFree)*a.raise }

// complexity of a picture of size bytes coded at slice QP qp (-1 unknown).
func complexity(size, qp int) float64 {
	x := math.Log(float64(max(size, 1)))
	if qp >= 0 {
		x += float64(qp) * math.Ln2 / 6
	}
	return x
}

// Observe takes one access unit (its size, keyframe and reference flags,
// slice QP and presentation time) and reports whether the scene is active.
func (a *Activity) Observe(au unit.AccessUnit) bool {
	a.lower(au.PTS)
	x := complexity(len(au.Data), au.QP)
	if au.Key {
		if a.observeKey(x) {
			a.active, a.lastActive = true, au.PTS
		}
		// The evidence starts again at each keyframe; what it held is the
		// suspicion the gate reads (Suspect).
		a.keyEvidence = a.evidence
		a.keyLow = a.lowRun >= collapseRun
		a.sinceKey, a.evidence, a.lowRun = 0, 0, 0
		a.expire(au.PTS)
		return a.active
	}
	a.sinceKey++
	if au.Fade {
		// The whole picture's brightness changed in one picture (a lens
		// covered, lights off): its size cannot show it, the slice's
		// weight does.
		a.active, a.lastActive, a.evidence = true, au.PTS, 0
		a.expire(au.PTS)
		return a.active
	}
	at := a.sinceKey - postKey - 1
	if at < 0 {
		a.expire(au.PTS)
		return a.active
	}
	l := &a.kind[0]
	if au.NonRef {
		l = &a.kind[1]
	}
	med := 0.0
	if l.x.n > 0 {
		med = l.x.median()
	}
	if l.x.n < a.cfg.LearnFrames {
		l.learn(x, med, au.QP, at)
		return a.active
	}
	ref, qpRef := med, -1.0
	if at < len(l.pos) && l.pos[at].n >= 3 {
		p := &l.pos[at]
		ref = median(a.scratch[:p.n], p.v[:p.n])
		qpRef = p.qpMedian()
	}
	var dev float64
	if l.res.n >= a.cfg.LearnFrames {
		dev = l.res.mad(0)
	} else {
		dev = l.x.mad(med)
	}
	// At least 5% of the picture's size: a clean still view costs the
	// same few bytes every picture.
	dev = math.Max(dev, 0.05)
	z := (x - ref) / dev
	if x <= ref-math.Log(collapseFactor) {
		a.lowRun++
	} else {
		a.lowRun = 0
	}
	var qpMed float64
	if au.QP >= 0 && l.qp.n >= a.cfg.LearnFrames {
		qpMed = l.qp.median()
		if qpMed <= lowQP && float64(au.QP) <= qpMed+1 {
			// An encoder at the bottom of its QP range has bits to spare
			// on a clean view and spends them as its buffer allows: its
			// size counts for little (2 deviations at most); a rise of QP
			// counts in full.
			z = math.Min(z, zCalm)
		}
	}
	zc := math.Max(math.Min(z, zCap), -zFloor)
	zs := zc // what the picture's size adds, without a QP rise
	if au.QP >= 0 && l.qp.n >= a.cfg.LearnFrames && (qpRef >= 0 || z > -zCalm && l.qp.mad(qpMed) <= qpSpread) {
		// The idle QP at this position when it is known: a constant
		// bitrate encoder raises its QP at each GOP's end, to save bits
		// for the keyframe. Before that, a QP rise on a picture whose
		// complexity fell is such a GOP's end, and one among QPs that
		// swing (qpSpread) is the encoder's way.
		if qpRef < 0 {
			qpRef = qpMed
		}
		if float64(au.QP) >= qpRef+a.cfg.QPRise*a.raise {
			zc = zCap
		}
	}
	free := l.free()
	a.evidence = math.Max(0, a.evidence+zc-free)
	if !a.active {
		l.idle(zs)
	}
	single := a.cfg.SizeFactor * a.raise * free / zFree
	if a.evidence >= (zCap-zFree)*float64(a.cfg.WakeFrames)*a.raise || z >= single && (x-ref)/math.Max(dev, l.posSpread(at, ref, &a.scratch)) >= single {
		a.active, a.lastActive, a.evidence = true, au.PTS, 0
		l.last[l.nLast%len(l.last)] = [4]float64{x, ref, float64(au.QP), float64(at)}
		l.nLast++
	} else if z <= zCalm {
		l.learn(x, ref, au.QP, at)
	}
	a.expire(au.PTS)
	return a.active
}

// observeKey judges a keyframe of complexity x: early, or 2 times larger or
// smaller than the last keyframes.
func (a *Activity) observeKey(x float64) bool {
	hot := false
	if a.gop.n >= 2 && a.sinceKey > 0 {
		hot = float64(a.sinceKey+1) < a.gop.median()/2
	}
	if a.keys.n >= 2 {
		hot = hot || math.Abs(x-a.keys.median()) > math.Ln2*a.raise
	}
	if a.sinceKey > 0 {
		a.gop.add(float64(a.sinceKey + 1))
	}
	a.keys.add(x)
	return hot
}

// Reject says that the decoded pictures showed nothing since the signal
// woke the camera at pts: it sleeps at once, the last active pictures join
// the idle levels, at their positions too, and the thresholds rise by half
// (at most maxRaise; given back a step per raiseHold without a rejection).
func (a *Activity) Reject(pts time.Duration) {
	a.active, a.evidence = false, 0
	a.raise = math.Min(a.raise*1.5, maxRaise)
	a.calm = 0
	for k := range a.kind {
		l := &a.kind[k]
		for _, p := range l.last[:min(l.nLast, len(l.last))] {
			l.learn(p[0], p[1], int(p[2]), int(p[3]))
		}
		l.nLast = 0
	}
}

// lower gives back one step of the raise per raiseHold of stream since the
// last rejection.
func (a *Activity) lower(pts time.Duration) {
	if !a.seen {
		a.last, a.seen = pts, true
	}
	switch d := pts - a.last; {
	case d > 0:
		a.calm += min(d, maxGap)
		a.last = pts
	case d < -maxGap: // the stream's clock stepped back
		a.last = pts
	}
	if a.calm >= raiseHold {
		a.calm = 0
		a.raise = math.Max(a.raise/1.5, 1)
	}
}

func (a *Activity) expire(pts time.Duration) {
	if a.active && pts-a.lastActive > a.cfg.QuietPeriod {
		a.active = false
	}
}
