package engine

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/pipeline"
	"github.com/vigil-video/vigil/sched"
)

// The worker side of a camera: what the one worker serving its queue runs.

// process decodes one access unit and analyzes the picture when the
// analysis rate asks for it. Only one worker runs it at a time per camera.
func (c *camera) process(u workUnit) {
	meta := u.Meta
	c.n.processed.Add(1)
	lag := time.Since(meta.received)
	c.lagNano.Store(int64(lag))
	// The ladder judges the wait in the camera's queue: for a live unit it
	// is the lag, while a GOP replayed on a wake-up was received up to a
	// GOP ago by design but queued just now.
	wait := time.Since(meta.queued)
	defer c.observeLoad(wait)
	// A decoder lent for a keyframe goes back to the pool once the
	// picture's evidence and snapshots are taken.
	defer c.wk.pipe.Release()
	if meta.gen != c.wk.gen {
		c.wk.gen = meta.gen
		codec := decode.H264
		if meta.codec == ingest.H265 {
			codec = decode.H265
		}
		if err := c.wk.pipe.Reset(codec); err != nil {
			c.log.Error("decoder unavailable", "error", err)
			c.setError(err)
			return
		}
	}
	if meta.droppable && !meta.alone && c.wk.pipe.Skip(meta.pts) {
		// No picture refers to it and the analysis would not take it.
		c.n.unneeded.Add(1)
		return
	}
	var r pipeline.Result
	if meta.alone {
		r = c.wk.pipe.ProcessKeyframe(u.Data, meta.pts, meta.received)
	} else {
		r = c.wk.pipe.Process(u.Data, meta.pts, meta.received)
	}
	c.e.metrics.DecodeSeconds.Observe(r.DecodeTime.Seconds())
	if r.Err != nil {
		c.m.DecodeErrors.Inc()
		c.n.decodeErrors.Add(1)
		c.setError(r.Err)
		return
	}
	if r.Decoded {
		c.m.Decoded.Inc()
		c.n.decoded.Add(1)
	}
	if !r.Analyzed {
		return
	}
	c.m.Analyzed.Inc()
	c.n.analyzed.Add(1)
	c.lastAnalyzed.Store(time.Now().UnixNano())
	c.countAnalyzed(time.Now())
	c.serveSnapshots()
	c.e.metrics.AnalysisSeconds.Observe((r.ScaleTime + r.AnalyzeTime).Seconds())
	frameTime, src := meta.received, incident.TimeReceipt
	if !meta.capture.IsZero() {
		frameTime, src = meta.capture, incident.TimeRTCP
	}
	c.keepShots(r.Shots)
	for _, tr := range r.Transitions {
		c.emit(tr, r.Now, frameTime, src)
	}
	// The analyzer alone knows whether it follows something that needs
	// every frame (motion, zones); a tamper incident does not, so a covered
	// camera goes back to keyframes in mode auto.
	c.gate.Analyzed(meta.pts, c.wk.pipe.Active())
	c.gate.Watch(c.wk.pipe.Watching())
	c.gate.Hold(c.wk.pipe.Pending())
}

// observeLoad feeds the overload ladder after each unit and sets its step
// (c.load), which the gate and the pipeline follow: full rate, a lower
// analysis rate without inference, keyframes only, every other keyframe.
func (c *camera) observeLoad(wait time.Duration) {
	var drops uint64
	for r := range c.drops {
		if sched.DropReason(r) != sched.DropClosed {
			drops += c.drops[r].Load()
		}
	}
	dropped := drops > c.wk.dropsSeen
	c.wk.dropsSeen = drops
	fill := float64(c.queue.Len()) / float64(c.cfg.QueueFrames)
	auto := c.cfg.DecodeMode == config.ModeAuto
	busy := auto && (c.gate.DecodingAll() || c.wk.pipe.Active())
	c.wk.ladder.Busy(busy)
	c.wk.ladder.Idle(auto && !busy)
	step := c.wk.ladder.Observe(time.Now(), wait, fill, dropped)
	if !c.load.Set(step) {
		return
	}
	c.log.Warn("overload step changed", "step", step.String(), "queue_wait", wait, "queue_fill", fill, "dropped", dropped)
}

// countAnalyzed keeps the analysis rate over the last full second.
func (c *camera) countAnalyzed(now time.Time) {
	if c.wk.fpsStart.IsZero() {
		c.wk.fpsStart = now
	}
	c.wk.fpsAnalyzed++
	if el := now.Sub(c.wk.fpsStart); el >= time.Second {
		c.analyzedFPS.Store(math.Float64bits(float64(c.wk.fpsAnalyzed) / el.Seconds()))
		c.wk.fpsStart, c.wk.fpsAnalyzed = now, 0
	}
}

// emit turns an analyzer transition into an event. Times of the analysis
// clock are mapped to the frame's capture clock by their offset.
func (c *camera) emit(tr analyze.Transition, now, frameTime time.Time, src string) {
	off := frameTime.Sub(now)
	inc := incident.Incident{
		IncidentID:      tr.IncidentID,
		Camera:          c.id,
		Kind:            tr.Kind,
		StartedAt:       tr.StartedAt.Add(off).UTC(),
		FrameTime:       frameTime.UTC(),
		FrameTimeSource: src,
		Score:           tr.Score,
		Boxes:           make([][4]float64, len(tr.Boxes)),
	}
	for i, b := range tr.Boxes {
		inc.Boxes[i] = [4]float64(b)
	}
	inc.FrameWidth, inc.FrameHeight = c.wk.pipe.PictureSize()
	inc.Objects = eventObjects(tr.Objects, inc.FrameWidth, inc.FrameHeight)
	inc.Zone, inc.Cause = tr.Zone, tr.Cause
	inc.Evidence = c.evidenceFor(tr.IncidentID, tr.Phase == analyze.PhaseEnd)
	typ := incident.TypeUpdate
	switch tr.Phase {
	case analyze.PhaseStart:
		typ = incident.TypeStart
		c.e.metrics.Incidents.WithLabelValues(c.id, tr.Kind).Inc()
	case analyze.PhaseEnd:
		typ = incident.TypeEnd
		end := tr.EndedAt.Add(off).UTC()
		inc.EndedAt = &end
	}
	c.e.publish(incident.New(typ, inc, time.Now()))
}

// eventObjects maps the analyzer's objects to an event's, with pixel
// boxes in a w×h picture when its size is known.
func eventObjects(objs []analyze.Object, w, h int) []incident.Object {
	if len(objs) == 0 {
		return nil
	}
	out := make([]incident.Object, len(objs))
	for i, o := range objs {
		out[i] = incident.Object{Label: o.Label, Score: math.Round(o.Score*1e4) / 1e4, Box: [4]float64(o.Box), TrackID: o.ID}
		if w > 0 && h > 0 {
			fw, fh := float64(w), float64(h)
			pb := [4]int{
				max(int(math.Round(o.Box[0]*fw)), 0), max(int(math.Round(o.Box[1]*fh)), 0),
				min(int(math.Round((o.Box[0]+o.Box[2])*fw)), w), min(int(math.Round((o.Box[1]+o.Box[3])*fh)), h),
			}
			out[i].PixelBox = &pb
		}
	}
	return out
}

// keepShots encodes and stores the evidence snapshots of the frame just
// analyzed (worker side).
func (c *camera) keepShots(shots []analyze.Shot) {
	store := c.e.opts.Evidence
	if store == nil || len(shots) == 0 {
		return
	}
	for _, s := range shots {
		jpg, err := c.wk.pipe.EvidenceJPEG(s.Boxes)
		if err == nil {
			var ev incident.Evidence
			if ev, err = store.Save(c.id, s.IncidentID, s.Role, jpg, time.Now()); err == nil {
				c.wk.evidence[s.IncidentID] = appendEvidence(c.wk.evidence[s.IncidentID], ev)
				continue
			}
		}
		c.e.metrics.EvidenceErrors.Inc()
		c.log.Warn("evidence not kept", "incident_id", s.IncidentID, "kind", s.Kind, "role", s.Role, "error", err)
	}
}

// appendEvidence replaces the snapshot of ev's role or adds it.
func appendEvidence(list []incident.Evidence, ev incident.Evidence) []incident.Evidence {
	for i := range list {
		if list[i].Role == ev.Role {
			list[i] = ev
			return list
		}
	}
	return append(list, ev)
}

// evidenceFor returns the snapshots an incident's event carries: every one
// kept as files; embedded ones only in the first event after they were
// taken. The incident's entry goes with its end.
func (c *camera) evidenceFor(id string, end bool) []incident.Evidence {
	list := c.wk.evidence[id]
	if end {
		delete(c.wk.evidence, id)
	}
	if len(list) == 0 {
		return nil
	}
	out := slices.Clone(list)
	if !end && list[0].JPEGBase64 != "" {
		c.wk.evidence[id] = list[:0]
	}
	return out
}

// flush ends open incidents; called after the workers stopped.
func (c *camera) flush(now time.Time) {
	for _, tr := range c.wk.pipe.Flush(now) {
		c.emit(tr, now, now, incident.TimeReceipt)
	}
}

// serveSnapshots answers pending snapshot requests with the frame just
// analyzed (worker side).
func (c *camera) serveSnapshots() {
	for {
		select {
		case req := <-c.snapReq:
			jpg, err := c.wk.pipe.SnapshotJPEG(nil)
			req <- snapResult{jpg, err}
		default:
			return
		}
	}
}

// snapshot returns the next analyzed frame as a JPEG, waiting up to d.
func (c *camera) snapshot(ctx context.Context, d time.Duration) ([]byte, error) {
	req := make(chan snapResult, 1)
	select {
	case c.snapReq <- req:
	default:
		return nil, errors.New("too many snapshot requests")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-req:
		return r.jpg, r.err
	case <-t.C:
		return nil, errors.New("no frame analyzed within " + d.String())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
