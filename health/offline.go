package health

import (
	"time"

	"github.com/vigil-video/vigil/event"
)

// offline tracks a camera's camera_offline incident. Its fields are guarded
// by Camera.mu; the grace timer fires on its own goroutine.
type offline struct {
	down     bool      // no video since since
	since    time.Time // when video stopped (or the camera started)
	cause    string    // latest reason
	gen      uint64    // bumped at every down transition; stale timers check it
	timer    *time.Timer
	incident *event.Incident // open incident, nil when none
	closed   bool
}

// Down records that video stopped at since for reason ("" keeps the last
// one), arming the grace timer on the first transition.
func (h *Camera) Down(since time.Time, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := &h.off
	if o.closed {
		return
	}
	if reason != "" {
		o.cause = reason
		if o.incident != nil {
			o.incident.Cause = reason
		}
	}
	if o.down {
		return
	}
	o.down, o.since = true, since
	o.gen++
	gen := o.gen
	wait := h.cfg.OfflineGrace - time.Since(since)
	o.timer = time.AfterFunc(max(wait, 0), func() { h.offlineDue(gen) })
}

// offlineDue starts the incident if the camera is still down.
func (h *Camera) offlineDue(gen uint64) {
	h.mu.Lock()
	o := &h.off
	if o.closed || !o.down || o.gen != gen || o.incident != nil {
		h.mu.Unlock()
		return
	}
	cause := o.cause
	if cause == "" {
		cause = "unreachable"
	}
	now := time.Now()
	o.incident = h.newIncident(KindCameraOffline, cause, o.since, now)
	ev := event.New(event.TypeStart, *o.incident, now)
	h.mu.Unlock()
	h.cfg.Log.Warn("camera offline", "cause", cause, "since", ev.Data.StartedAt)
	h.cfg.Out.Started(KindCameraOffline, cause)
	h.cfg.Out.Publish(ev)
}

// Up records that video flows (at the given receipt time) and ends the
// open camera_offline incident, if any.
func (h *Camera) Up(at time.Time) {
	h.mu.Lock()
	o := &h.off
	if !o.down {
		h.mu.Unlock()
		return
	}
	o.down = false
	if o.timer != nil {
		o.timer.Stop()
	}
	inc := o.incident
	o.incident = nil
	h.mu.Unlock()
	if inc != nil {
		h.cfg.Log.Info("camera back online", "cause", inc.Cause)
		h.cfg.Out.Publish(ended(*inc, at))
	}
}

// Close stops the timer and ends the open incidents; the camera is going
// away. Nothing is raised after it.
func (h *Camera) Close(at time.Time) {
	h.mu.Lock()
	o := &h.off
	o.closed = true
	if o.timer != nil {
		o.timer.Stop()
	}
	inc := o.incident
	o.incident = nil
	h.mu.Unlock()
	if inc != nil {
		h.cfg.Out.Publish(ended(*inc, at))
	}
	h.endStall(at, "camera closed")
}
