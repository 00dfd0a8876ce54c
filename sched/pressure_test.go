package sched

import (
	"slices"
	"testing"
	"time"
)

// pressureRun drives a busy ladder overloaded from 0 to overload, and an
// idle ladder, calm, sharing p (nil: none), every 100 ms until until. It
// returns the times the busy camera's step and the idle camera's rung
// (the deeper of its step and p's floor, as Overload.IdleEvery reads it)
// changed, as "step@time".
func pressureRun(p *Pressure, withIdle bool, overload, until time.Duration) (busy, idle []string) {
	t0 := time.Unix(1000, 0)
	b := NewLadder(LadderConfig{Pressure: p})
	b.Busy(true)
	var i *Ladder
	if withIdle {
		i = NewLadder(LadderConfig{Pressure: p})
		i.Idle(true)
		defer i.Close()
	}
	bs, is := StepFull, StepFull
	for d := time.Duration(0); d <= until; d += 100 * time.Millisecond {
		now := t0.Add(d)
		lag, fill := 3*time.Second, 0.9
		if d > overload {
			lag, fill = 0, 0
		}
		if s := b.Observe(now, lag, fill, false); s != bs {
			bs = s
			busy = append(busy, s.String()+"@"+d.String())
		}
		if i == nil {
			continue
		}
		if s := max(i.Observe(now, 0, 0, false), p.Floor(now)); s != is {
			is = s
			idle = append(idle, s.String()+"@"+d.String())
		}
	}
	return busy, idle
}

func TestPressureIdleShedFirst(t *testing.T) {
	loaded := func() float64 { return 0.95 }
	// Overloaded for 20 s on a loaded machine: from 2 s of overload the
	// idle camera goes down one rung per HoldDown (2 s) to sparse, at
	// 6 s; the busy one keeps its step until the idle one has been there
	// HoldDown, at 8 s (alone it would have stepped at 6 s), then one
	// step per BusyHold×HoldDown as before.
	p := NewPressure(LadderConfig{}, loaded)
	busy, idle := pressureRun(p, true, 20*time.Second, 20*time.Second)
	if want := []string{"reduced@2s", "keyframes@4s", "sparse@6s"}; !slices.Equal(idle, want) {
		t.Errorf("idle camera: %v, want %v", idle, want)
	}
	if want := []string{"reduced@8s", "keyframes@14s", "sparse@20s"}; !slices.Equal(busy, want) {
		t.Errorf("busy camera: %v, want %v", busy, want)
	}
	if p.Idle() != 0 {
		t.Errorf("%d ladders counted idle after Close, want 0", p.Idle())
	}

	// Calm from 10 s: the floor comes back up one rung per HoldUp (15 s)
	// after the last ask.
	p = NewPressure(LadderConfig{}, loaded)
	busy, idle = pressureRun(p, true, 10*time.Second, 70*time.Second)
	if want := []string{"reduced@2s", "keyframes@4s", "sparse@6s", "keyframes@25s", "reduced@40s", "full@55s"}; !slices.Equal(idle, want) {
		t.Errorf("idle camera, calm from 10 s: %v, want %v", idle, want)
	}
	if len(busy) == 0 || busy[0] != "reduced@8s" {
		t.Errorf("busy camera, calm from 10 s: %v, want reduced at 8 s first", busy)
	}
}

func TestPressureHoldsOnlyWhenIdleCanShed(t *testing.T) {
	alone := []string{"reduced@6s", "keyframes@12s", "sparse@18s"}
	for _, tc := range []struct {
		name     string
		p        *Pressure
		withIdle bool
	}{
		// A machine with room: the busy camera's trouble is its own.
		{"machine with room", NewPressure(LadderConfig{}, func() float64 { return 0.5 }), true},
		// No idle camera to shed.
		{"no idle camera", NewPressure(LadderConfig{}, func() float64 { return 0.95 }), false},
		{"no pressure", nil, true},
	} {
		busy, idle := pressureRun(tc.p, tc.withIdle, 20*time.Second, 20*time.Second)
		if !slices.Equal(busy, alone) {
			t.Errorf("%s: busy camera %v, want %v", tc.name, busy, alone)
		}
		if len(idle) != 0 {
			t.Errorf("%s: idle camera %v, want full throughout", tc.name, idle)
		}
	}
}

func TestPressureIdleKeepsWakes(t *testing.T) {
	// Idle cameras alone overload a loaded machine: an idle camera's own
	// ladder steps to reduced (its activity still wakes it there) at 2 s,
	// then asks and holds while the floor thins the idle cameras'
	// keyframes down to sparse (from 2.1 s to 6.1 s); only once the floor
	// has been there HoldDown does it step to keyframes (8.1 s), where its
	// activity no longer wakes it.
	t0 := time.Unix(1000, 0)
	p := NewPressure(LadderConfig{}, func() float64 { return 0.95 })
	l := NewLadder(LadderConfig{Pressure: p})
	l.Idle(true)
	var own, floor []string
	ls, fs := StepFull, StepFull
	for d := time.Duration(0); d <= 11*time.Second; d += 100 * time.Millisecond {
		if s := l.Observe(t0.Add(d), 3*time.Second, 0.9, false); s != ls {
			ls = s
			own = append(own, s.String()+"@"+d.String())
		}
		if s := p.Floor(t0.Add(d)); s != fs {
			fs = s
			floor = append(floor, s.String()+"@"+d.String())
		}
	}
	if want := []string{"reduced@2s", "keyframes@8.1s", "sparse@10.1s"}; !slices.Equal(own, want) {
		t.Errorf("idle camera's own step: %v, want %v", own, want)
	}
	if want := []string{"reduced@2.1s", "keyframes@4.1s", "sparse@6.1s"}; !slices.Equal(floor, want) {
		t.Errorf("floor: %v, want %v", floor, want)
	}
}

func TestPressureIdleComesBackToReduced(t *testing.T) {
	// A camera that stepped down to sparse while busy and becomes idle
	// is on reduced at once with a Pressure (its wakes free again), and
	// stays on sparse without one.
	t0 := time.Unix(1000, 0)
	for _, p := range []*Pressure{NewPressure(LadderConfig{}, nil), nil} {
		l := NewLadder(LadderConfig{Pressure: p})
		l.Busy(true)
		for d := time.Duration(0); d <= 30*time.Second; d += 100 * time.Millisecond {
			l.Observe(t0.Add(d), 3*time.Second, 0.9, false)
		}
		if l.Step() != StepSparse {
			t.Fatalf("busy, overloaded 30 s: %s, want sparse", l.Step())
		}
		l.Busy(false)
		l.Idle(true)
		want := StepReduced
		if p == nil {
			want = StepSparse
		}
		if s := l.Observe(t0.Add(31*time.Second), 0, 0, false); s != want {
			t.Errorf("pressure %v: idle after sparse: %s, want %s", p != nil, s, want)
		}
	}
}

func TestPressureLetsGoWhenTheMachineHasRoom(t *testing.T) {
	// A busy camera stays overloaded for 70 s, the machine loaded for the
	// first 10 s only (then its trouble is its own): the floor goes down
	// to sparse and comes back up one rung per HoldUp after the last ask
	// on the loaded machine (10.4 s: the load is read every HoldDown/4),
	// though the camera still asks; the camera,
	// held until the floor is spent (8 s), then steps down on its own.
	t0 := time.Unix(1000, 0)
	var at time.Duration
	p := NewPressure(LadderConfig{}, func() float64 {
		if at <= 10*time.Second {
			return 0.95
		}
		return 0.5
	})
	b := NewLadder(LadderConfig{Pressure: p})
	b.Busy(true)
	i := NewLadder(LadderConfig{Pressure: p})
	i.Idle(true)
	var busy, floor []string
	bs, fs := StepFull, StepFull
	for at = 0; at <= 70*time.Second; at += 100 * time.Millisecond {
		now := t0.Add(at)
		if s := b.Observe(now, 3*time.Second, 0.9, false); s != bs {
			bs = s
			busy = append(busy, s.String()+"@"+at.String())
		}
		if s := p.Floor(now); s != fs {
			fs = s
			floor = append(floor, s.String()+"@"+at.String())
		}
	}
	if want := []string{"reduced@2s", "keyframes@4s", "sparse@6s", "keyframes@25.4s", "reduced@40.4s", "full@55.4s"}; !slices.Equal(floor, want) {
		t.Errorf("floor: %v, want %v", floor, want)
	}
	if want := []string{"reduced@8s", "keyframes@14s", "sparse@20s"}; !slices.Equal(busy, want) {
		t.Errorf("busy camera: %v, want %v", busy, want)
	}
}

// TestPressureForgetsStoppedStreams: a camera whose stream stopped is not
// counted idle (a busy camera would wait for a floor that thins nothing),
// not even when its worker drains the units left in its queue, and is
// counted again once a new stream reaches its worker; a closed camera
// never is.
func TestPressureForgetsStoppedStreams(t *testing.T) {
	p := NewPressure(LadderConfig{}, func() float64 { return 1 })
	l := NewLadder(LadderConfig{Pressure: p})
	steps := []struct {
		what string
		do   func()
		want int
	}{
		{"idle", func() { l.Idle(true) }, 1},
		{"stream stopped", l.Stopped, 0},
		{"a unit left in the queue", func() { l.Idle(true) }, 0},
		{"a new stream", func() { l.Started(); l.Idle(true) }, 1},
		{"busy", func() { l.Idle(false) }, 0},
		{"idle again", func() { l.Idle(true) }, 1},
		{"closed", l.Close, 0},
		{"a unit after close", func() { l.Idle(true) }, 0},
	}
	for _, s := range steps {
		s.do()
		if got := p.Idle(); got != s.want {
			t.Fatalf("after %s: %d ladders counted idle, want %d", s.what, got, s.want)
		}
	}
	// The session stops and starts streams while the worker runs (go
	// test -race): the count never goes below zero or above one.
	l2 := NewLadder(LadderConfig{Pressure: p})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			l2.Stopped()
			l2.Started()
		}
	}()
	for i := range 1000 {
		l2.Idle(i%3 != 0)
		if n := p.Idle(); n < 0 || n > 1 {
			t.Fatalf("%d ladders counted idle", n)
		}
	}
	<-done
	l2.Close()
	if n := p.Idle(); n != 0 {
		t.Fatalf("after close: %d ladders counted idle", n)
	}
}
