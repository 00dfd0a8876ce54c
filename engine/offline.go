package engine

import (
	"time"

	"github.com/google/uuid"

	"github.com/vigil-video/vigil/event"
)

// KindCameraOffline is the incident kind of a camera that is unreachable or
// stalled past its grace period; data.cause carries the reason.
const KindCameraOffline = "camera_offline"

// offline tracks a camera's camera_offline incident. Its fields are guarded
// by camera.mu; the timer fires on its own goroutine.
type offline struct {
	down     bool      // no video since downSince
	since    time.Time // when video stopped (or the camera started)
	cause    string    // latest reason
	gen      uint64    // bumped at every down transition; stale timers check it
	timer    *time.Timer
	incident *event.Incident // open incident, nil when none
	closed   bool
}

// healthIncident returns a new incident about the camera's own health
// (camera_offline, analysis_stalled): no picture, so no box; the times are
// the host's; its id is a UUIDv7 like the analyzer's incidents.
func (c *camera) healthIncident(kind, cause string, since, now time.Time) *event.Incident {
	return &event.Incident{
		IncidentID:      uuid.Must(uuid.NewV7()).String(),
		Camera:          c.id,
		Kind:            kind,
		Cause:           cause,
		StartedAt:       since.UTC(),
		FrameTime:       now.UTC(),
		FrameTimeSource: event.TimeReceipt,
		Score:           1,
		Boxes:           [][4]float64{},
	}
}

// markDown records that video stopped at since for reason, arming the
// grace timer on the first transition.
func (c *camera) markDown(since time.Time, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := &c.off
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
	wait := c.cfg.OfflineGrace - time.Since(since)
	o.timer = time.AfterFunc(max(wait, 0), func() { c.offlineDue(gen) })
}

// offlineDue starts the incident if the camera is still down.
func (c *camera) offlineDue(gen uint64) {
	c.mu.Lock()
	o := &c.off
	if o.closed || !o.down || o.gen != gen || o.incident != nil {
		c.mu.Unlock()
		return
	}
	cause := o.cause
	if cause == "" {
		cause = "unreachable"
	}
	now := time.Now().UTC()
	inc := c.healthIncident(KindCameraOffline, cause, o.since, now)
	o.incident = inc
	ev := event.New(event.TypeStart, *inc, now)
	c.mu.Unlock()
	c.log.Warn("camera offline", "cause", cause, "since", inc.StartedAt)
	c.e.metrics.incidents.WithLabelValues(c.id, KindCameraOffline).Inc()
	c.e.publish(ev)
}

// markUp records that video flows (at the given receipt time) and ends the
// open incident, if any.
func (c *camera) markUp(at time.Time) {
	c.mu.Lock()
	o := &c.off
	if !o.down {
		c.mu.Unlock()
		return
	}
	o.down = false
	if o.timer != nil {
		o.timer.Stop()
	}
	ev, ok := c.endOfflineLocked(at)
	c.mu.Unlock()
	if ok {
		c.log.Info("camera back online", "cause", ev.Data.Cause)
		c.e.publish(ev)
	}
}

// closeOffline stops the timer and ends the open incident; the camera is
// going away.
func (c *camera) closeOffline(at time.Time) {
	c.mu.Lock()
	o := &c.off
	o.closed = true
	if o.timer != nil {
		o.timer.Stop()
	}
	ev, ok := c.endOfflineLocked(at)
	c.mu.Unlock()
	if ok {
		c.e.publish(ev)
	}
}

func (c *camera) endOfflineLocked(at time.Time) (event.Event, bool) {
	o := &c.off
	if o.incident == nil {
		return event.Event{}, false
	}
	inc := *o.incident
	o.incident = nil
	end := at.UTC()
	inc.EndedAt = &end
	inc.FrameTime = end
	return event.New(event.TypeEnd, inc, time.Now()), true
}
