package health

import (
	"time"

	"github.com/vigil-video/vigil/event"
)

// Analysis health bounds.
const (
	// stallAfter is how long a streaming camera may go without an analyzed
	// picture (decoding everything) before it is reported; decoding
	// keyframes only, the bound is 2.5 keyframe intervals if longer.
	stallAfter = 5 * time.Second
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
	// DecodingAll says every frame is decoded now (not keyframes only);
	// FullRate that the overload ladder is at its full step.
	DecodingAll, FullRate bool
	// KeyframeInterval and FrameRate are the stream's (0: not known yet).
	KeyframeInterval time.Duration
	FrameRate        float64
}

// sample is Counts at one time.
type sample struct {
	at time.Time
	Counts
}

// analysis follows whether a camera's pictures are analyzed as they should
// be. The ring and allSince belong to Check's goroutine; cause, since and
// incident are guarded by Camera.mu.
type analysis struct {
	hist     [16]sample // a ring of the last samples, one per check
	n        int
	allSince time.Time // decoding every frame since (zero: not now)

	cause    string // "" while healthy
	incident *event.Incident
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
		h.endStall(now, "video stopped")
		return
	}
	h.mu.Lock()
	stalled := a.cause != ""
	h.mu.Unlock()

	// No picture analyzed for too long.
	bound := stallAfter
	if !all {
		if ki := p.KeyframeInterval; ki > 0 {
			bound = max(bound, ki*5/2)
		} else {
			bound = max(bound, 10*time.Second) // keyframe interval not known yet
		}
	}
	last := p.LastAnalyzed
	if last.Before(p.FlowSince) {
		last = p.FlowSince // a new stream is judged from its start
	}
	if now.Sub(last) > bound {
		// The cause is what the last seconds show, not the whole gap:
		// pictures decoded but skipped by the analysis rate just before
		// the stall must not read as "decoded, not due".
		was := a.ago(now, 2*Period)
		h.startStall(now, last, diagnose(was.Counts, cur.Counts), p.FrameRate)
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

	// Far below the rate due while decoding every frame at full rate.
	if all && p.FullRate && now.Sub(a.allSince) >= slowWindow {
		due := p.FrameRate
		if fps := h.cfg.AnalysisFPS; fps > 0 && fps < due {
			due = fps
		}
		was := a.ago(now, slowWindow)
		if el := cur.at.Sub(was.at).Seconds(); el > 0 && due > 0 {
			rate := float64(cur.Analyzed-was.Analyzed) / el
			if rate < slowRatio*due {
				h.startStall(now, was.at, CauseBelowRate, p.FrameRate)
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
		// A new cause of the open incident is an update event.
		a.incident.Cause = cause
		h.cfg.Log.Warn("analysis stalled", "cause", cause, "was", prev)
		h.cfg.Out.CauseChanged(KindAnalysisStalled, cause)
		h.emit(event.New(event.TypeUpdate, *a.incident, now))
		return
	}
	a.incident = h.newIncident(KindAnalysisStalled, cause, since, now)
	ev := event.New(event.TypeStart, *a.incident, now)
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
	a.cause, a.incident = "", nil
	h.cfg.Log.Info("analysis stall ended", "cause", inc.Cause, "why", why)
	h.cfg.Out.Stalled(false)
	h.emit(ended(inc, now))
}
