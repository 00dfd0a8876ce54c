package engine

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/sched"
)

// Ready says why the engine is not ready, naming the check that fails:
// starting (Start has not finished), shutting down (Close has begun), or
// Options.Ready's error (the outbox cannot be written).
func (e *Engine) Ready() error {
	switch {
	case e.closing.Load():
		return errors.New("shutting down")
	case !e.started.Load():
		return errors.New("starting")
	case e.opts.Ready != nil:
		return e.opts.Ready()
	}
	return nil
}

func (c *camera) status() api.CameraStatus {
	st := c.sess.Status()
	ts := c.sess.Stats()
	h := c.health.Status()
	if h.Analysis == "ok" && !c.flowing.Load() {
		h.Analysis = "no_video"
	}
	var lastAnalyzed *time.Time
	if v := c.lastAnalyzed.Load(); v != 0 {
		t := time.Unix(0, v).UTC()
		lastAnalyzed = &t
	}
	var lastFrame time.Time
	if v := c.lastFrame.Load(); v != 0 {
		lastFrame = time.Unix(0, v).UTC()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return api.CameraStatus{
		Analysis:           h.Analysis,
		AnalysisCause:      h.AnalysisCause,
		AnalysisIncident:   h.AnalysisIncident,
		LastAnalyzed:       lastAnalyzed,
		ClockOffsetSeconds: ts.ClockOffset.Seconds(),
		OfflineSince:       h.OfflineSince,
		OfflineIncident:    h.OfflineIncident,
		PacketsLost:        ts.PacketsLost,
		JitterSeconds:      ts.Jitter.Seconds(),
		Bitrate:            ts.Bitrate,
		KeyframeInterval:   ts.KeyframeInterval.Seconds(),
		FPSIn:              ts.FrameRate,
		FPSAnalyzed:        math.Float64frombits(c.analyzedFPS.Load()),
		Dropped:            c.dropCounts(),
		DecodeMode:         c.cfg.DecodeMode,
		DecodingAll:        c.gate.DecodingAll(),
		Wakeups:            c.gate.Wakeups(),
		Skipped:            c.gate.Skipped(),
		NonRefSkipped:      c.n.unneeded.Load(),
		LagSeconds:         time.Duration(c.lagNano.Load()).Seconds(),
		OverloadStep:       c.load.Step().String(),
		ID:                 c.id,
		URL:                c.sess.RedactedURL(),
		State:              st.State.String(),
		Reason:             st.Reason,
		Since:              st.Since.UTC(),
		Codec:              string(st.Codec),
		Transport:          c.cfg.Transport,
		LastFrame:          lastFrame,
		LastError:          c.lastError,
		QueueDepth:         c.queue.Len(),
	}
}

func (c *camera) dropCounts() map[string]uint64 {
	out := make(map[string]uint64, len(c.drops))
	for r := range c.drops {
		out[sched.DropReason(r).String()] = c.drops[r].Load()
	}
	return out
}

// Cameras returns every camera's status, sorted by id.
func (e *Engine) Cameras() []api.CameraStatus {
	cams := e.snapshot()
	out := make([]api.CameraStatus, 0, len(cams))
	for _, c := range cams {
		out = append(out, c.status())
	}
	return out
}

// Camera returns one camera's status.
func (e *Engine) Camera(id string) (api.CameraStatus, bool) {
	c := e.camera(id)
	if c == nil {
		return api.CameraStatus{}, false
	}
	return c.status(), true
}

// Snapshot returns the camera's next analyzed frame as a JPEG, waiting up
// to wait; api.ErrNoCamera for an unknown id.
func (e *Engine) Snapshot(ctx context.Context, id string, wait time.Duration) ([]byte, error) {
	c := e.camera(id)
	if c == nil {
		return nil, api.ErrNoCamera
	}
	return c.snapshot(ctx, wait)
}

func (e *Engine) camera(id string) *camera {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cameras[id]
}
