package gate

import "sync/atomic"

// Verifiers bounds how many cameras verify at once a wake the activity
// signal alone caused. Each verification decodes its camera's GOP from the
// keyframe with a decoder of its own, until the analyzer has seen
// verifyPictures pictures; when many cameras' signals wake together (all
// of them learning from the same start, the street lights coming on at
// dusk, rain), as many decoders would open at once, their pictures taking
// memory and their replays the workers, so that the verifications' own
// analysis falls behind and each camera stays awake longer still. A camera
// finding no verifier free stays idle: its GOP stays buffered, it wakes
// as soon as one is free while its signal is still active, and its next
// keyframe is decoded as a cue, whose analysis wakes it without a
// verifier if it shows anything. Wakes the analyzer causes or confirms
// never wait. Safe for concurrent use.
type Verifiers struct {
	max, n atomic.Int64
}

// NewVerifiers returns room for n verifications at once (at least 1).
func NewVerifiers(n int) *Verifiers {
	v := &Verifiers{}
	v.SetMax(n)
	return v
}

// VerifiersFor is the default room: 4 per worker, at least 16. It follows
// the workers, not the cameras: a verification costs a GOP's decoding and
// the analysis of its pictures, and more of them than the workers can
// serve at once only make each one late (600 cameras on 2 workers with
// room for 75: 66 s behind; with 16: caught up in 50 s).
func VerifiersFor(workers int) int { return max(16, 4*workers) }

// SetMax changes the room (at least 1); verifications running over it end
// as they do.
func (v *Verifiers) SetMax(n int) { v.max.Store(int64(max(n, 1))) }

// InUse returns the verifications running now.
func (v *Verifiers) InUse() int { return int(v.n.Load()) }

// Max returns the room.
func (v *Verifiers) Max() int { return int(v.max.Load()) }

func (v *Verifiers) acquire() bool {
	for {
		n := v.n.Load()
		if n >= v.max.Load() {
			return false
		}
		if v.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (v *Verifiers) release() { v.n.Add(-1) }
