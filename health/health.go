// Package health follows whether a camera is alive and analyzed, and
// raises the incidents an operator must act on: camera_offline (no video
// for the grace period: unreachable, refused, stalled, unsupported) and
// analysis_stalled (video flows but its pictures are not analyzed, or at
// under half the rate due). Both have one lifecycle: a start event, cause
// updates, an end event; UUIDv7 ids like the analyzer's incidents.
package health

import (
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/pause"
)

// Incident kinds.
const (
	// KindCameraOffline: the camera has had no video for its grace period;
	// data.cause is the latest failure's reason.
	KindCameraOffline = "camera_offline"
	// KindAnalysisStalled: the camera streams but is not analyzed (or far
	// below its rate); data.cause is one of the Cause values.
	KindAnalysisStalled = "analysis_stalled"
)

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
	// waiting in the queue, or, decoding keyframes only, no keyframe
	// comes).
	CauseNotProcessed = "not_processed"
	// CauseBelowRate: pictures are analyzed, at less than half the rate due.
	CauseBelowRate = "below_rate"
)

// Causes lists every analysis_stalled cause (for metric labels).
var Causes = []string{CauseDecodeErrors, CauseNoPictures, CauseTimestamps, CauseNotProcessed, CauseBelowRate}

// Output receives what the checks decide. Its methods are called from the
// checks' goroutines and must not block.
type Output interface {
	// Publish hands on an incident event.
	Publish(ev incident.Event)
	// Started counts an incident of kind started (with its cause).
	Started(kind, cause string)
	// CauseChanged counts an open incident of kind taking a new cause.
	CauseChanged(kind, cause string)
	// Stalled reports that analysis_stalled opened (true) or ended.
	Stalled(open bool)
	// UpdateHeld counts a cause change of an open incident of kind not
	// sent as its own update event (Config.UpdateInterval).
	UpdateHeld(kind string)
}

// Config configures a Camera.
type Config struct {
	// Camera is the camera's id, in events.
	Camera string
	// OfflineGrace is how long without video before camera_offline starts.
	OfflineGrace time.Duration
	// UpdateInterval: an open incident sends at most one update event per
	// interval; a newer cause waits, and the latest goes out when it
	// passes (config's health_update_interval). 0 sends every change.
	UpdateInterval time.Duration
	// AnalysisFPS is the configured analysis rate (the rate due is at most
	// the stream's frame rate).
	AnalysisFPS float64
	// Pause is the engine's process stall detector: the grace and the
	// analysis stall bounds restart from a stall's end. Nil sees none.
	Pause *pause.Detector
	// Log receives the camera's health log lines.
	Log *slog.Logger
	// Out receives the incidents.
	Out Output
}

// Camera follows one camera's health. Its methods are safe for concurrent
// use, but Check is called by one goroutine only (the engine's watch).
type Camera struct {
	cfg Config

	mu  sync.Mutex
	off offline
	an  analysis

	// order keeps a camera's events in order (a start before its end,
	// nothing after End): it is taken under mu and held while the events
	// decided there are handed to Out, after mu is released.
	order sync.Mutex
}

// emit hands events to Out in order; it is called with mu held and
// releases it (mu, then order: the one lock order).
func (h *Camera) emit(evs ...incident.Event) {
	h.order.Lock()
	h.mu.Unlock()
	defer h.order.Unlock()
	for _, ev := range evs {
		h.cfg.Out.Publish(ev)
	}
}

// New returns the health of a camera; it counts as down (without an
// incident until the grace period passes) until Up.
func New(cfg Config) *Camera {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Camera{cfg: cfg}
}

// Status is what the API shows of a camera's health.
type Status struct {
	// OfflineSince is set while the camera has no video.
	OfflineSince *time.Time
	// OfflineIncident is the open camera_offline incident's id.
	OfflineIncident string
	// Analysis is "ok" or "stalled"; AnalysisCause says why and
	// AnalysisIncident is the open analysis_stalled incident's id.
	Analysis, AnalysisCause, AnalysisIncident string
}

// Status returns the camera's health now.
func (h *Camera) Status() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := Status{Analysis: "ok"}
	if h.off.down {
		t := h.off.since.UTC()
		s.OfflineSince = &t
	}
	if h.off.incident != nil {
		s.OfflineIncident = h.off.incident.IncidentID
	}
	if h.an.cause != "" {
		s.Analysis, s.AnalysisCause = "stalled", h.an.cause
		s.AnalysisIncident = h.an.incident.IncidentID
	}
	return s
}

// newIncident returns a new incident about the camera's own health: no
// picture, so no box; the times are the host's.
func (h *Camera) newIncident(kind, cause string, since, now time.Time) *incident.Incident {
	return &incident.Incident{
		IncidentID:      uuid.Must(uuid.NewV7()).String(),
		Camera:          h.cfg.Camera,
		Kind:            kind,
		Cause:           cause,
		StartedAt:       since.UTC(),
		FrameTime:       now.UTC(),
		FrameTimeSource: incident.TimeReceipt,
		Score:           1,
		Boxes:           [][4]float64{},
	}
}

// ended returns the end event of inc at at.
func ended(inc incident.Incident, at time.Time) incident.Event {
	end := at.UTC()
	inc.EndedAt, inc.FrameTime = &end, end
	return incident.New(incident.TypeEnd, inc, time.Now())
}

// limiter holds an open incident's update events to one per
// Config.UpdateInterval: a newer cause waits, and the latest goes out when
// the interval passes, unless it is the one last sent (a reconnect storm
// changes the cause of camera_offline at every attempt).
type limiter struct {
	sent      time.Time // when the incident's last event went out
	sentCause string    // the cause it carried
	held      bool      // a newer cause waits
}

// opened records the incident's start event.
func (l *limiter) opened(now time.Time, cause string) {
	*l = limiter{sent: now, sentCause: cause}
}

// change reports whether an update with cause may go out now (and records
// it); if not, it is held and the caller counts it.
func (l *limiter) change(now time.Time, cause string, every time.Duration) bool {
	if cause == l.sentCause {
		l.held = false // back to what was sent: nothing to say
		return false
	}
	if now.Sub(l.sent) < every {
		l.held = true
		return false
	}
	l.sent, l.sentCause, l.held = now, cause, false
	return true
}

// due reports whether a held cause may go out now, and records it when it
// differs from the one last sent (else it is dropped: it came back).
func (l *limiter) due(now time.Time, cause string, every time.Duration) bool {
	if !l.held || now.Sub(l.sent) < every {
		return false
	}
	l.held = false
	if cause == l.sentCause {
		return false
	}
	l.sent, l.sentCause = now, cause
	return true
}

// wait is how long until a held cause may go out.
func (l *limiter) wait(now time.Time, every time.Duration) time.Duration {
	return max(l.sent.Add(every).Sub(now), 0)
}
