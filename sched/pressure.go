package sched

import (
	"sync"
	"sync/atomic"
	"time"
)

// PressureLoad is the machine load (0..1) from which a busy camera's
// overload presses the idle cameras down: under it, the machine has room
// and a camera that cannot keep up is alone in its trouble (a stream too
// heavy for one worker), so it steps down itself.
const PressureLoad = 0.8

// Pressure is the engine's one overload controller over its cameras'
// ladders: the idle cameras (mode auto, decoding keyframes) shed before
// a busy one steps down, and by thinning their keyframes rather than by
// their own deeper rungs, on which their activity would no longer wake
// them. A busy camera that overloads asks (Ladder.Observe), and so does
// an idle one that would step below StepReduced; while cameras ask and
// the machine is loaded, the idle cameras' floor goes down one rung per
// HoldDown to StepDeepest (each rung decodes fewer of their keyframes,
// Overload.IdleEvery); an asking camera steps down only when the floor
// has been at StepDeepest for HoldDown, or no camera is idle, or the
// machine has room. With no one asking for HoldUp the floor comes back up
// one rung per HoldUp. Safe for concurrent use.
type Pressure struct {
	cfg  LadderConfig
	load func() float64 // nil: always loaded

	idle atomic.Int64 // ladders counted idle

	mu      sync.Mutex
	floor   Step
	askedAt time.Time // the last ask on a loaded machine; zero: never
	changed time.Time // last floor change; zero: never, long enough ago
	loadAt  time.Time // last load reading
	loaded  bool      // the machine was loaded at loadAt
}

// NewPressure returns a controller with the ladders' timing (cfg) that
// reads the machine's load from load (0..1; nil: always loaded).
func NewPressure(cfg LadderConfig, load func() float64) *Pressure {
	cfg.defaults()
	return &Pressure{cfg: cfg, load: load}
}

// Floor returns the least step of an idle camera at now.
func (p *Pressure) Floor(now time.Time) Step {
	if p == nil {
		return StepFull
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.update(now)
	return p.floor
}

// Idle returns the ladders counted idle now.
func (p *Pressure) Idle() int {
	if p == nil {
		return 0
	}
	return int(p.idle.Load())
}

// ask records a camera's overload at now and reports whether it must
// hold its step: the machine is loaded and the idle cameras still have
// rungs to shed. An ask on a machine with room is not recorded: the
// asking camera's trouble is its own, and the floor comes back up.
func (p *Pressure) ask(now time.Time) (hold bool) {
	if p == nil || p.idle.Load() == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.load == nil {
		p.loaded = true
	} else if p.loadAt.IsZero() || now.Sub(p.loadAt) >= p.cfg.HoldDown/4 || now.Before(p.loadAt) {
		p.loadAt, p.loaded = now, p.load() >= PressureLoad
	}
	if !p.loaded {
		return false
	}
	p.askedAt = now
	p.update(now)
	return p.floor < StepDeepest || now.Sub(p.changed) < p.cfg.HoldDown
}

// update moves the floor at now: down one rung per HoldDown while
// cameras ask (within HoldDown), up one rung per HoldUp once they
// stopped. p.mu is held.
func (p *Pressure) update(now time.Time) {
	recent := !p.askedAt.IsZero() && now.Sub(p.askedAt) < p.cfg.HoldDown
	switch {
	case recent && p.floor < StepDeepest && now.Sub(p.changed) >= p.cfg.HoldDown:
		p.floor++
	case !recent && p.floor > StepFull && now.Sub(p.askedAt) >= p.cfg.HoldUp && now.Sub(p.changed) >= p.cfg.HoldUp:
		p.floor--
	default:
		return
	}
	p.changed = now
}
