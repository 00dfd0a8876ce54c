package health

import (
	"time"

	"github.com/vigil-video/vigil/incident"
)

// offline tracks a camera's camera_offline incident. Its fields are guarded
// by Camera.mu; the grace timer fires on its own goroutine.
type offline struct {
	down     bool      // no video since since
	playing  bool      // the RTSP session plays (Playing): it bounds the wait itself
	since    time.Time // when video stopped (or the camera started)
	cause    string    // latest reason
	gen      uint64    // bumped at every down transition; stale timers check it
	timer    *time.Timer
	incident *incident.Incident // open incident, nil when none
	closed   bool
	lim      limiter     // the open incident's update events
	limTimer *time.Timer // sends a held cause when the interval passes
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
	if reason != "" && reason != o.cause {
		o.cause = reason
		if o.incident != nil {
			// A new cause of the open incident is an update event, at most
			// one per UpdateInterval (the latest cause then).
			o.incident.Cause = reason
			h.cfg.Out.CauseChanged(KindCameraOffline, reason)
			now := time.Now()
			if o.lim.change(now, reason, h.cfg.UpdateInterval) {
				h.emit(incident.New(incident.TypeUpdate, *o.incident, now))
				h.mu.Lock() // Down holds mu until it returns
			} else {
				h.cfg.Out.UpdateHeld(KindCameraOffline)
			}
			if inc := o.incident; inc != nil && o.lim.held && o.limTimer == nil {
				o.limTimer = time.AfterFunc(o.lim.wait(now, h.cfg.UpdateInterval), func() { h.offlineUpdateDue(inc) })
			}
		}
	}
	if o.down {
		return
	}
	o.down, o.since = true, since
	o.gen++
	gen := o.gen
	wait := h.cfg.OfflineGrace - h.cfg.Pause.Since(time.Now(), since)
	o.timer = time.AfterFunc(max(wait, 0), func() { h.offlineDue(gen) })
}

// Playing says whether the camera's RTSP session plays (PLAY answered,
// the session not ended). A session that plays without video yet is
// waiting for its first keyframe, a GOP at most (12 s and more on
// long-GOP cameras joined mid-GOP), and bounds that wait itself: it ends
// at stall_timeout without packets, at connect_timeout without a
// keyframe. camera_offline waits for that end rather than open at the
// grace and close at the keyframe; the end opens it at once if the
// grace has passed since video stopped.
func (h *Camera) Playing(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := &h.off
	was := o.playing
	o.playing = on
	if !was || on || o.closed || !o.down || o.incident != nil {
		return
	}
	o.gen++
	gen := o.gen
	if o.timer != nil {
		o.timer.Stop()
	}
	wait := h.cfg.OfflineGrace - h.cfg.Pause.Since(time.Now(), o.since)
	o.timer = time.AfterFunc(max(wait, 0), func() { h.offlineDue(gen) })
}

// offlineDue starts the incident if the camera is still down.
func (h *Camera) offlineDue(gen uint64) {
	h.mu.Lock()
	o := &h.off
	if o.closed || !o.down || o.gen != gen || o.incident != nil || o.playing {
		// While the session plays, its own deadlines bound the wait for
		// video (Playing): its end starts the grace's remainder.
		h.mu.Unlock()
		return
	}
	now := time.Now()
	if wait := h.cfg.OfflineGrace - h.cfg.Pause.Since(now, o.since); wait > 0 {
		// The process stalled since video stopped: the grace restarts
		// from the resume, so that a stream that flows gets to say so.
		o.timer = time.AfterFunc(wait, func() { h.offlineDue(gen) })
		h.mu.Unlock()
		return
	}
	cause := o.cause
	if cause == "" {
		cause = "unreachable"
	}
	o.incident = h.newIncident(KindCameraOffline, cause, o.since, now)
	o.lim.opened(now, cause)
	ev := incident.New(incident.TypeStart, *o.incident, now)
	h.cfg.Log.Warn("camera offline", "cause", cause, "since", ev.Data.StartedAt)
	h.cfg.Out.Started(KindCameraOffline, cause)
	h.emit(ev)
}

// offlineUpdateDue sends the held cause of inc if it is still open.
func (h *Camera) offlineUpdateDue(inc *incident.Incident) {
	h.mu.Lock()
	o := &h.off
	o.limTimer = nil
	if o.closed || o.incident != inc {
		h.mu.Unlock()
		return
	}
	now := time.Now()
	if !o.lim.due(now, inc.Cause, h.cfg.UpdateInterval) {
		h.mu.Unlock()
		return
	}
	h.emit(incident.New(incident.TypeUpdate, *inc, now))
}

// stopUpdates stops the timer of a held cause (with mu held).
func (o *offline) stopUpdates() {
	if o.limTimer != nil {
		o.limTimer.Stop()
		o.limTimer = nil
	}
}

// Up records that video flows (at the given receipt time) and ends the
// open camera_offline incident, if any. It never blocks: it runs on the
// camera's RTP reader, and the end event is handed on by its own
// goroutine (at most one per outage).
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
	o.stopUpdates()
	h.mu.Unlock()
	if inc != nil {
		h.cfg.Log.Info("camera back online", "cause", inc.Cause)
		go func() {
			h.mu.Lock()
			h.emit(ended(*inc, at))
		}()
	}
}

// End stops the timers and ends the open incidents at at; the camera is going
// away. Nothing is raised after it.
func (h *Camera) End(at time.Time) {
	h.mu.Lock()
	o := &h.off
	o.closed = true
	if o.timer != nil {
		o.timer.Stop()
	}
	o.stopUpdates()
	var evs []incident.Event
	if inc := o.incident; inc != nil {
		evs = append(evs, ended(*inc, at))
	}
	o.incident = nil
	if inc := h.an.incident; inc != nil {
		h.cfg.Log.Info("analysis stall ended", "cause", inc.Cause, "why", "camera closed")
		evs = append(evs, ended(*inc, at))
		h.an.cause, h.an.incident = "", nil
		h.cfg.Out.Stalled(false)
	}
	h.emit(evs...)
}
