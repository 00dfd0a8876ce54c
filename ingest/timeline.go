package ingest

import "time"

// timeline maps the RTP timestamps of one stream to presentation times
// from the stream's first access unit. It needs nothing but the
// timestamps: a random initial value, the 32-bit wrap-around, packets
// reordered on UDP and keyframes fragmented over many packets are all
// followed, which gortsplib's own time decoder does not do when the first
// keyframe is fragmented (it then never starts, and every PTS is 0).
//
// A jump beyond maxJump either way (a camera that restarted its clock, a
// new SSRC) is a discontinuity: the timeline goes on one frame after the
// last, so presentation times never run backwards by more than a reorder.
// Not safe for concurrent use: it runs on the stream's RTP reader.
type timeline struct {
	clockRate int64

	started bool
	lastTS  uint32 // the highest timestamp seen (in RTP order)
	ext     int64  // lastTS extended to 64 bits, relative to the first
	step    int64  // last positive difference between access units, in ticks

	discontinuities uint64
}

// maxJump is the largest timestamp step taken as continuous.
const maxJump = 10 * time.Second

// pts returns the presentation time of an access unit whose RTP timestamp
// is ts.
func (t *timeline) pts(ts uint32) time.Duration {
	if !t.started {
		t.started, t.lastTS = true, ts
		return 0
	}
	d := int64(int32(ts - t.lastTS))
	limit := int64(maxJump/time.Second) * t.clockRate
	switch {
	case d > limit || d < -limit:
		t.discontinuities++
		step := t.step
		if step <= 0 {
			step = t.clockRate / 25
		}
		t.ext += step
		t.lastTS = ts
		return ticksToDuration(t.ext, t.clockRate)
	case d > 0:
		t.ext += d
		t.lastTS = ts
		t.step = d
		return ticksToDuration(t.ext, t.clockRate)
	}
	// Same timestamp or reordered: earlier than the newest by -d ticks.
	return ticksToDuration(t.ext+d, t.clockRate)
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
