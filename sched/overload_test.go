package sched

import "testing"

// TestOverloadPolicy: what each step means to the gate and the pipeline;
// a nil Overload is never overloaded.
func TestOverloadPolicy(t *testing.T) {
	type policy struct {
		fps                         float64
		shed, keyframesOnly, sparse bool
	}
	for _, tc := range []struct {
		step Step
		want policy
	}{
		{StepFull, policy{25, false, false, false}},
		{StepReduced, policy{ReducedFPS, true, false, false}},
		{StepKeyframes, policy{ReducedFPS, true, true, false}},
		{StepSparse, policy{ReducedFPS, true, true, true}},
	} {
		var o Overload
		if changed := o.Set(tc.step); changed != (tc.step != StepFull) {
			t.Errorf("%s: Set reports changed %v", tc.step, changed)
		}
		got := policy{o.AnalysisFPS(25), o.ShedObjects(), o.KeyframesOnly(), o.Sparse()}
		if got != tc.want || o.Step() != tc.step {
			t.Errorf("%s: %+v (step %s), want %+v", tc.step, got, o.Step(), tc.want)
		}
	}
	var none *Overload
	if none.Step() != StepFull || none.AnalysisFPS(1) != 1 || none.ShedObjects() || none.KeyframesOnly() || none.Sparse() {
		t.Error("a nil Overload is overloaded")
	}
}
