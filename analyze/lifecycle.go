package analyze

import (
	"time"

	"github.com/google/uuid"
)

// lifecycle is the life of one incident of one kind (and zone, and
// cause), shared by every detector so that all kinds behave alike:
//
//   - a candidate opens on a frame where the condition is over its start
//     threshold ("enter"), survives frames over its lower keep threshold
//     ("stay", the hysteresis) and pauses up to a gap tolerance; a strict
//     one (frozen) is dropped by the first frame that does not stay;
//   - the incident starts when the candidate has lasted minDuration
//     (started_at is the candidate's first frame);
//   - while open, frames that stay produce updates at most every update;
//   - it ends when the condition has been below its keep threshold for
//     quiet (ended_at is the last frame that stayed).
//
// The incident id (UUID v7) is stable from start to end.
type lifecycle struct {
	kind, zone, cause string
	minDuration       time.Duration
	quiet             time.Duration
	update            time.Duration
	// strict drops a candidate on the first frame that does not stay:
	// for a condition that one frame disproves (a frozen picture is every
	// picture identical; one that changed ends it), where the others
	// tolerate a frame under the threshold (noise, a flicker).
	strict bool

	cand      bool
	candStart time.Time
	candLast  time.Time

	open       bool
	id         string
	startedAt  time.Time
	lastActive time.Time
	lastUpdate time.Time
	maxScore   float64

	best   float64 // score of the last "best" evidence frame
	bestAt time.Time
}

// step advances the incident by one frame at t. from is when the
// condition began, if the detector knows it is earlier than t (a frozen
// picture is frozen since the previous frame); zero means t. It returns
// the phase to report, if any.
func (l *lifecycle) step(t, from time.Time, enter, stay bool, score float64, gapTol time.Duration) (Phase, bool) {
	stay = stay || enter
	if l.open {
		if stay {
			l.lastActive = t
			l.maxScore = max(l.maxScore, score)
			if t.Sub(l.lastUpdate) >= l.update {
				l.lastUpdate = t
				return PhaseUpdate, true
			}
			return 0, false
		}
		if t.Sub(l.lastActive) >= l.quiet {
			l.open = false
			return PhaseEnd, true
		}
		return 0, false
	}
	if l.cand && t.Sub(l.candLast) > gapTol {
		l.cand = false
	}
	if !stay && l.strict {
		l.cand = false
	}
	if !stay || !(l.cand || enter) {
		return 0, false
	}
	if !l.cand {
		l.cand = true
		l.candStart = t
		if !from.IsZero() && from.Before(t) {
			l.candStart = from
		}
	}
	l.candLast = t
	if t.Sub(l.candStart) < l.minDuration {
		return 0, false
	}
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	l.cand, l.open = false, true
	l.id = id.String()
	l.startedAt = l.candStart
	l.lastActive, l.lastUpdate = t, t
	l.maxScore, l.best, l.bestAt = score, score, t
	return PhaseStart, true
}

// end closes an open incident (shutdown, a gap in frame times) and reports
// whether it was open; a candidate is dropped.
func (l *lifecycle) end() bool {
	l.cand = false
	if !l.open {
		return false
	}
	l.open = false
	return true
}

// active reports a candidate or an open incident.
func (l *lifecycle) active() bool { return l.cand || l.open }

// betterEvidence reports whether a frame of score at t is worth a new
// "best" snapshot: 20% above the last one and at least bestEvery later.
func (l *lifecycle) betterEvidence(t time.Time, score float64) bool {
	if !l.open || score <= l.best*1.2 || t.Sub(l.bestAt) < bestEvery {
		return false
	}
	l.best, l.bestAt = score, t
	return true
}

// bestEvery is the shortest time between two "best" snapshots of an
// incident.
const bestEvery = 2 * time.Second
