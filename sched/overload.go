package sched

import "sync/atomic"

// ReducedFPS caps the analysis rate from StepReduced on.
const ReducedFPS = 2.0

// Overload is a camera's overload step: the one value its ladder (the
// camera's worker) sets and its gate and pipeline read, each through the
// method that says what the step means for it. The zero value, and a nil
// *Overload, read as StepFull. Safe for concurrent use.
type Overload struct{ step atomic.Int32 }

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

// Sparse reports whether, of the keyframes decoded alone, every other one
// is skipped (StepSparse).
func (o *Overload) Sparse() bool { return o.Step() == StepSparse }
