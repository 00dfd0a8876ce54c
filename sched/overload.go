package sched

import (
	"sync/atomic"
	"time"
)

// ReducedFPS caps the analysis rate from StepReduced on.
const ReducedFPS = 2.0

// Overload is a camera's overload step: the one value its ladder (the
// camera's worker) sets and its gate and pipeline read, each through the
// method that says what the step means for it. The zero value, and a nil
// *Overload, read as StepFull. Safe for concurrent use.
type Overload struct {
	step     atomic.Int32
	pressure *Pressure
}

// Follow makes the engine's Pressure thin the camera's keyframes while it
// is idle in mode auto (IdleEvery). Call it before the camera runs.
func (o *Overload) Follow(p *Pressure) { o.pressure = p }

// Step returns the current step.
func (o *Overload) Step() Step {
	if o == nil {
		return StepFull
	}
	return Step(o.step.Load())
}

// Set makes s the current step and reports whether it changed.
func (o *Overload) Set(s Step) (changed bool) { return Step(o.step.Swap(int32(s))) != s }

// AnalysisFPS returns the analysis rate to use for a configured rate of
// fps: at most ReducedFPS from StepReduced on.
func (o *Overload) AnalysisFPS(fps float64) float64 {
	if o.Step() >= StepReduced {
		return min(fps, ReducedFPS)
	}
	return fps
}

// ShedObjects reports whether the camera sheds object inference
// (StepReduced and below): it keeps one request waiting at a time and
// never replaces it with a newer picture (analyze.ObjectSlot.SetShed);
// the shared budget, which follows the machine, chooses what runs.
func (o *Overload) ShedObjects() bool { return o.Step() >= StepReduced }

// KeyframesOnly reports whether only keyframes are decoded (StepKeyframes
// and below).
func (o *Overload) KeyframesOnly() bool { return o.Step() >= StepKeyframes }

// IdleEvery is 1 in how many of its keyframes due an idle camera in mode
// auto decodes: every one at StepFull, then 1 in 2, 3 and 4 from
// StepReduced to StepSparse, by the deeper of its own step and the
// Pressure's floor. An idle camera loses least by it (keyframes whose
// size moves are decoded whatever the rung, and the floor, unlike its own
// keyframes rungs, leaves its activity signal free to wake it), so it
// sheds first.
func (o *Overload) IdleEvery() int {
	if o == nil {
		return 1
	}
	return 1 + int(max(o.Step(), o.pressure.Floor(time.Now())))
}

// Sparse reports whether, of the keyframes decoded alone, every other one
// is skipped (StepSparse).
func (o *Overload) Sparse() bool { return o.Step() == StepSparse }
