package gate

import "sync/atomic"

// KeyReason says why a camera queued a keyframe to be decoded on its own
// (Gate.CountKeys): the reasons of an idle camera in mode auto, and
// KeyOnly.
type KeyReason int

// The reasons.
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
	// KeyOnly: a camera kept to keyframes that is not idle in mode auto
	// (mode keyframes; mode all, or a busy camera in mode auto, on the
	// ladder's keyframes rungs). An idle camera on those rungs counts
	// under its own reasons.
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

// KeyCounts counts the keyframes that cameras queued to be decoded on
// their own, by reason (a queue that drops one under overload still
// counted it): shared by an engine's gates, it says what its idle
// cameras cost and why. Safe for concurrent use.
type KeyCounts struct{ n [keyReasons]atomic.Uint64 }

// Count returns the keyframes queued for reason r.
func (k *KeyCounts) Count(r KeyReason) uint64 {
	if k == nil || r < 0 || r >= keyReasons {
		return 0
	}
	return k.n[r].Load()
}

// CountKeys has the gate count in k the keyframes it queues to be decoded
// on their own. Call it before the first Route.
func (g *Gate) CountKeys(k *KeyCounts) { g.keyCounts = k }
