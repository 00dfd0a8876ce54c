package sched

import (
	"sync"
	"time"
)

// Step is a rung of the overload ladder.
type Step int

// The ladder's steps, from full work to the least.
const (
	// StepFull analyzes at the configured rate.
	StepFull Step = iota
	// StepReduced analyzes at a lower rate; an idle camera in mode auto
	// decodes 1 in 2 of its keyframes due (gate; Overload.IdleEvery: 1 in
	// 3 on StepKeyframes, 1 in 4 on StepSparse).
	StepReduced
	// StepKeyframes decodes and analyzes keyframes only.
	StepKeyframes
	// StepSparse decodes and analyzes every other keyframe: the rung for
	// a camera that decodes keyframes only already (idle in mode auto,
	// which then decodes 1 in 4 of its keyframes due) on a machine past
	// its capacity.
	StepSparse
)

// StepDeepest is the last rung.
const StepDeepest = StepSparse

// String returns "full", "reduced", "keyframes" or "sparse".
func (s Step) String() string {
	switch s {
	case StepFull:
		return "full"
	case StepReduced:
		return "reduced"
	case StepKeyframes:
		return "keyframes"
	case StepSparse:
		return "sparse"
	}
	return "unknown"
}

// LadderConfig tunes a Ladder. Zero fields take their defaults.
type LadderConfig struct {
	// LagHigh: a camera this far behind real time steps down.
	// It defaults to 1s.
	LagHigh time.Duration
	// LagLow: a camera at most this far behind may step back up.
	// It defaults to 200ms.
	LagLow time.Duration
	// FillHigh and FillLow are the same bounds on the queue's fill (0..1).
	// They default to 0.8 and 0.25.
	FillHigh, FillLow float64
	// HoldDown is how long overload must last, without a calm moment,
	// before a step down, and the least time between two steps down.
	// It defaults to 2s.
	HoldDown time.Duration
	// HoldUp is the calm needed before a step up.
	// It defaults to 15s.
	HoldUp time.Duration
	// Pressure, shared by the engine's ladders, has the idle cameras shed
	// before a busy one steps down; nil: each ladder alone.
	Pressure *Pressure
}

func (c *LadderConfig) defaults() {
	if c.LagHigh <= 0 {
		c.LagHigh = time.Second
	}
	if c.LagLow <= 0 {
		c.LagLow = 200 * time.Millisecond
	}
	if c.FillHigh <= 0 {
		c.FillHigh = 0.8
	}
	if c.FillLow <= 0 {
		c.FillLow = 0.25
	}
	if c.HoldDown <= 0 {
		c.HoldDown = 2 * time.Second
	}
	if c.HoldUp <= 0 {
		c.HoldUp = 15 * time.Second
	}
}

// Ladder steps one camera down under sustained overload and back up when
// load allows: down quickly (one step per HoldDown) when it lags, its queue
// fills or it drops, for HoldDown without a calm moment (a transient, such
// as hundreds of cameras connecting at once, does not count); up slowly
// (one step per HoldUp of calm). Between the
// two thresholds it holds, so oscillating load does not make it flap. Time
// comes from the caller, so it is deterministic. Not safe for concurrent
// use, except Stopped and Started.
type Ladder struct {
	cfg  LadderConfig
	busy bool
	idle bool // the worker's: idle in mode auto
	step Step

	// Counted in cfg.Pressure's idle ladders: idle, and its stream not
	// stopped (Stopped comes from the camera's session, not its worker).
	mu      sync.Mutex
	counted bool
	stopped bool

	lastChange time.Time
	lastBad    time.Time
	badSince   time.Time // start of the current overload, zero when calm
}

// NewLadder returns a ladder at StepFull.
func NewLadder(cfg LadderConfig) *Ladder {
	cfg.defaults()
	return &Ladder{cfg: cfg}
}

// Step returns the current step.
func (l *Ladder) Step() Step { return l.step }

// BusyHold is how many times HoldDown a busy camera's overload must last
// before each step down.
const BusyHold = 3

// Busy says whether the camera is busy (in mode auto: awake, or its
// analysis following something). Cameras share the workers, so an
// overload makes them all lag at once; a busy camera then steps down
// only after BusyHold times HoldDown, leaving the idle ones, which lose
// least by it (every other keyframe), the time to shed first.
func (l *Ladder) Busy(on bool) { l.busy = on }

// Idle says whether the camera is idle in mode auto (decoding keyframes
// only, analysis following nothing): it is counted among those whose
// keyframes the engine's Pressure may thin (Overload.IdleEvery), so that
// busy cameras keep their rungs.
//
// A camera that becomes idle on a rung below StepReduced (it stepped
// down busy, or while it learned its activity signal at start-up) comes
// back to StepReduced at once when there is a Pressure: the floor thins
// its keyframes as its own rung would, and its wakes are free again.
// Climbing one rung per HoldUp of calm, it would otherwise stay unable
// to wake for as long as the machine is loaded.
func (l *Ladder) Idle(on bool) {
	p := l.cfg.Pressure
	if on != l.idle {
		l.idle = on
		if on && p != nil {
			l.step = min(l.step, StepReduced)
		}
	}
	if p == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case on && !l.counted && !l.stopped:
		l.counted = true
		p.idle.Add(1)
	case !on && l.counted:
		l.counted = false
		p.idle.Add(-1)
	}
}

// Stopped takes the ladder out of its Pressure's idle count until
// Started: the camera's stream stopped, so it has no keyframes the floor
// could thin, and a busy camera must not wait for it. Safe for concurrent
// use (the camera's session calls it).
func (l *Ladder) Stopped() {
	p := l.cfg.Pressure
	if p == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	if l.counted {
		l.counted = false
		p.idle.Add(-1)
	}
}

// Started undoes Stopped: a new stream starts, and the worker's next
// Idle counts the ladder again. Safe for concurrent use.
func (l *Ladder) Started() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = false
}

// Close takes the ladder out of its Pressure's idle count for good: the
// camera is gone.
func (l *Ladder) Close() { l.Stopped() }

// Observe records the camera's load at now and returns the step to run at.
func (l *Ladder) Observe(now time.Time, lag time.Duration, fill float64, dropped bool) Step {
	if l.lastChange.IsZero() {
		l.lastChange, l.lastBad = now, now
	}
	bad := dropped || lag > l.cfg.LagHigh || fill > l.cfg.FillHigh
	calm := !dropped && lag <= l.cfg.LagLow && fill <= l.cfg.FillLow
	switch {
	case bad:
		l.lastBad = now
		if l.badSince.IsZero() {
			l.badSince = now
		}
		hold := l.cfg.HoldDown
		pressed := false
		asks := false // a step down waits for the idle cameras' floor
		switch {
		case l.busy:
			hold *= BusyHold
			// The idle cameras shed first, while they have rungs left.
			asks = l.step < StepDeepest
		case l.idle:
			// Below StepReduced an idle camera's activity no longer wakes
			// it; the Pressure's floor thins its keyframes as much and
			// leaves wakes free: it goes first.
			asks = l.step >= StepReduced && l.step < StepDeepest
		}
		pressed = asks && now.Sub(l.badSince) >= l.cfg.HoldDown && l.cfg.Pressure.ask(now)
		if !pressed && l.step < StepDeepest && now.Sub(l.badSince) >= hold && now.Sub(l.lastChange) >= hold {
			l.step++
			l.lastChange = now
		}
		return l.step
	case !calm:
		l.lastBad = now // in between: hold, and restart the calm timer
		return l.step
	case l.step > StepFull && now.Sub(l.lastBad) >= l.cfg.HoldUp && now.Sub(l.lastChange) >= l.cfg.HoldUp:
		l.step--
		l.lastChange = now
	}
	l.badSince = time.Time{} // calm: an overload starts over
	return l.step
}
