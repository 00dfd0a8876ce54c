package health

import (
	"time"

	"github.com/vigil-video/vigil/incident"
)

// Analysis health bounds. The silence allowed to a camera follows what its
// stream does: a picture is owed once a unit it can come from was queued
// for decoding (a keyframe, or any unit of a chain that has had its
// keyframe); before that, nothing is owed, whatever the decode mode, the
// GOP or the overload ladder skip.
const (
	// stallAfter is how long an owed picture may take (plus one analysis
	// interval at the lowest rate the ladder sets) before it is reported.
	stallAfter = 5 * time.Second
	// keyframeWait is the least silence allowed to a streaming camera that
	// owes no picture (no keyframe yet, or none queued while decoding
	// keyframes only); 5/2 of its longest recent keyframe interval when
	// more (twice that on the sparse rung, which skips every other one).
	keyframeWait = 30 * time.Second
	// causeHold: a new cause of an open incident is reported once the
	// diagnosis has named it for this long (no flapping between causes),
	// over the last causeWindow of samples.
	causeHold   = stallAfter
	causeWindow = stallAfter
	// ladderFPS is the analysis rate of the ladder's reduced steps.
	ladderFPS = 2
	// slowRatio: analyzing below this share of the due rate over slowWindow
	// is reported; recoverRatio of it ends the report. The window is longer
	// than stallAfter so that a camera analyzing nothing is reported as such.
	slowRatio, recoverRatio = 0.5, 0.8
	slowWindow              = 2 * stallAfter
	// Period is how often the engine calls Check.
	Period = time.Second
)

// Counts are a camera's running totals of access units, as Check reads
// them.
type Counts struct {
	Received, Processed, Decoded, Analyzed, DecodeErrors uint64
}

// Probe is what Check reads of a camera.
type Probe struct {
	// Streaming says that video flows, since FlowSince (the current
	// stream's first access unit).
	Streaming bool
	FlowSince time.Time
	// LastAnalyzed is when the last picture was analyzed (zero: never).
	LastAnalyzed time.Time
	// Counts are the running totals now.
	Counts Counts
	// LastQueued is when an access unit was last queued for decoding, and
	// LastKeyQueued when a keyframe was (zero: never).
	LastQueued, LastKeyQueued time.Time
	// DecodingAll says every frame is decoded now (not keyframes only);
	// FullRate that the overload ladder is at its full step, Sparse at
	// its lowest (every other keyframe skipped).
	DecodingAll, FullRate, Sparse bool
	// KeyframeInterval is the longest recent interval between keyframes
	// (0: fewer than two seen); FrameRate the stream's (0: not known yet).
	KeyframeInterval time.Duration
	FrameRate        float64
	// IdleEvery (mode auto, idle): the camera decodes 1 in IdleEvery of
	// the keyframes due every IdleKeyInterval (activity.keyframe_interval;
	// 0: every keyframe) on its overload rung; 0 or 1: each one due.
	IdleEvery       int
	IdleKeyInterval time.Duration
}

// sample is Counts at one time.
type sample struct {
	at time.Time
	Counts
}

// analysis follows whether a camera's pictures are analyzed as they should
// be. The ring, allSince, owed and next belong to Check's goroutine; cause
// and incident are guarded by Camera.mu.
type analysis struct {
	hist     [16]sample // a ring of the last samples, one per check
	n        int
	allSince time.Time // decoding every frame, and analyzed, since (zero: not decoding every frame)
	// owed is when a unit that should yield a picture was queued after
	// the last analyzed one (zero: none is owed).
	owed time.Time
	// next is a new cause the diagnosis has named since nextSince, not
	// reported yet (causeHold).
	next      string
	nextSince time.Time

	cause    string // "" while healthy
	incident *incident.Incident
	lim      limiter // the open incident's update events (under mu)
}

// ago returns the latest sample at least d old, or the oldest kept.
func (a *analysis) ago(now time.Time, d time.Duration) sample {
	size := len(a.hist)
	best := a.hist[(a.n-min(a.n, size)+size)%size]
	for i := 1; i <= min(a.n, size); i++ {
		s := a.hist[(a.n-i+size)%size]
		if now.Sub(s.at) >= d {
			return s
		}
		best = s
	}
	return best
}

// Check judges the camera's analysis at now and starts or ends its
// analysis_stalled incident. One goroutine calls it, every Period.
func (h *Camera) Check(now time.Time, p Probe) {
	a := &h.an
	cur := sample{at: now, Counts: p.Counts}
	a.hist[a.n%len(a.hist)] = cur
	a.n++

	all := p.Streaming && p.DecodingAll
	switch {
	case !all:
		a.allSince = time.Time{}
	case a.allSince.IsZero():
		a.allSince = now
	}
	if !p.Streaming {
		// camera_offline speaks for a camera without video.
		a.owed, a.next = time.Time{}, ""
		h.endStall(now, "video stopped")
		return
	}
	h.mu.Lock()
	stalled := a.cause != ""
	// A cause held by the update interval goes out once it passes.
	if was := a.lim.sentCause; stalled && a.lim.due(now, a.cause, h.cfg.UpdateInterval) {
		h.cfg.Log.Warn("analysis stalled", "cause", a.cause, "was", was)
		h.emit(incident.New(incident.TypeUpdate, *a.incident, now))
	} else {
		h.mu.Unlock()
	}

	last := p.LastAnalyzed
	if last.Before(p.FlowSince) {
		last = p.FlowSince // a new stream is judged from its start
	}
	// A picture is owed once a unit was queued after the last one, in a
	// chain that has had its keyframe in this stream: units before the
	// first keyframe, and units the gate skips (idle in mode auto, the
	// ladder's keyframe steps), owe nothing.
	chain := !p.LastKeyQueued.IsZero() && !p.LastKeyQueued.Before(p.FlowSince)
	if chain && p.LastQueued.After(last) {
		if !a.owed.After(last) {
			a.owed = p.LastQueued
		}
	} else {
		a.owed = time.Time{}
	}
	// A process stall is not the camera's: silence is counted from the
	// resume at the earliest, and the rate judged afresh from it.
	resumed := h.cfg.Pause.Resumed(now)
	if !a.allSince.IsZero() && resumed.After(a.allSince) {
		a.allSince = resumed
	}
	overdue := !a.owed.IsZero() && now.Sub(latest(a.owed, resumed)) > h.owedBound()
	// Owing nothing, a stream is still not silent forever: its keyframes
	// are due at the latest at its own interval.
	silent := now.Sub(latest(last, resumed)) > silenceBound(p)
	if overdue || silent {
		// The cause is what the last seconds show, not the whole gap, back
		// to the last unit queued at least (a keyframe, decoding
		// keyframes only).
		was := a.ago(now, max(causeWindow, now.Sub(p.LastQueued)))
		h.stall(now, last, diagnose(was.Counts, cur.Counts), p.FrameRate)
		return
	}

	// Pictures are analyzed again after none were: the stall ends, and the
	// rate is judged afresh from now on.
	h.mu.Lock()
	cause := a.cause
	h.mu.Unlock()
	if stalled && cause != CauseBelowRate && now.Sub(last) < 2*Period {
		h.endStall(now, "analysis resumed")
		if all {
			a.allSince = now
		}
		return
	}

	if all && !last.After(a.allSince) {
		a.allSince = now // the rate is judged from the chain's first picture
	}
	// Far below the rate due while decoding every frame at full rate (a
	// camera analyzing nothing for stallAfter is left to the owed picture,
	// whose cause says more).
	if all && p.FullRate && now.Sub(a.allSince) >= slowWindow && now.Sub(last) < stallAfter {
		due := p.FrameRate
		if fps := h.cfg.AnalysisFPS; fps > 0 && fps < due {
			due = fps
		}
		was := a.ago(now, slowWindow)
		if el := cur.at.Sub(was.at).Seconds(); el > 0 && due > 0 {
			rate := float64(cur.Analyzed-was.Analyzed) / el
			if rate < slowRatio*due {
				h.stall(now, was.at, CauseBelowRate, p.FrameRate)
				return
			}
			if stalled && rate < recoverRatio*due {
				return // not recovered yet
			}
		}
	}
	if stalled && now.Sub(last) < 2*Period {
		h.endStall(now, "analysis resumed")
	}
}

// latest returns the later of t and u.
func latest(t, u time.Time) time.Time {
	if u.After(t) {
		return u
	}
	return t
}

// owedBound is how long an owed picture may take: stallAfter, plus one
// analysis interval at the lowest rate the ladder sets.
func (h *Camera) owedBound() time.Duration {
	if fps := h.cfg.AnalysisFPS; fps > 0 {
		return stallAfter + time.Duration(float64(time.Second)/min(fps, ladderFPS))
	}
	return stallAfter
}

// silenceBound is how long a streaming camera may go without a picture
// while it owes none: keyframeWait, or 5/2 of its longest keyframe
// interval (of two on the sparse rung) when more, or, idle in mode auto
// on a rung that thins its keyframes, 3/2 of the time it chooses to go
// between two decoded (IdleEvery intervals, and a keyframe interval).
func silenceBound(p Probe) time.Duration {
	ki := p.KeyframeInterval
	bound := ki * 5 / 2
	if p.Sparse {
		bound *= 2
	}
	if p.IdleEvery > 1 {
		idle := time.Duration(p.IdleEvery)*max(p.IdleKeyInterval, ki) + ki
		bound = max(bound, idle*3/2)
	}
	return max(keyframeWait, bound)
}

// stall reports the diagnosed cause: it starts the incident, or changes
// the open one's cause once the diagnosis has held the new one for
// causeHold (Check's goroutine).
func (h *Camera) stall(now, since time.Time, cause string, fpsIn float64) {
	a := &h.an
	h.mu.Lock()
	open := a.cause
	h.mu.Unlock()
	switch {
	case open == "" || cause == open:
		a.next = ""
	case cause != a.next:
		a.next, a.nextSince = cause, now
		return
	case now.Sub(a.nextSince) < causeHold:
		return
	default:
		a.next = ""
	}
	h.startStall(now, since, cause, fpsIn)
}

// diagnose names the likely cause of no picture analyzed between two samples.
func diagnose(was, cur Counts) string {
	switch {
	case cur.DecodeErrors > was.DecodeErrors && cur.Decoded == was.Decoded:
		return CauseDecodeErrors
	case cur.Decoded > was.Decoded:
		return CauseTimestamps
	case cur.Processed > was.Processed:
		return CauseNoPictures
	}
	return CauseNotProcessed
}

// startStall opens the camera's analysis_stalled incident (once), or
// updates its cause.
func (h *Camera) startStall(now, since time.Time, cause string, fpsIn float64) {
	h.mu.Lock()
	a := &h.an
	if a.cause == cause || h.off.closed {
		h.mu.Unlock()
		return
	}
	prev := a.cause
	a.cause = cause
	if prev != "" {
		// A new cause of the open incident is an update event, at most one
		// per UpdateInterval (the latest cause then, from Check).
		h.cfg.Out.CauseChanged(KindAnalysisStalled, cause)
		a.incident.Cause = cause
		was := a.lim.sentCause
		if !a.lim.change(now, cause, h.cfg.UpdateInterval) {
			h.cfg.Out.UpdateHeld(KindAnalysisStalled)
			h.mu.Unlock()
			return
		}
		h.cfg.Log.Warn("analysis stalled", "cause", cause, "was", was)
		h.emit(incident.New(incident.TypeUpdate, *a.incident, now))
		return
	}
	a.incident = h.newIncident(KindAnalysisStalled, cause, since, now)
	a.lim.opened(now, cause)
	ev := incident.New(incident.TypeStart, *a.incident, now)
	h.cfg.Log.Warn("analysis stalled", "cause", cause, "since", since.UTC(), "fps_in", fpsIn)
	h.cfg.Out.Stalled(true)
	h.cfg.Out.Started(KindAnalysisStalled, cause)
	h.emit(ev)
}

// endStall ends the open analysis_stalled incident, if any.
func (h *Camera) endStall(now time.Time, why string) {
	h.mu.Lock()
	a := &h.an
	if a.cause == "" {
		h.mu.Unlock()
		return
	}
	inc := *a.incident
	a.cause, a.incident, a.next = "", nil, ""
	h.cfg.Log.Info("analysis stall ended", "cause", inc.Cause, "why", why)
	h.cfg.Out.Stalled(false)
	h.emit(ended(inc, now))
}
