package gate

import "sync/atomic"

// KeyReason says why an idle camera in mode auto decoded a keyframe on
// its own (Gate.CountKeys).
type KeyReason int

// The reasons, in the order idleKeyDue weighs them.
const (
	// KeyFirst: the first keyframe of a stream.
	KeyFirst KeyReason = iota
	// KeyWatch: the analyzer watches (its tamper baseline being learned,
	// a tamper cause suspected or open).
	KeyWatch
	// KeyJudge: a wake deferred for want of a verifier is judged on it.
	KeyJudge
	// KeySuspect: the bitstream signal held evidence it had not woken on.
	KeySuspect
	// KeyMoved: its complexity moved from the last one decoded.
	KeyMoved
	// KeySettle: one of the keyframes after a wake.
	KeySettle
	// KeyInterval: skipping it would leave more than the interval.
	KeyInterval
	// KeyOnly: a camera on keyframes only that is not idle in mode auto
	// (mode keyframes, or the ladder's keyframes rungs).
	KeyOnly
	keyReasons
)

// KeyReasons are all the reasons, for the metrics.
var KeyReasons = []KeyReason{KeyFirst, KeyWatch, KeyJudge, KeySuspect, KeyMoved, KeySettle, KeyInterval, KeyOnly}

// String returns the metric label of the reason.
func (r KeyReason) String() string {
	switch r {
	case KeyFirst:
		return "first"
	case KeyWatch:
		return "watch"
	case KeyJudge:
		return "judge"
	case KeySuspect:
		return "suspect"
	case KeyMoved:
		return "moved"
	case KeySettle:
		return "settle"
	case KeyInterval:
		return "interval"
	case KeyOnly:
		return "keyframes_only"
	}
	return "unknown"
}

// KeyCounts counts the keyframes that cameras decoded on their own, by
// reason: shared by an engine's gates, it says what its idle cameras
// cost and why. Safe for concurrent use.
type KeyCounts struct{ n [keyReasons]atomic.Uint64 }

// Count returns the keyframes decoded for reason r.
func (k *KeyCounts) Count(r KeyReason) uint64 {
	if k == nil || r < 0 || r >= keyReasons {
		return 0
	}
	return k.n[r].Load()
}

// CountKeys has the gate count the keyframes it has decoded on their own
// in k. Call it before the first Route.
func (g *Gate) CountKeys(k *KeyCounts) { g.keyCounts = k }
