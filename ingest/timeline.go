package ingest

import (
	"math/bits"
	"time"
)

// timeline maps the RTP timestamps of one stream to presentation times
// from the stream's first access unit, from the timestamps and (to catch
// a clock running fast) the arrival times: a random initial value, the 32-bit wrap-around, packets
// reordered on UDP and keyframes fragmented over many packets are all
// followed, which gortsplib's own time decoder does not do when the first
// keyframe is fragmented (it then never starts, and every PTS is 0).
//
// A jump beyond maxJump either way (a camera that restarted its clock, a
// new SSRC) is a discontinuity: the timeline goes on one frame after the
// last (or by the arrival step), so presentation times never run
// backwards by more than a reorder.
//
// A step that runs more than maxAhead ahead of the access units' arrival
// step (an RTP clock running fast: seconds of timestamp per frame) is
// clamped: the timeline follows arrival for it. Ingest decides here, in
// one place, what a frame's time is; analysis reads a timeline that never
// jumps further than time really passed, so its own gap limit (a few
// seconds, analyze.Camera) only sees real gaps.
// Not safe for concurrent use: it runs on the stream's RTP reader.
type timeline struct {
	clockRate int64

	started     bool
	lastTS      uint32    // the highest timestamp seen (in RTP order)
	lastArrival time.Time // when lastTS arrived
	ext         int64     // lastTS extended to 64 bits, relative to the first
	step        int64     // last positive difference between access units, in ticks

	discontinuities uint64
	clamped         uint64 // steps that ran ahead of arrival
	recent          uint8  // the last 8 forward steps, 1 for each clamped one
}

// maxJump is the largest timestamp step taken as continuous.
const maxJump = 10 * time.Second

// maxAhead is how far one access unit's timestamp step may run ahead of
// its arrival step before the timeline follows arrival.
const maxAhead = time.Second

// pts returns the presentation time of an access unit whose RTP timestamp
// is ts and which arrived at arrival (zero: unknown, steps are not
// compared with arrival).
func (t *timeline) pts(ts uint32, arrival time.Time) time.Duration {
	if !t.started {
		t.started, t.lastTS, t.lastArrival = true, ts, arrival
		return 0
	}
	d := int64(int32(ts - t.lastTS))
	limit := int64(maxJump/time.Second) * t.clockRate
	if d <= 0 && d >= -limit {
		// Same timestamp or reordered: earlier than the newest by -d ticks.
		return ticksToDuration(t.ext+d, t.clockRate)
	}
	step := d
	switch {
	case d > limit || d < -limit:
		t.discontinuities++
		step = t.step
		if step <= 0 {
			step = t.clockRate / 25
		}
		if a, ok := t.arrivalStep(arrival); ok {
			step = max(a, 1)
		}
	default:
		t.recent <<= 1
		if a, ok := t.arrivalStep(arrival); ok && d-a > int64(maxAhead/time.Second)*t.clockRate {
			t.clamped++
			t.recent |= 1
			step = max(a, 1)
		} else {
			t.step = d
		}
	}
	t.ext += step
	t.lastTS, t.lastArrival = ts, arrival
	return ticksToDuration(t.ext, t.clockRate)
}

// runningFast reports whether most of the last 8 forward steps ran ahead
// of arrival: the camera's clock runs fast. A single clamped step is
// usually a sender that skipped frames after falling behind (the frames'
// arrival was late, not their timestamps early); it is clamped, and
// counted, but not a fast clock.
func (t *timeline) runningFast() bool { return bits.OnesCount8(t.recent) >= 5 }

// arrivalStep returns the time since the last access unit's arrival in
// clock ticks, when both arrivals are known.
func (t *timeline) arrivalStep(arrival time.Time) (int64, bool) {
	if arrival.IsZero() || t.lastArrival.IsZero() {
		return 0, false
	}
	a := max(arrival.Sub(t.lastArrival), 0)
	return int64(a/time.Millisecond) * t.clockRate / 1000, true
}

// ticksToDuration converts RTP clock ticks to a duration without
// overflowing on long streams (a 90 kHz clock runs past int64 nanosecond
// products after about a day).
func ticksToDuration(ticks, rate int64) time.Duration {
	if rate <= 0 {
		return 0
	}
	sec, rem := ticks/rate, ticks%rate
	return time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(rate)
}
