package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/event"
	"github.com/vigil-video/vigil/gate"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/metrics"
	"github.com/vigil-video/vigil/pipeline"
	"github.com/vigil-video/vigil/sched"
)

// The worker pool's types: cameras own queues of access units with their
// metadata; no interface boxing on the way.
type (
	workPool  = sched.Pool[*camera, auMeta]
	workQueue = sched.Queue[*camera, auMeta]
	workUnit  = sched.Unit[auMeta]
)

// auMeta travels with an access unit through the camera's queue.
type auMeta struct {
	gen      uint64 // stream generation: a new one resets decoder and analyzer
	codec    ingest.Codec
	pts      time.Duration
	capture  time.Time
	received time.Time
	queued   time.Time // when the unit entered the camera's queue
}

// camera is one configured camera: its session (ingest goroutines), its
// queue, and its worker-side state, which only the one worker serving the
// camera's queue touches.
type camera struct {
	id  string
	cfg config.Camera
	log *slog.Logger
	e   *Engine

	sess  *ingest.Session
	gate  *gate.Gate // ingest side
	queue *workQueue
	m     metrics.Camera
	gen   atomic.Uint64 // bumped by StreamStarted (ingest side)
	codec atomic.Value  // ingest.Codec of the current stream

	drops       [4]atomic.Uint64 // by sched.DropReason
	analyzedFPS atomic.Uint64    // float64 bits, over the last full second
	lagNano     atomic.Int64     // receipt to processing of the last unit

	step atomic.Int32 // sched.Step of the overload ladder

	snapReq chan chan snapResult // served by the worker after an analysis

	// worker side
	ladder      *sched.Ladder
	dropsSeen   uint64
	evidence    map[string][]event.Evidence // by incident id
	workGen     uint64
	pipe        *pipeline.Pipeline
	fpsStart    time.Time
	fpsAnalyzed int

	flowing      atomic.Bool    // video flows in the current stream (ingest side)
	n            counts         // running totals for the analysis health check
	lastAnalyzed atomic.Int64   // Unix ns of the last analyzed picture (worker side)
	flowSince    atomic.Int64   // Unix ns of the first access unit of the current stream
	health       *health.Camera // camera_offline and analysis_stalled

	mu        sync.Mutex // guards the fields below (read by the API)
	lastFrame time.Time
	lastError string
}

func newCamera(e *Engine, cfg config.Camera) (*camera, error) {
	c := &camera{id: cfg.ID, cfg: cfg, e: e, log: e.log.With("camera", cfg.ID)}
	pipe, err := pipeline.New(pipeline.Config{AnalysisWidth: cfg.AnalysisWidth, AnalysisFPS: cfg.AnalysisFPS, Analysis: cfg.Analysis()})
	if err != nil {
		return nil, fmt.Errorf("camera %q: motion: %w", cfg.ID, err)
	}
	c.pipe = pipe
	c.health = health.New(health.Config{Camera: cfg.ID, OfflineGrace: cfg.OfflineGrace, AnalysisFPS: cfg.AnalysisFPS,
		Log: c.log, Out: healthOut{c}})
	c.gate = gate.New(cfg.DecodeMode, gate.NewActivity(cfg.DecodeMode, cfg.Activity), cfg.QueueFrames, max(cfg.QueueBytes/4, 256<<10))
	c.evidence = map[string][]event.Evidence{}
	c.snapReq = make(chan chan snapResult, 8)
	c.ladder = sched.NewLadder(sched.LadderConfig{})
	sc := cfg.SessionConfig()
	sc.Logger = c.log
	sc.StartDelay = ingest.Jitter(e.cfg.StartSpread)
	sess, err := ingest.NewSession(sc, c)
	if err != nil {
		pipe.Close()
		return nil, err
	}
	c.sess = sess
	c.m = e.metrics.ForCamera(cfg.ID)
	c.queue = e.pool.NewQueue(c, cfg.QueueFrames, cfg.QueueBytes)
	return c, nil
}

// StreamStarted implements ingest.Handler.
func (c *camera) StreamStarted(info ingest.StreamInfo) {
	c.flowing.Store(false)
	c.codec.Store(info.Codec)
	c.gen.Add(1)
	c.gate.Reset()
	c.queue.Flush() // units of the previous stream are void
}

// AccessUnit implements ingest.Handler: it runs on the RTP reader and only
// queues the unit.
func (c *camera) AccessUnit(au ingest.AccessUnit) {
	c.m.Received.Inc()
	c.n.received.Add(1)
	c.m.Bytes.Add(float64(len(au.Data)))
	c.m.LastFrame.Set(float64(au.Received.UnixNano()) / 1e9)
	c.gate.Route(au, c.push)
	c.mu.Lock()
	c.lastFrame = au.Received
	c.mu.Unlock()
	if !c.flowing.Load() {
		c.flowSince.Store(au.Received.UnixNano())
		c.flowing.Store(true)
		c.health.Up(au.Received)
	}
}

// push queues one access unit for decoding.
func (c *camera) push(au ingest.AccessUnit) {
	codec, _ := c.codec.Load().(ingest.Codec)
	c.queue.Push(workUnit{Data: au.Data, Key: au.Key, Meta: auMeta{
		gen: c.gen.Load(), codec: codec, pts: au.PTS, capture: au.CaptureTime, received: au.Received,
		queued: time.Now(),
	}})
}

// StateChanged implements ingest.Handler.
func (c *camera) StateChanged(s ingest.State, reason string, err error) {
	c.e.metrics.SetState(c.id, s)
	if s == ingest.StateBackingOff {
		c.e.metrics.Reconnects.WithLabelValues(c.id, reason).Inc()
	}
	if err != nil {
		c.mu.Lock()
		c.lastError = err.Error()
		c.mu.Unlock()
	}
	if s == ingest.StateBackingOff || s == ingest.StateFailed {
		// Video stopped with the last frame (or, if none came, now).
		since := time.Now()
		if c.flowing.Swap(false) {
			c.mu.Lock()
			since = c.lastFrame
			c.mu.Unlock()
		}
		c.health.Down(since, reason)
	}
}

// start runs the camera's session; until video flows it counts as down.
func (c *camera) start() {
	c.health.Down(time.Now(), "")
	c.sess.Start()
}

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
	if meta.gen != c.workGen {
		c.workGen = meta.gen
		codec := decode.H264
		if meta.codec == ingest.H265 {
			codec = decode.H265
		}
		if err := c.pipe.Reset(codec); err != nil {
			c.log.Error("decoder unavailable", "error", err)
			c.setError(err)
			return
		}
	}
	r := c.pipe.Process(u.Data, meta.pts, meta.received)
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
	frameTime, src := meta.received, event.TimeReceipt
	if !meta.capture.IsZero() {
		frameTime, src = meta.capture, event.TimeRTCP
	}
	c.keepShots(r.Shots)
	for _, tr := range r.Transitions {
		c.emit(tr, r.Now, frameTime, src)
	}
	// The analyzer alone knows whether it follows something that needs
	// every frame (motion, zones); a tamper incident does not, so a covered
	// camera goes back to keyframes in mode auto.
	c.gate.SetAnalysisActive(c.pipe.Active())
}

// observeLoad feeds the overload ladder after each unit and applies its
// step: full rate, a lower analysis rate, or keyframes only.
func (c *camera) observeLoad(wait time.Duration) {
	var drops uint64
	for r := range c.drops {
		if sched.DropReason(r) != sched.DropClosed {
			drops += c.drops[r].Load()
		}
	}
	dropped := drops > c.dropsSeen
	c.dropsSeen = drops
	fill := float64(c.queue.Len()) / float64(c.cfg.QueueFrames)
	step := c.ladder.Observe(time.Now(), wait, fill, dropped)
	if sched.Step(c.step.Load()) == step {
		return
	}
	c.step.Store(int32(step))
	fps := c.cfg.AnalysisFPS
	if step >= sched.StepReduced {
		fps = min(fps, 2)
	}
	c.pipe.SetAnalysisFPS(fps)
	c.gate.SetKeyframesOnly(step == sched.StepKeyframes)
	c.log.Warn("overload step changed", "step", step.String(), "queue_wait", wait, "queue_fill", fill, "dropped", dropped)
}

// countAnalyzed keeps the analysis rate over the last full second.
func (c *camera) countAnalyzed(now time.Time) {
	if c.fpsStart.IsZero() {
		c.fpsStart = now
	}
	c.fpsAnalyzed++
	if el := now.Sub(c.fpsStart); el >= time.Second {
		c.analyzedFPS.Store(math.Float64bits(float64(c.fpsAnalyzed) / el.Seconds()))
		c.fpsStart, c.fpsAnalyzed = now, 0
	}
}

// emit turns an analyzer transition into an event. Times of the analysis
// clock are mapped to the frame's capture clock by their offset.
func (c *camera) emit(tr analyze.Transition, now, frameTime time.Time, src string) {
	off := frameTime.Sub(now)
	inc := event.Incident{
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
	inc.Zone, inc.Cause = tr.Zone, tr.Cause
	inc.Evidence = c.evidenceFor(tr.IncidentID, tr.Phase == analyze.PhaseEnd)
	typ := event.TypeUpdate
	switch tr.Phase {
	case analyze.PhaseStart:
		typ = event.TypeStart
		c.e.metrics.Incidents.WithLabelValues(c.id, tr.Kind).Inc()
	case analyze.PhaseEnd:
		typ = event.TypeEnd
		end := tr.EndedAt.Add(off).UTC()
		inc.EndedAt = &end
	}
	c.e.publish(event.New(typ, inc, time.Now()))
}

// keepShots encodes and stores the evidence snapshots of the frame just
// analyzed (worker side).
func (c *camera) keepShots(shots []analyze.Shot) {
	store := c.e.opts.Evidence
	if store == nil || len(shots) == 0 {
		return
	}
	for _, s := range shots {
		jpg, err := c.pipe.EvidenceJPEG(s.Boxes)
		if err == nil {
			var ev event.Evidence
			if ev, err = store.Save(c.id, s.IncidentID, s.Role, jpg, time.Now()); err == nil {
				c.evidence[s.IncidentID] = appendEvidence(c.evidence[s.IncidentID], ev)
				continue
			}
		}
		c.e.metrics.EvidenceErrors.Inc()
		c.log.Warn("evidence not kept", "incident_id", s.IncidentID, "kind", s.Kind, "role", s.Role, "error", err)
	}
}

// appendEvidence replaces the snapshot of ev's role or adds it.
func appendEvidence(list []event.Evidence, ev event.Evidence) []event.Evidence {
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
func (c *camera) evidenceFor(id string, end bool) []event.Evidence {
	list := c.evidence[id]
	if end {
		delete(c.evidence, id)
	}
	if len(list) == 0 {
		return nil
	}
	out := slices.Clone(list)
	if !end && list[0].JPEGBase64 != "" {
		c.evidence[id] = list[:0]
	}
	return out
}

// flush ends open incidents; called after the workers stopped.
func (c *camera) flush(now time.Time) {
	for _, tr := range c.pipe.Flush(now) {
		c.emit(tr, now, now, event.TimeReceipt)
	}
}

// close frees the worker-side state; the session and queue are closed first.
func (c *camera) close() { c.pipe.Close() }

func (c *camera) setError(err error) {
	c.mu.Lock()
	c.lastError = err.Error()
	c.mu.Unlock()
}

type snapResult struct {
	jpg []byte
	err error
}

// serveSnapshots answers pending snapshot requests with the frame just
// analyzed (worker side).
func (c *camera) serveSnapshots() {
	for {
		select {
		case req := <-c.snapReq:
			jpg, err := c.pipe.SnapshotJPEG(nil)
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
