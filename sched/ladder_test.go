package sched

import (
	"testing"
	"time"
)

func TestLadderTransitions(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	l := NewLadder(LadderConfig{})
	if s := l.Observe(at(0), 0, 0, false); s != StepFull {
		t.Fatalf("start: %s", s)
	}
	// Overload: one step down per HoldDown (2 s), never below sparse.
	steps := []Step{}
	for d := time.Duration(0); d <= 10*time.Second; d += 500 * time.Millisecond {
		s := l.Observe(at(time.Second+d), 3*time.Second, 0.9, true)
		if len(steps) == 0 || steps[len(steps)-1] != s {
			steps = append(steps, s)
		}
	}
	if len(steps) != 4 || steps[0] != StepFull || steps[1] != StepReduced || steps[2] != StepKeyframes || steps[3] != StepSparse {
		t.Fatalf("under overload: %v, want full, reduced, keyframes, sparse", steps)
	}
	// Calm: one step up per HoldUp (15 s) of calm.
	calmFrom := 12 * time.Second
	var upAt []time.Duration
	prev := l.Step()
	for d := calmFrom; d <= calmFrom+40*time.Second; d += time.Second {
		s := l.Observe(at(d), 50*time.Millisecond, 0.1, false)
		if s != prev {
			upAt = append(upAt, d-calmFrom)
			prev = s
		}
	}
	// The last overload was seen at 11 s: 15 s later is 14 s into the calm,
	// and the next step 15 s after that.
	if len(upAt) != 2 || upAt[0] != 14*time.Second || upAt[1] != 29*time.Second || prev != StepReduced {
		t.Fatalf("stepped up after %v to %s, want after 14s and 29s to reduced", upAt, prev)
	}
}

func TestLadderDoesNotFlap(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := NewLadder(LadderConfig{})
	l.Observe(t0, 0, 0, false)
	changes := 0
	prev := StepFull
	// Load oscillating every second between a short lag spike and calm for
	// two minutes: it steps down once per spike at most, and never back up
	// because the calm never lasts HoldUp.
	for i := range 120 {
		lag, fill := 50*time.Millisecond, 0.1
		if i%2 == 0 {
			lag, fill = 1500*time.Millisecond, 0.5
		}
		s := l.Observe(t0.Add(time.Duration(i+1)*time.Second), lag, fill, false)
		if s != prev {
			changes++
			if s < prev {
				t.Fatalf("stepped up to %s at %ds while load kept spiking", s, i+1)
			}
			prev = s
		}
	}
	if changes > 2 {
		t.Fatalf("%d step changes under oscillating load", changes)
	}
	// Load between the thresholds holds the step.
	l2 := NewLadder(LadderConfig{})
	for i := range 60 {
		if s := l2.Observe(t0.Add(time.Duration(i)*time.Second), 500*time.Millisecond, 0.5, false); s != StepFull {
			t.Fatalf("moderate load moved the ladder to %s", s)
		}
	}
}

// TestLadderIgnoresTransients: lag spikes separated by calm moments (a
// burst of cameras connecting at once) never step down; overload without
// a calm moment for HoldDown does.
func TestLadderIgnoresTransients(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := NewLadder(LadderConfig{})
	l.Observe(t0, 0, 0, false)
	for i := range 100 {
		at := t0.Add(3*time.Second + time.Duration(i)*300*time.Millisecond)
		lag := 10 * time.Millisecond
		if i%5 == 0 {
			lag = 1200 * time.Millisecond
		}
		if s := l.Observe(at, lag, 0, false); s != StepFull {
			t.Fatalf("stepped to %s on a transient at observation %d", s, i)
		}
	}
	start := t0.Add(40 * time.Second)
	var s Step
	for d := time.Duration(0); d < 2*time.Second; d += 250 * time.Millisecond {
		if s = l.Observe(start.Add(d), 1200*time.Millisecond, 0, false); s != StepFull {
			t.Fatalf("stepped down after %v of overload, want HoldDown (2s)", d)
		}
	}
	if s = l.Observe(start.Add(2*time.Second), 1200*time.Millisecond, 0, false); s != StepReduced {
		t.Fatalf("after 2s of overload: %s, want reduced", s)
	}
}

// TestLadderBusyStepsDownLater: under the same overload an idle camera
// steps down after HoldDown and a busy one after BusyHold times that, then
// one step per BusyHold times HoldDown.
func TestLadderBusyStepsDownLater(t *testing.T) {
	t0 := time.Unix(1000, 0)
	idle, busy := NewLadder(LadderConfig{}), NewLadder(LadderConfig{})
	busy.Busy(true)
	downAt := func(l *Ladder, step Step) time.Duration {
		for d := time.Duration(0); d <= 30*time.Second; d += 250 * time.Millisecond {
			if l.Observe(t0.Add(d), 1500*time.Millisecond, 0.9, false) == step {
				return d
			}
		}
		return -1
	}
	if d := downAt(idle, StepReduced); d != 2*time.Second {
		t.Errorf("idle camera reduced after %v, want 2s", d)
	}
	if d := downAt(busy, StepReduced); d != 6*time.Second {
		t.Errorf("busy camera reduced after %v, want 6s", d)
	}
	if d := downAt(busy, StepKeyframes); d != 12*time.Second {
		t.Errorf("busy camera on keyframes after %v, want 12s", d)
	}
}
