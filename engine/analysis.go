package engine

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-video/vigil/event"
	"github.com/vigil-video/vigil/sched"
)

// KindAnalysisStalled is the incident kind of a camera that streams but is
// not analyzed (or far below its rate); data.cause says what was seen:
// CauseDecodeErrors, CauseNoPictures, CauseTimestamps, CauseNotProcessed
// or CauseBelowRate.
const KindAnalysisStalled = "analysis_stalled"

// Causes of an analysis_stalled incident.
const (
	// CauseDecodeErrors: the decoder rejects the camera's access units.
	CauseDecodeErrors = "decode_errors"
	// CauseNoPictures: access units are decoded but yield no picture.
	CauseNoPictures = "no_pictures"
	// CauseTimestamps: pictures are decoded but none is due for analysis,
	// because the stream's timestamps do not advance.
	CauseTimestamps = "timestamps"
	// CauseNotProcessed: access units arrive but are not decoded (dropped,
	// or waiting in the queue).
	CauseNotProcessed = "not_processed"
	// CauseBelowRate: pictures are analyzed, at less than half the rate due.
	CauseBelowRate = "below_rate"
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
	// watchPeriod is the health check's period.
	watchPeriod = time.Second
)

// counts are a camera's running totals that the health check reads.
type counts struct {
	received, processed, decoded, analyzed, decodeErrors atomic.Uint64
}

// countsSample is counts at one time.
type countsSample struct {
	at                                                   time.Time
	received, processed, decoded, analyzed, decodeErrors uint64
}

func (n *counts) sample(at time.Time) countsSample {
	return countsSample{at: at, received: n.received.Load(), processed: n.processed.Load(),
		decoded: n.decoded.Load(), analyzed: n.analyzed.Load(), decodeErrors: n.decodeErrors.Load()}
}

// analysisHealth follows whether one camera's pictures are analyzed as
// they should be. Only the engine's watch goroutine calls check; the API
// reads through state.
type analysisHealth struct {
	hist     [16]countsSample // a ring of the last samples, one per check
	n        int
	allSince time.Time // decoding every frame since (zero: not now)

	mu       sync.Mutex // guards the fields below
	cause    string     // "" while healthy
	since    time.Time
	incident *event.Incident
}

// healthState is what the API shows of the analysis health.
func (h *analysisHealth) state() (state, cause, incident string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cause == "" {
		return "ok", "", ""
	}
	if h.incident != nil {
		incident = h.incident.IncidentID
	}
	return "stalled", h.cause, incident
}

// ago returns the latest sample at least d old, or the oldest kept.
func (h *analysisHealth) ago(now time.Time, d time.Duration) countsSample {
	size := len(h.hist)
	best := h.hist[(h.n-min(h.n, size)+size)%size]
	for i := 1; i <= min(h.n, size); i++ {
		s := h.hist[(h.n-i+size)%size]
		if now.Sub(s.at) >= d {
			return s
		}
		best = s
	}
	return best
}

// checkAnalysis judges the camera's analysis at now and starts or ends its
// analysis_stalled incident. Called by the engine's watch goroutine only.
func (c *camera) checkAnalysis(now time.Time) {
	h := &c.health
	cur := c.n.sample(now)
	h.hist[h.n%len(h.hist)] = cur
	h.n++

	streaming := c.flowing.Load()
	flowSince := time.Unix(0, c.flowSince.Load())
	step := sched.Step(c.step.Load())
	all := streaming && c.gate.DecodingAll()
	switch {
	case !all:
		h.allSince = time.Time{}
	case h.allSince.IsZero():
		h.allSince = now
	}
	if !streaming {
		// camera_offline speaks for a camera without video.
		c.endStall(now, "video stopped")
		return
	}
	h.mu.Lock()
	stalled := h.cause != ""
	h.mu.Unlock()

	// No picture analyzed for too long.
	bound := stallAfter
	if !all {
		if ki := c.sess.Stats().KeyframeInterval; ki > 0 {
			bound = max(bound, ki*5/2)
		} else {
			bound = max(bound, 10*time.Second) // keyframe interval not known yet
		}
	}
	last := time.Unix(0, c.lastAnalyzed.Load())
	if last.Before(flowSince) {
		last = flowSince // a new stream is judged from its start
	}
	if now.Sub(last) > bound {
		// The cause is what the last seconds show, not the whole gap:
		// pictures decoded but skipped by the analysis rate just before
		// the stall must not read as "decoded, not due".
		was := h.ago(now, 2*watchPeriod)
		c.startStall(now, last, diagnose(was, cur))
		return
	}

	// Far below the rate due while decoding every frame at full rate.
	if all && step == sched.StepFull && now.Sub(h.allSince) >= slowWindow {
		due := c.sess.Stats().FrameRate
		if fps := c.cfg.AnalysisFPS; fps > 0 && fps < due {
			due = fps
		}
		was := h.ago(now, slowWindow)
		if el := cur.at.Sub(was.at).Seconds(); el > 0 && due > 0 {
			rate := float64(cur.analyzed-was.analyzed) / el
			if rate < slowRatio*due {
				c.startStall(now, was.at, CauseBelowRate)
				return
			}
			if stalled && rate < recoverRatio*due {
				return // not recovered yet
			}
		}
	}
	if stalled && now.Sub(last) < 2*watchPeriod {
		c.endStall(now, "analysis resumed")
	}
}

// diagnose names the likely cause of no picture analyzed between two samples.
func diagnose(was, cur countsSample) string {
	switch {
	case cur.decodeErrors > was.decodeErrors && cur.decoded == was.decoded:
		return CauseDecodeErrors
	case cur.decoded > was.decoded:
		return CauseTimestamps
	case cur.processed > was.processed:
		return CauseNoPictures
	}
	return CauseNotProcessed
}

// startStall opens the camera's analysis_stalled incident (once), or
// updates its cause.
func (c *camera) startStall(now, since time.Time, cause string) {
	h := &c.health
	h.mu.Lock()
	if h.cause == cause {
		h.mu.Unlock()
		return
	}
	prev := h.cause
	h.cause = cause
	if prev != "" {
		h.incident.Cause = cause
		h.mu.Unlock()
		c.log.Warn("analysis stalled", "cause", cause, "was", prev)
		return
	}
	h.since = since
	inc := c.healthIncident(KindAnalysisStalled, cause, since, now)
	h.incident = inc
	ev := event.New(event.TypeStart, *inc, now)
	h.mu.Unlock()
	c.log.Warn("analysis stalled", "cause", cause, "since", since.UTC(), "fps_in", c.sess.Stats().FrameRate)
	c.e.metrics.analysisStalled.WithLabelValues(c.id).Set(1)
	c.e.metrics.analysisStalls.WithLabelValues(c.id, cause).Inc()
	c.e.metrics.incidents.WithLabelValues(c.id, KindAnalysisStalled).Inc()
	c.e.publish(ev)
}

// endStall ends the open analysis_stalled incident, if any.
func (c *camera) endStall(now time.Time, why string) {
	h := &c.health
	h.mu.Lock()
	if h.cause == "" {
		h.mu.Unlock()
		return
	}
	inc := *h.incident
	h.cause, h.incident = "", nil
	h.mu.Unlock()
	end := now.UTC()
	inc.EndedAt, inc.FrameTime = &end, end
	c.log.Info("analysis stall ended", "cause", inc.Cause, "why", why)
	c.e.metrics.analysisStalled.WithLabelValues(c.id).Set(0)
	c.e.publish(event.New(event.TypeEnd, inc, now))
}

// watch runs every camera's health check until stop is closed.
type watch struct {
	stop chan struct{}
	done chan struct{}
}

func startWatch(e *Engine, log *slog.Logger) *watch {
	w := &watch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(watchPeriod)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case now := <-t.C:
				for _, c := range e.snapshot() {
					c.checkAnalysis(now)
				}
			}
		}
	}()
	log.Debug("analysis watch started", "period", watchPeriod)
	return w
}

// close stops the watch and waits for it.
func (w *watch) close() {
	if w == nil {
		return
	}
	close(w.stop)
	<-w.done
}
