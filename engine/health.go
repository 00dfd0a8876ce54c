package engine

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/sched"
)

// counts are a camera's running totals that the health check reads;
// unneeded counts the pictures no picture refers to that the worker left
// undecoded (pipeline.Pipeline.Skip).
type counts struct {
	received, processed, decoded, analyzed, decodeErrors, unneeded atomic.Uint64
}

// probe is what the health check reads of the camera now.
func (c *camera) probe() health.Probe {
	step := c.load.Step()
	idleEvery := 0
	if c.cfg.DecodeMode == config.ModeAuto {
		idleEvery = c.load.IdleEvery()
	}
	return health.Probe{
		Streaming:   c.flowing.Load(),
		FlowSince:   time.Unix(0, c.flowSince.Load()),
		DecodingAll: c.gate.DecodingAll(),
		FullRate:    step == sched.StepFull,
		Sparse:      step == sched.StepSparse,
		Counts: health.Counts{Received: c.n.received.Load(), Processed: c.n.processed.Load(),
			// A picture no other refers to, left undecoded as the analysis
			// would not take it, counts as one decoded and not analyzed.
			Decoded: c.n.decoded.Load() + c.n.unneeded.Load(), Analyzed: c.n.analyzed.Load(), DecodeErrors: c.n.decodeErrors.Load()},
		LastAnalyzed:     unixTime(c.lastAnalyzed.Load()),
		LastQueued:       unixTime(c.lastQueued.Load()),
		LastKeyQueued:    unixTime(c.lastKeyQueue.Load()),
		KeyframeInterval: time.Duration(c.keyGap.Load()),
		FrameRate:        c.sess.Stats().FrameRate,
		IdleEvery:        idleEvery,
		IdleKeyInterval:  c.cfg.Activity.KeyframeInterval,
	}
}

// unixTime is the time of Unix ns v (zero for 0).
func unixTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

// healthOut is the health package's Output for one camera: events to the
// engine's publisher, counts to its metrics.
type healthOut struct{ c *camera }

func (o healthOut) Publish(ev incident.Event) { o.c.e.publish(ev) }

func (o healthOut) Started(kind, cause string) {
	m := o.c.e.metrics
	m.Incidents.WithLabelValues(o.c.id, kind).Inc()
	if kind == health.KindAnalysisStalled {
		m.AnalysisStalls.WithLabelValues(o.c.id, cause).Inc()
	}
}

func (o healthOut) CauseChanged(kind, cause string) {
	if kind == health.KindAnalysisStalled {
		o.c.e.metrics.AnalysisStalls.WithLabelValues(o.c.id, cause).Inc()
	}
}

func (o healthOut) UpdateHeld(kind string) {
	o.c.e.metrics.HealthUpdatesHeld.WithLabelValues(o.c.id, kind).Inc()
}

func (o healthOut) Stalled(open bool) {
	o.c.e.metrics.AnalysisStalled.WithLabelValues(o.c.id).Set(b2f(open))
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
		t := time.NewTicker(health.Period)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case now := <-t.C:
				for _, c := range e.snapshot() {
					c.health.Check(now, c.probe())
				}
			}
		}
	}()
	log.Debug("health watch started", "period", health.Period)
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
