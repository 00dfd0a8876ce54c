package engine

import (
	"errors"
	"time"

	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/unit"
)

// The ingest side of a camera: ingest.Handler, called on the session's
// goroutines (AccessUnit on the RTP reader, which it must not block).

// StreamStarted implements ingest.Handler.
func (c *camera) StreamStarted(info ingest.StreamInfo) {
	c.flowing.Store(false)
	c.keyAt.Store(0)
	c.codec.Store(info.Codec)
	c.gen.Add(1)
	c.gate.Reset()
	c.queue.Flush() // units of the previous stream are void
	// Counted idle again by the overload controller once the worker finds
	// it so; here, on the session's goroutine, it is ordered with the
	// Stopped of the stream before.
	c.wk.ladder.Started()
}

// AccessUnit implements ingest.Handler: it runs on the RTP reader and only
// queues the unit.
func (c *camera) AccessUnit(au unit.AccessUnit) {
	c.m.Received.Inc()
	c.n.received.Add(1)
	c.m.Bytes.Add(float64(len(au.Data)))
	c.m.LastFrame.Set(float64(au.Received.UnixNano()) / 1e9)
	if au.ClockAhead {
		c.setError(errClockAhead) // in the camera's status while it lasts
	}
	c.gate.Route(au, c.push)
	c.lastFrame.Store(au.Received.UnixNano())
	if au.Key {
		c.keyframe(au.Received)
	}
	if !c.flowing.Load() {
		c.flowSince.Store(au.Received.UnixNano())
		c.flowing.Store(true)
		c.health.Up(au.Received)
	}
}

// keyframe records a keyframe's receipt: the longest recent interval
// between keyframes decays by an eighth at each one, so that a camera's
// GOP can shorten again (the health check's allowed silence follows it).
func (c *camera) keyframe(at time.Time) {
	if prev := c.keyAt.Swap(at.UnixNano()); prev != 0 {
		gap, old := at.UnixNano()-prev, c.keyGap.Load()
		c.keyGap.Store(max(gap, old-old/8))
	}
}

// errClockAhead is a camera's last error while its RTP clock runs fast.
var errClockAhead = errors.New("rtp clock runs ahead of arrival: frame times follow arrival")

// push queues one access unit for decoding; alone marks a keyframe
// decoded on its own.
func (c *camera) push(au unit.AccessUnit, alone bool) {
	codec, _ := c.codec.Load().(ingest.Codec)
	now := time.Now()
	c.lastQueued.Store(now.UnixNano())
	if au.Key {
		c.lastKeyQueue.Store(now.UnixNano())
	}
	c.queue.Push(workUnit{Data: au.Data, Key: au.Key, Meta: auMeta{
		gen: c.gen.Load(), codec: codec, pts: au.PTS, capture: au.CaptureTime, received: au.Received,
		queued: now, alone: alone, droppable: au.Droppable,
	}})
}

// StateChanged implements ingest.Handler.
func (c *camera) StateChanged(s ingest.State, reason string, err error) {
	if s == ingest.StateBackingOff {
		c.e.metrics.Reconnects.WithLabelValues(c.id, reason).Inc()
	}
	if err != nil {
		c.mu.Lock()
		c.lastError = err.Error()
		c.mu.Unlock()
	}
	if s == ingest.StateStreaming && reason != "" {
		// Streaming, but nothing to decode yet (no keyframe): the camera
		// is still down, for that reason.
		c.health.Down(time.Now(), reason)
	}
	if s == ingest.StateBackingOff || s == ingest.StateFailed {
		// Video stopped with the last frame (or, if none came, now).
		since := time.Now()
		if c.flowing.Swap(false) {
			since = time.Unix(0, c.lastFrame.Load())
		}
		c.health.Down(since, reason)
		// A wake being verified ends with the stream: its verifier goes
		// back to the other cameras for the outage.
		c.gate.Close()
		// No keyframes to thin: the overload controller no longer counts
		// this camera idle (the worker's ladder; Stopped is safe here).
		c.wk.ladder.Stopped()
	}
	// After Down: a session's end opens camera_offline with its reason.
	c.health.Playing(s == ingest.StateStreaming)
}
