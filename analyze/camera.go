package analyze

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Camera holds one camera's analysis state: background model, motion
// candidate and open incident. It is not safe for concurrent use (the
// engine runs one worker at a time per camera). Close frees its C memory.
//
// Frame times drive all durations. A jump in frame times, forwards or
// backwards, larger than max(2*QuietPeriod, 5s) ends an open incident at
// the last frame time seen and relearns the background. A smaller step
// backwards is taken as no time passing (the frame is analyzed as if
// captured at the last frame time).
type Camera struct {
	cfg    MotionConfig
	det    detector
	d      detection // scratch for the current frame
	closed bool

	last       time.Time     // last frame time seen; zero before the first frame
	dtAvg      time.Duration // smoothed frame interval
	relearn    bool          // the next frame opens a learning window
	learnUntil time.Time

	cand      bool // motion seen, not yet an incident
	candStart time.Time
	candLast  time.Time // last moving frame of the candidate

	open       bool
	id         string
	startedAt  time.Time
	lastMotion time.Time
	lastUpdate time.Time
	maxScore   float64
}

// maxDtSample caps one frame interval's weight in the smoothed interval,
// so a hiccup does not stretch the candidate gap tolerance for long.
const maxDtSample = time.Second

// NewCamera validates cfg and returns a Camera that learns its background
// from the first frames. The caller must Close it.
func NewCamera(cfg MotionConfig) (*Camera, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new camera: %w", err)
	}
	return &Camera{cfg: cfg, det: newDetector(cfg), relearn: true}, nil
}

// Analyze runs one frame captured at frameTime and returns the incident
// transitions it causes, usually none (nil). The caller keeps ownership
// of f. In steady state it allocates nothing in Go except the returned
// transitions. A nil or closed frame, or a closed Camera, yields nil.
func (c *Camera) Analyze(f *Frame, frameTime time.Time) []Transition {
	if c.closed || !f.valid() {
		return nil
	}
	var out []Transition
	var dt time.Duration
	if !c.last.IsZero() {
		dt = frameTime.Sub(c.last)
		if dt < 0 && dt >= -c.gapLimit() {
			// A small step back (out-of-order frame): no time passes.
			frameTime, dt = c.last, 0
		}
		if dt < 0 || dt > c.gapLimit() {
			if c.open {
				out = append(out, c.end(c.last, frameTime))
			}
			c.Reset()
			dt = 0
		} else if dt > 0 {
			if s := min(dt, maxDtSample); c.dtAvg == 0 {
				c.dtAvg = s
			} else {
				c.dtAvg += (s - c.dtAvg) / 8
			}
		}
	}
	if f.Width != c.det.width || f.Height != c.det.height {
		c.Reset()
	}
	if c.relearn {
		c.relearn = false
		c.learnUntil = frameTime.Add(c.cfg.LearnTime)
	}
	learning := frameTime.Before(c.learnUntil)
	c.det.process(f, dt, learning, &c.d)
	c.last = frameTime
	moving := !learning && c.d.moving
	strong := !learning && c.d.strong

	if c.open {
		switch {
		case moving:
			c.lastMotion = frameTime
			c.maxScore = max(c.maxScore, c.d.score)
			if frameTime.Sub(c.lastUpdate) >= c.cfg.UpdateInterval {
				c.lastUpdate = frameTime
				out = append(out, c.transition(PhaseUpdate, frameTime))
			}
		case frameTime.Sub(c.lastMotion) >= c.cfg.QuietPeriod:
			out = append(out, c.end(c.lastMotion, frameTime))
		}
		return out
	}

	if c.cand && frameTime.Sub(c.candLast) > c.gapTolerance() {
		c.cand = false
	}
	if moving && (c.cand || strong) {
		if !c.cand {
			c.cand = true
			c.candStart = frameTime
		}
		c.candLast = frameTime
		if frameTime.Sub(c.candStart) >= c.cfg.MinDuration {
			out = append(out, c.start(frameTime))
		}
	}
	return out
}

// Reset forgets the background so that it is learned again for LearnTime
// from the next frame (use it after a reconnect); a pending motion
// candidate is dropped. An open incident stays open and ends after
// QuietPeriod without motion as usual.
func (c *Camera) Reset() {
	c.det.forget()
	c.relearn = true
	c.cand = false
}

// Flush ends an open incident at now (shutdown) and returns its PhaseEnd
// transition, or nil if none is open.
func (c *Camera) Flush(now time.Time) []Transition {
	c.cand = false
	if !c.open {
		return nil
	}
	return []Transition{c.end(now, now)}
}

// Close frees the Camera's C memory. It is idempotent; Analyze does
// nothing afterwards.
func (c *Camera) Close() {
	if c.closed {
		return
	}
	c.closed = true
	c.det.close()
}

// Active reports whether the last analyzed frame was part of motion: a
// candidate not yet long enough to be an incident, or an open incident.
// The engine keeps full decoding on while it is true.
func (c *Camera) Active() bool { return c.cand || c.open }

// gapLimit is the jump in frame times that resets the background.
func (c *Camera) gapLimit() time.Duration {
	return max(2*c.cfg.QuietPeriod, 5*time.Second)
}

// gapTolerance is the longest pause in motion a candidate survives: about
// three frame intervals.
func (c *Camera) gapTolerance() time.Duration {
	return 3 * c.dtAvg
}

func (c *Camera) start(t time.Time) Transition {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	c.cand = false
	c.open = true
	c.id = id.String()
	c.startedAt = c.candStart
	c.lastMotion = t
	c.lastUpdate = t
	c.maxScore = c.d.score
	return c.transition(PhaseStart, t)
}

// transition reports the current frame's motion for the open incident.
func (c *Camera) transition(p Phase, t time.Time) Transition {
	tr := Transition{
		Phase:      p,
		IncidentID: c.id,
		Kind:       KindMotion,
		StartedAt:  c.startedAt,
		FrameTime:  t,
		Score:      c.d.score,
	}
	if c.d.n > 0 {
		w, h := float64(c.det.width), float64(c.det.height)
		tr.Boxes = make([]Box, c.d.n)
		for i, r := range c.d.regions[:c.d.n] {
			tr.Boxes[i] = Box{float64(r.rect.Min.X) / w, float64(r.rect.Min.Y) / h, float64(r.rect.Dx()) / w, float64(r.rect.Dy()) / h}
		}
	}
	return tr
}

// end closes the open incident.
func (c *Camera) end(endedAt, t time.Time) Transition {
	c.open = false
	return Transition{
		Phase:      PhaseEnd,
		IncidentID: c.id,
		Kind:       KindMotion,
		StartedAt:  c.startedAt,
		EndedAt:    endedAt,
		FrameTime:  t,
		Score:      c.maxScore,
	}
}
