// Package gate owns the decode-mode policy of a camera: which access units
// are decoded now (every one, keyframes only, or keyframes while idle and
// everything while the bitstream's activity signal or the analyzer says
// something happens, replaying the GOP on waking), under the overload
// ladder's steps (sched.Overload). It is the one place that answers "what to
// decode now".
package gate

import (
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/sched"
	"github.com/vigil-video/vigil/unit"
)

// Signal is the compressed-domain activity detector the gate consults
// for every access unit, on the RTP reader goroutine (Activity).
type Signal interface {
	// Observe takes an access unit (its size, keyframe and reference
	// flags, slice QP, PTS) and reports whether the scene is active.
	Observe(au unit.AccessUnit) bool
	// Reject says that the decoded pictures showed nothing since the
	// signal woke the camera at pts: the signal sleeps and learns.
	Reject(pts time.Duration)
	// Reset forgets the stream (a new one starts).
	Reset()
	// Suspect reports whether the last pictures were above their idle
	// level, though not enough to wake the camera, or far below it (a
	// picture that may have frozen): an idle camera then decodes the next
	// keyframe, whose analysis may see what the bitstream cannot tell
	// from noise.
	Suspect() bool
	// Raise is the factor rejected wakes raised the signal's thresholds
	// by: 1 as configured.
	Raise() float64
}

// ReplayUnits is the most access units a wake-up replays: a GOP of 60 s at
// 25 fps, as long as "smart codec" cameras make them while still. What
// bounds the memory the GOP holds is its bytes (ReplayBytes).
const ReplayUnits = 1500

// ReplayBytes is the most bytes of one GOP kept for a wake-up's replay by a
// camera whose queue holds queueBytes: half of them, at least 256 KiB but
// never more than the queue (a 10 s GOP of a 500 kbps substream is 625 KB,
// of a 4 Mbps main 5 MB).
func ReplayBytes(queueBytes int) int { return min(max(queueBytes/2, 256<<10), queueBytes) }

// takeWithin is how far into its GOP an idle camera still replays it to
// take a waiting result (Take): 1 s, 25 units at 25 fps, as much as a
// wake the pictures verify decodes. Eight real scenarios started at once
// on 2 cores have their first looks' results within it (at 0.5 s, only
// the first).
const takeWithin = time.Second

// leadSlack is how far before its keyframe a unit that follows it in
// decode order may be shown: the leading pictures of an open GOP (H.265
// RASL after a CRA, x264 --open-gop) are reordered by a few pictures,
// well under a second even at 5 fps, and come before any unit shown after
// the keyframe (Gate.leading). A clock that steps back further, or after
// such a unit, starts a new timeline.
const leadSlack = time.Second

// verifyPictures is the number of analyzed pictures, from the one the
// signal woke at, that must all show nothing for the wake to be rejected
// (0.4 s at the default 5 fps analysis).
const verifyPictures = 2

// Gate decides which access units of one camera are queued for decoding.
// It runs on the camera's RTP reader goroutine only (not safe for concurrent
// use), except for the atomics, which the API and metrics read.
type Gate struct {
	mode string
	act  Signal // nil unless mode is auto

	// load is the camera's overload step (nil: never overloaded): its
	// keyframes step and below decode keyframes only, its lowest every
	// other keyframe decoded alone.
	load     *sched.Overload
	thinSkip int // keyframes alone still to skip before the next decoded (thinning)
	// analysisActive is set by the worker while the analyzer follows
	// motion or a zone (analyze.Camera.Active, the one source): the gate
	// stays awake until it ends.
	analysisActive atomic.Bool
	// held is set by the worker while the analyzer judges a suspected
	// tamper cause (analyze.Camera.Pending): the gate stays awake, but a
	// wake it causes is not the signal's to verify, and it confirms none.
	held atomic.Bool
	// take is set by Take (another goroutine): a result waits that the
	// analysis of an idle camera should take at once. Route turns it into
	// taking, a wake that lasts until a picture from takeFrom on (the
	// replay's first) is analyzed (Analyzed): the analyzer's own Active
	// keeps the camera awake from there if the result holds a candidate.
	take     atomic.Bool
	taking   atomic.Bool
	takeFrom atomic.Int64

	// Pixel verification of a wake the signal caused: the worker's
	// analysis answers through Analyzed.
	verifying atomic.Bool
	wakePTS   atomic.Int64 // the unit the signal woke at
	calm      atomic.Int32 // analyzed pictures since then showing nothing
	rejected  atomic.Bool  // the pictures showed nothing: sleep and learn
	rejects   atomic.Uint64
	// raise is the signal's Raise (its float64 bits), read by the metrics;
	// raised is the last one stored, on the reader goroutine.
	raise  atomic.Uint64
	raised float64
	// verifiers, when set, bounds the verifications running at once
	// (ShareVerifiers); slot says this camera holds one of them,
	// deferring that its signal wants a wake no verifier was free for
	// (deferred counts those waits).
	verifiers *Verifiers
	slot      atomic.Bool
	deferring bool
	deferred  atomic.Uint64
	// owed says that a deferred wake is still to be judged: the next
	// keyframe is decoded alone as a cue, and keyJudge (its PTS+1, 0
	// none) has the analyzer's answer on it reject the wake when the
	// picture shows nothing.
	owed     bool
	keyJudge atomic.Int64

	// keyInterval is, while idle, the longest time between two keyframes
	// decoded (activity.keyframe_interval; 0: every one); lastKey is the
	// PTS of the last keyframe decoded, lastKeyX its complexity, haveKey
	// whether there is one. watching is set by the worker while the
	// analyzer wants every keyframe (a tamper cause suspected or open);
	// settle counts the keyframes still decoded after a wake ended.
	keyInterval time.Duration
	lastKey     time.Duration
	lastKeyX    float64
	lastKeyQP   int // its slice QP; -1: unknown
	haveKey     bool
	// keyXs are the complexities of the last keyXN keyframes, decoded
	// or not (their spread is the encoder's: keyChange).
	keyXs    [keyXN]float64
	keyXn    int
	watching atomic.Bool
	settle   int
	// keyCounts counts the keyframes decoded alone (CountKeys); nil: none.
	keyCounts *KeyCounts
	// shownAfter: a unit since the last keyframe is shown after it, so the
	// keyframe's leading pictures (shown before it) are past.
	shownAfter bool
	// anyKey is the PTS of the last keyframe seen, gop the time between
	// the last two (0: unknown).
	anyKey time.Duration
	gop    time.Duration

	awake   atomic.Bool
	wakeups atomic.Uint64
	skipped atomic.Uint64 // access units not decoded by choice

	// GOP buffer: the last keyframe and the units since, awake or idle.
	buf              []unit.AccessUnit
	bufBytes         int
	chained          int // leading units of buf the decoder's chain holds
	bufSkipped       int // units of buf counted as skipped
	maxUnits         int
	maxBytes         int
	broken           bool        // the buffer overflowed: wait for the next keyframe
	waitKey          bool        // awake, but the chain is broken until a keyframe
	wasKeyframesOnly atomic.Bool // back from keyframes only: decoding resumes at a keyframe
}

// DecodingAll reports whether the camera decodes every frame now.
func (g *Gate) DecodingAll() bool {
	if g.load.KeyframesOnly() {
		return false
	}
	switch g.mode {
	case config.ModeAll:
		return !g.wasKeyframesOnly.Load() // not until the keyframe that resumes it
	case config.ModeAuto:
		return g.awake.Load()
	}
	return false
}

// New returns the gate of a camera in mode (config.ModeAll, ModeKeyframes
// or ModeAuto); act is its activity signal (mode auto only), load its
// overload step (nil: never overloaded). On waking it replays at most
// maxUnits units and maxBytes bytes since the keyframe.
func New(mode string, act Signal, load *sched.Overload, maxUnits, maxBytes int) *Gate {
	return &Gate{mode: mode, act: act, load: load, maxUnits: maxUnits, maxBytes: maxBytes}
}

// SkipIdleKeyframes makes an idle camera in mode auto skip the keyframes
// that cannot show analysis anything new: it decodes a keyframe when
// interval has passed since the last one decoded, when the keyframe's
// complexity (its size scaled by its QP) moved KeyChange or more from that
// one's (the view may have changed; keyMove, keyChange), while the
// analyzer watches (Watch),
// and the settleKeys keyframes after a wake ends. 0 decodes every one.
// Call it before the first Route.
func (g *Gate) SkipIdleKeyframes(interval time.Duration) { g.keyInterval = interval }

// KeyChange is the least move of a keyframe's complexity (natural log of
// its size plus QP·ln2/6) from the last decoded keyframe's that has an
// idle camera decode it: 0.1 is 10% more or fewer bits at the same QP.
// An encoder whose keyframes of a still view move more than that (rate
// control, grain) raises it to keyChangeSpread times their spread, at
// most KeyChangeMax: a covered, defocused or turned camera moves its
// keyframes' bits by far more (a cover halves them or less), and the
// interval decodes a keyframe in any case. A move toward a QP one step
// away is allowed up to one step more (keyMove), never past KeyChangeMax.
const (
	KeyChange       = 0.1
	KeyChangeMax    = 0.25
	keyChangeSpread = 3
	keyXN           = 8 // keyframes the spread is taken over
)

// keyChange is the move of a keyframe's complexity that has an idle camera
// decode it: KeyChange, or keyChangeSpread times the median absolute
// deviation of the last keyXN keyframes' complexities, at most
// KeyChangeMax.
func (g *Gate) keyChange() float64 {
	n := min(g.keyXn, keyXN)
	if n < 3 {
		return KeyChange
	}
	var s, d [keyXN]float64
	copy(s[:n], g.keyXs[:n])
	slices.Sort(s[:n])
	m := s[n/2]
	for i, x := range g.keyXs[:n] {
		d[i] = math.Abs(x - m)
	}
	slices.Sort(d[:n])
	return min(max(KeyChange, keyChangeSpread*d[n/2]), KeyChangeMax)
}

// judgeGap is the longest time since the last keyframe decoded over which
// a deferred wake is judged on the next keyframe: the analyzer takes gaps
// of up to 12 s as a sparse stream's pace (analyze's maxSparseGap) and
// learns its background again after longer ones.
const judgeGap = 10 * time.Second

// settleKeys is the number of keyframes an idle camera decodes after a
// wake ends, so that analysis sees the view settle.
const settleKeys = 2

// Watch says, after each analyzed picture, whether the analyzer wants
// every keyframe of an idle camera (a tamper cause suspected or open,
// whose start and end keep their targets). Safe to call from the worker
// while Route runs.
func (g *Gate) Watch(on bool) { g.watching.Store(on) }

// Hold says, after each analyzed picture, whether the analyzer judges a
// suspected tamper cause (analyze.Camera.Pending): an idle camera in mode
// auto decodes every picture while it does, so that the cause's
// min_duration is judged on the next seconds' pictures, not on keyframes a
// GOP apart. Unlike Analyzed's active, it neither confirms a wake the
// signal caused nor is verified as one. Safe to call from the worker
// while Route runs.
func (g *Gate) Hold(on bool) { g.held.Store(on) }

// leading reports whether a unit shown d before the last keyframe (d < 0)
// is one of its leading pictures: within leadSlack of it, and no unit
// since the keyframe was shown after it.
func (g *Gate) leading(d time.Duration) bool { return d >= -leadSlack && !g.shownAfter }

// Take asks an idle camera in mode auto to decode its pictures from its
// last keyframe, so that its analysis takes a result that waits (the
// first look's objects: analyze.ObjectSlot.OnFound) on the next units,
// not on the next keyframe decoded alone: within takeWithin of that
// keyframe only, later the result waits for the next one. Like Hold, it is the
// analyzer's wake, not the signal's: not verified; but its replay takes
// a verifier's room (ShareVerifiers), and without room the take is
// dropped. Safe to call from any goroutine.
func (g *Gate) Take() { g.take.Store(true) }

// ShareVerifiers bounds, with the other cameras sharing v, how many
// verify a wake the signal alone caused at once. Call it before the first
// Route.
func (g *Gate) ShareVerifiers(v *Verifiers) { g.verifiers = v }

// Deferred counts the wakes the signal wanted while no verifier was free
// (ShareVerifiers).
func (g *Gate) Deferred() uint64 { return g.deferred.Load() }

// endVerify ends the verification of a wake, if one runs, and gives its
// verifier back. Safe to call from the worker while Route runs.
func (g *Gate) endVerify() {
	g.verifying.Store(false)
	g.freeSlot()
}

// freeSlot gives back the verifier this camera holds, if it holds one.
func (g *Gate) freeSlot() {
	if g.slot.Swap(false) {
		g.verifiers.release()
	}
}

// Close gives back what the camera holds of what it shares with others
// (its verifier). Safe to call at any time; the gate still routes after.
func (g *Gate) Close() {
	g.take.Store(false)
	g.taking.Store(false)
	g.endVerify()
}

// Reset starts a new stream: a take waiting or under way was the old
// stream's.
func (g *Gate) Reset() {
	g.take.Store(false)
	g.taking.Store(false)
	g.endVerify()
	g.deferring, g.owed = false, false
	g.keyJudge.Store(0)
	g.clear()
	g.haveKey, g.gop, g.anyKey, g.settle = false, 0, 0, 0
	g.keyXn = 0
	g.broken, g.waitKey = false, false
	g.awake.Store(false)
	if g.act != nil {
		g.act.Reset()
	}
}

func (g *Gate) clear() {
	for i := range g.buf {
		g.buf[i] = unit.AccessUnit{}
	}
	g.buf, g.bufBytes = g.buf[:0], 0
	g.chained, g.bufSkipped = 0, 0
}

// Route hands the units to decode to push, in order: au itself, nothing
// (skipped), or on waking the last keyframe and the buffered units since,
// followed by au. alone tells push that the unit is a keyframe decoded on
// its own: no unit after it is decoded before the next keyframe, so its
// decoder keeps no state for this camera (pipeline.ProcessKeyframe). A
// keyframe decoded alone while idle is pushed again, as the head of the
// chain, when the camera wakes within its GOP.
func (g *Gate) Route(au unit.AccessUnit, push func(au unit.AccessUnit, alone bool)) {
	active := false
	if g.act != nil {
		if g.rejected.Swap(false) {
			g.act.Reject(au.PTS)
			g.rejects.Add(1)
		}
		active = g.act.Observe(au)
		if r := g.act.Raise(); r != g.raised {
			g.raised = r
			g.raise.Store(math.Float64bits(r))
		}
	}
	if g.mode == config.ModeAuto && au.Key {
		g.gop, g.anyKey = au.PTS-g.anyKey, au.PTS
		g.keyXs[g.keyXn%keyXN] = keyComplexity(au)
		g.keyXn++
		g.shownAfter = false
	} else if au.PTS > g.anyKey {
		g.shownAfter = true
	}
	if g.mode != config.ModeAuto || g.load.KeyframesOnly() {
		// Every picture is analyzed, or keyframes only: nothing to take.
		g.take.Store(false)
	}
	if g.load.KeyframesOnly() || g.mode == config.ModeKeyframes {
		g.wasKeyframesOnly.Store(true)
		// No wake is verified on keyframes alone: one running gives its
		// verifier back, one waiting is dropped with its judgement (read
		// first: this runs for every unit on these rungs).
		if g.verifying.Load() || g.slot.Load() {
			g.endVerify()
		}
		if g.owed || g.keyJudge.Load() != 0 {
			g.keyJudge.Store(0)
		}
		g.deferring, g.owed = false, false
		// In mode auto an idle camera keeps to the keyframes it decodes
		// idle (idleKeyDue), thinned as on any rung below full: the
		// keyframes rung would otherwise have it decode every keyframe,
		// more than it does when the machine has room.
		idle := g.mode == config.ModeAuto && !active && !g.analysisActive.Load() && !g.held.Load()
		if !au.Key {
			g.skipped.Add(1)
			return
		}
		if !idle {
			every := 1
			if g.load.Sparse() {
				every = 2
			}
			g.alone(au, push, every, false, KeyOnly)
			return
		}
		g.idleKey(au, push, g.load.IdleEvery())
		return
	}
	if g.mode == config.ModeAll {
		if g.wasKeyframesOnly.Load() && !au.Key {
			g.skipped.Add(1) // back from keyframes-only: resume at a keyframe
			return
		}
		g.wasKeyframesOnly.Store(false)
		push(au, false)
		return
	}

	// auto
	if g.wasKeyframesOnly.Load() {
		// Back from the ladder's keyframes-only step: the buffer is stale.
		g.wasKeyframesOnly.Store(false)
		g.clear()
		g.broken = !au.Key
	}
	if g.taking.Load() {
		// A take whose replay no analyzed picture answered (decode errors,
		// drops) ends after takeWithin more, or when the clock steps back
		// past it (more than leadSlack: the pictures that lead an open
		// GOP's keyframe are shown before it): it does not hold its room
		// and full decoding for the rest of a long GOP.
		if d := au.PTS - time.Duration(g.takeFrom.Load()); (d < 0 && !g.leading(d) || d > 2*takeWithin) && g.taking.Swap(false) && !g.verifying.Load() {
			g.freeSlot()
		}
	}
	if g.take.Swap(false) {
		switch {
		case !g.awake.Load():
			// From the keyframe the buffer starts with (or this one): its
			// picture, and the result taken on it, come first. A take
			// replays the GOP so far, so only within takeWithin of its
			// keyframe: a result that came later (a restart's first looks
			// waiting for the budget) is taken on the next keyframe
			// decoded, as a replay of up to a GOP per camera, 300 cameras
			// at once, would starve the budget of inference with the load
			// (BENCHMARKS.md, "Vehicles parked"). It shares the
			// verifications' room too (ShareVerifiers); one finding no
			// room is dropped.
			from := time.Duration(-1)
			switch {
			case au.Key:
				from = au.PTS
			case !g.broken && len(g.buf) > 0 && g.buf[0].Key:
				if d := au.PTS - g.buf[0].PTS; (d >= 0 || g.leading(d)) && d <= takeWithin {
					from = g.buf[0].PTS
				}
			}
			room := g.verifiers == nil || g.slot.Load() // a room already held is the take's
			if from >= 0 && !room && g.verifiers.acquire() {
				g.slot.Store(true)
				room = true
			}
			if from >= 0 && room {
				g.takeFrom.Store(int64(from))
				g.taking.Store(true)
			}
		case !active && !g.analysisActive.Load() && !g.held.Load() && !g.taking.Load():
			// Awake, but going to sleep at this unit (a wake its pictures
			// rejected as the result came): this unit, next in the
			// decoder's chain, takes it; nothing to replay.
			g.takeFrom.Store(int64(au.PTS))
			g.taking.Store(true)
		}
	}
	taking := g.taking.Load()
	wantAwake := active || g.analysisActive.Load() || g.held.Load() || taking
	if !active {
		g.deferring = false
	}
	if wantAwake && !g.awake.Load() && g.verifiers != nil && active && !g.analysisActive.Load() && !g.held.Load() && !taking {
		// A wake the signal alone wants is verified on the pictures; it
		// waits while as many run as the verifiers allow.
		if !g.verifiers.acquire() {
			if !g.deferring {
				g.deferring, g.owed = true, true
				g.deferred.Add(1)
			}
			wantAwake = false
		} else {
			g.slot.Store(true)
			g.deferring, g.owed = false, false
		}
	}
	if wantAwake && !g.awake.Load() {
		// Waking: the pictures decoded now judge it, not a keyframe
		// decoded before (nor its answer, if the worker gave it since
		// this unit came).
		g.keyJudge.Store(0)
		g.rejected.Store(false)
	}
	// The GOP so far is kept whether the camera is awake or idle, so that a
	// wake, even after a short sleep, goes on from the last unit the
	// decoder's chain holds, or replays from the keyframe.
	if au.Key {
		g.clear()
		g.broken = false
		if g.taking.Load() && int64(au.PTS) != g.takeFrom.Load() && g.taking.Swap(false) {
			g.freeSlot() // a take not answered within its GOP is over
		}
	}
	buffered := false
	if !g.broken {
		if len(g.buf) >= g.maxUnits || g.bufBytes+len(au.Data) > g.maxBytes {
			g.clear()
			g.broken = true
		} else {
			g.buf = append(g.buf, au)
			g.bufBytes += len(au.Data)
			buffered = true
		}
	}
	if g.awake.Load() {
		if wantAwake {
			if g.waitKey {
				if !au.Key {
					g.skipped.Add(1)
					return
				}
				g.waitKey = false
			}
			push(au, false)
			g.chained = len(g.buf)
			if au.Key {
				g.decodedKey(au)
			}
			return
		}
		g.awake.Store(false) // idle from this unit on; the buffer stays
		g.endVerify()
		g.settle = settleKeys
	}
	if !wantAwake {
		if au.Key {
			// The chain starts over. This keyframe may be skipped (too
			// soon after the last one decoded or, idle cameras shedding
			// first, thinned by the camera's rung or the engine's idle
			// floor: Overload.IdleEvery); it stays at the head of the
			// buffer for a wake-up's replay.
			g.keyJudge.Store(0) // a judgement not made by now is not made
			if g.owed && (!g.haveKey || au.PTS-g.lastKey <= judgeGap) {
				// A deferred wake is judged on this keyframe's picture (a
				// cue: decoded whatever the rung), from before it is
				// queued, since the worker may analyze it at once. Not
				// after a long gap: the analyzer then learns its
				// background again on it and can see nothing.
				g.keyJudge.Store(int64(au.PTS) + 1)
			}
			if !g.idleKey(au, push, g.load.IdleEvery()) && buffered {
				g.bufSkipped++
			}
			g.owed = false
			g.chained = 0
		} else {
			g.skipped.Add(1)
			if buffered {
				g.bufSkipped++
			}
		}
		return
	}
	// Wake: decode the units of the GOP the chain lacks, then this unit,
	// so analysis starts at the change rather than at the next keyframe.
	// A wake the signal alone caused is verified on the pictures.
	g.awake.Store(true)
	g.wakeups.Add(1)
	switch {
	case active && !g.analysisActive.Load() && !taking:
		g.wakePTS.Store(int64(au.PTS))
		g.calm.Store(0)
		g.verifying.Store(true)
	case taking:
		// The take's room is given back once its replay's first picture
		// is analyzed (Analyzed).
	default:
		g.freeSlot() // the analyzer's wake: nothing to verify
	}
	switch {
	case au.Key:
		push(au, false)
		g.chained = len(g.buf)
		g.decodedKey(au)
	case !buffered || !g.buf[0].Key:
		g.waitKey = true // the chain since the keyframe is lost
		g.skipped.Add(1)
	default:
		// From the keyframe when it was decoded alone (chained 0), else
		// from the first unit skipped since the chain stopped; au is last.
		for _, u := range g.buf[g.chained:] {
			push(u, false)
		}
		// Those were counted as skipped: uncount them.
		if g.bufSkipped > 0 {
			g.skipped.Add(^uint64(g.bufSkipped - 1)) // subtract bufSkipped
		}
		g.bufSkipped = 0
		g.chained = len(g.buf)
	}
}

// keyDue is why an idle camera decodes a keyframe, if it does.
type keyDue int

const (
	keyNotDue keyDue = iota
	// keyOnInterval: due by the interval since the last one decoded (or
	// every one, without an interval); a rung of the ladder or the
	// engine's idle floor thins these (Overload.IdleEvery).
	keyOnInterval
	// keyCue: the view may have changed (the first keyframe, a complexity
	// move, a suspect signal, the analyzer watching): never thinned, so
	// that tamper keeps its cues on a loaded machine.
	keyCue
)

// idleKeyDue says whether an idle camera decodes the keyframe au: the
// first one of a stream; then enough that the time between two decoded
// stays within keyInterval (unless the GOP is longer); one whose
// complexity moved keyChange from the last decoded (keyMove); every one
// while the analyzer watches; and settleKeys after a wake. It says why
// (KeyReason).
func (g *Gate) idleKeyDue(au unit.AccessUnit) (keyDue, KeyReason) {
	switch {
	case !g.haveKey:
		return keyCue, KeyFirst
	case g.watching.Load():
		return keyCue, KeyWatch
	case g.owed:
		return keyCue, KeyJudge
	case g.act != nil && g.act.Suspect():
		return keyCue, KeySuspect
	case g.keyMoved(au):
		return keyCue, KeyMoved
	case g.keyInterval <= 0:
		return keyOnInterval, KeyInterval
	case g.settle > 0:
		g.settle--
		return keyOnInterval, KeySettle
	}
	// Due when skipping it would leave more than the interval (and a
	// tenth, for timestamp jitter) until the next keyframe decoded.
	d := au.PTS - g.lastKey
	if d < 0 || g.gop <= 0 || d+g.gop > g.keyInterval+g.keyInterval/10 { // < 0: timestamps jumped
		return keyOnInterval, KeyInterval
	}
	return keyNotDue, KeyInterval
}

// idleKey decodes an idle camera's keyframe au alone when due, 1 in
// every of those due on interval (the ladder's rung, Overload.IdleEvery),
// every one that is a cue; it reports whether it was decoded.
func (g *Gate) idleKey(au unit.AccessUnit, push func(unit.AccessUnit, bool), every int) bool {
	due, why := g.idleKeyDue(au)
	if due == keyNotDue {
		g.skipped.Add(1)
		return false
	}
	return g.alone(au, push, every, due == keyCue, why)
}

// decodedKey notes the keyframe au as the last one decoded.
func (g *Gate) decodedKey(au unit.AccessUnit) {
	g.lastKey, g.lastKeyX, g.lastKeyQP, g.haveKey = au.PTS, keyComplexity(au), au.QP, true
}

// qpStep is one step of QP in complexity: 2^(1/6) more or fewer bits.
const qpStep = math.Ln2 / 6

// keyMoved reports whether the keyframe au's complexity moved enough
// from the last decoded keyframe's to be decoded (keyMove, keyChange).
func (g *Gate) keyMoved(au unit.AccessUnit) bool {
	c := g.keyChange()
	return g.keyMove(au, c) >= c
}

// keyMove is how far the keyframe au's complexity moved from the last
// decoded keyframe's, less up to one step of QP when the QP moved the
// same way: an encoder's rate control picks a whole QP, so a still view's
// keyframes flip between two neighbouring QPs with the same bits (x264
// with VBV: 22 and 23, 3 keyframes in 11, each a move of 0.116 over
// KeyChange that a median deviation of 0 let through). A cover, a blur or
// a turn moves the bits by far more, or the QP by several steps; bits
// that fall while the QP rises (or the reverse) are no flip, and are not
// allowed for. change is the move that decodes a keyframe (keyChange):
// what its spread already allows for the flips is not allowed twice, so
// a move of KeyChangeMax still decodes one.
func (g *Gate) keyMove(au unit.AccessUnit, change float64) float64 {
	dx := keyComplexity(au) - g.lastKeyX
	d := math.Abs(dx)
	if au.QP >= 0 && g.lastKeyQP >= 0 && au.QP != g.lastKeyQP && (dx > 0) == (au.QP > g.lastKeyQP) {
		d = max(0, d-min(qpStep, KeyChangeMax-change))
	}
	return d
}

// keyComplexity is the complexity of a keyframe (Activity's measure).
func keyComplexity(au unit.AccessUnit) float64 { return complexity(len(au.Data), au.QP) }

// alone pushes a keyframe decoded alone or, thinning, skips it: 1 in
// every is decoded, and a cue whatever the count.
func (g *Gate) alone(au unit.AccessUnit, push func(unit.AccessUnit, bool), every int, cue bool, why KeyReason) bool {
	g.thinSkip = min(g.thinSkip, every-1)
	if g.thinSkip > 0 && !cue {
		g.thinSkip--
		g.skipped.Add(1)
		return false
	}
	g.thinSkip = every - 1
	if g.keyCounts != nil {
		g.keyCounts.n[why].Add(1)
	}
	g.decodedKey(au)
	push(au, true)
	return true
}

// Analyzed tells the gate, after each analyzed picture (PTS pts), whether
// the analyzer follows motion or a zone (analyze.Camera.Active): mode auto
// stays awake while it does. It is also the pixel verification of a wake
// the bitstream signal caused: when the pictures from the wake on show
// nothing (verifyPictures of them), the camera sleeps at once and the
// signal learns from its mistake (Signal.Reject). Safe to call from
// the worker while Route runs.
func (g *Gate) Analyzed(pts time.Duration, active bool) {
	g.analysisActive.Store(active)
	if g.taking.Load() && int64(pts) >= g.takeFrom.Load() && g.taking.Swap(false) {
		// Taken: the analyzer's active says the rest.
		if !g.verifying.Load() {
			g.freeSlot()
		}
	}
	if k := g.keyJudge.Load(); k != 0 && int64(pts) == k-1 && g.keyJudge.CompareAndSwap(k, 0) && !active && !g.awake.Load() {
		// A wake deferred for want of a verifier, judged on the keyframe
		// decoded since: it showed nothing.
		g.rejected.Store(true)
	}
	if !g.verifying.Load() {
		return
	}
	if active {
		g.endVerify() // confirmed
		return
	}
	if int64(pts) >= g.wakePTS.Load() && g.calm.Add(1) >= verifyPictures {
		g.rejected.Store(true)
		g.endVerify()
	}
}

// Rejects counts the wakes the pixel verification rejected.
func (g *Gate) Rejects() uint64 { return g.rejects.Load() }

// Raise is the factor rejected wakes raised the activity signal's
// thresholds by (1 as configured, until the signal has seen a unit; 0
// without a signal: a mode other than auto).
func (g *Gate) Raise() float64 {
	if g.act == nil {
		return 0
	}
	if r := math.Float64frombits(g.raise.Load()); r > 0 {
		return r
	}
	return 1
}

// Wakeups counts the times mode auto woke full decoding.
func (g *Gate) Wakeups() uint64 { return g.wakeups.Load() }

// Skipped counts access units not decoded by choice.
func (g *Gate) Skipped() uint64 { return g.skipped.Load() }
