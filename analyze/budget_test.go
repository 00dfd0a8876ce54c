package analyze

import (
	"fmt"
	"testing"
	"time"
)

// none is a queue without first results waiting.
func none() int { return 0 }

// TestBudgetFollowsLoad drives the budget with a fake clock and a load
// the test sets: it grows while the machine has headroom and requests
// wait, up to the ceiling; holds between the bounds or without demand;
// halves under load down to its floor; moves once a tick at most.
func TestBudgetFollowsLoad(t *testing.T) {
	load := 0.2
	b := newBudget(30, func() float64 { return load })
	now := time.Unix(1000, 0)
	tick := func(held bool) float64 {
		now = now.Add(budgetTick)
		if held {
			b.held()
		}
		return b.update(now, none)
	}
	if r := b.Rate(); r != budgetStart {
		t.Fatalf("starts at %g, want %g", r, budgetStart)
	}
	if r := tick(false); r != budgetStart {
		t.Errorf("grew to %g without a request held back", r)
	}
	prev := b.Rate()
	for i := 0; prev < 30; i++ {
		r := tick(true)
		if r <= prev {
			t.Fatalf("tick %d at load %g with requests held: %g after %g, want growth", i, load, r, prev)
		}
		if i > 20 {
			t.Fatalf("never reached the ceiling: %g", r)
		}
		prev = r
	}
	if r := tick(true); r != 30 {
		t.Errorf("past the ceiling: %g", r)
	}
	// A second update within the tick changes nothing.
	load = 0.99
	if r := b.update(now.Add(budgetTick/2), none); r != 30 {
		t.Errorf("moved within a tick: %g", r)
	}
	load = 0.78 // between the bounds: hold
	if r := tick(true); r != 30 {
		t.Errorf("at load 0.78: %g, want held at 30", r)
	}
	load = 0.95
	for i := 0; prev > budgetFloor; i++ {
		r := tick(true)
		if r >= prev {
			t.Fatalf("tick %d at load %g: %g after %g, want shrinking", i, load, r, prev)
		}
		prev = r
	}
	if r := tick(true); r != budgetFloor {
		t.Errorf("under the floor: %g", r)
	}
	if d := b.interval(); d != 500*time.Millisecond {
		t.Errorf("interval at the floor %v, want 500ms", d)
	}
	// Halved to the floor (a start-up's burst), then with room under
	// budgetLoadGrow: it climbs back a step a tick while requests wait,
	// not at all while none does, and holds at 0.78.
	load = 0.7
	if r := tick(false); r != budgetFloor {
		t.Errorf("at load 0.7 with no request held back: %g, want %g", r, budgetFloor)
	}
	for i := 1; i <= 3; i++ {
		if r, want := tick(true), budgetFloor+float64(i)*budgetStep; r != want {
			t.Errorf("tick %d at load 0.7 with requests held: %g, want %g", i, r, want)
		}
	}
	load = 0.78
	if r, want := tick(true), budgetFloor+3*budgetStep; r != want {
		t.Errorf("at load 0.78: %g, want held at %g", r, want)
	}
}

// TestBudgetServesFirstResults: on a machine past its bounds, first
// results waiting raise the budget at the next tick to serve each within
// firstWait (1 s), up to budgetSurge and never past the ceiling; once
// served, the load brings it back down to the floor.
func TestBudgetServesFirstResults(t *testing.T) {
	b := newBudget(30, func() float64 { return 0.95 })
	now := time.Unix(1000, 0)
	waiting := 0
	tick := func() float64 {
		now = now.Add(budgetTick)
		b.held()
		return b.update(now, func() int { return waiting })
	}
	for range 5 {
		tick()
	}
	if r := b.Rate(); r != budgetFloor {
		t.Fatalf("at load 0.95 without first results: %g, want the floor %g", r, budgetFloor)
	}
	for _, c := range []struct {
		waiting int
		want    float64
	}{{1, budgetFloor}, {2, budgetFloor}, {5, 5}, {6, 6}, {40, budgetSurge}} {
		waiting = c.waiting
		if r := tick(); r != c.want {
			t.Errorf("%d first results waiting at load 0.95: %g, want %g", c.waiting, r, c.want)
		}
	}
	waiting = 0
	for range 5 {
		tick()
	}
	if r := b.Rate(); r != budgetFloor {
		t.Errorf("first results served, load 0.95: %g, want back at the floor %g", r, budgetFloor)
	}
	capped := newBudget(3, func() float64 { return 0.95 })
	if r := capped.update(now, func() int { return 40 }); r != 3 {
		t.Errorf("max_per_second 3 with 40 first results waiting: %g", r)
	}
}

// TestBudgetWithoutCeilingOrLoad: max_per_second 0 grows past the old
// fixed budget, up to budgetMax; without a load signal the rate is the
// ceiling, fixed.
func TestBudgetWithoutCeilingOrLoad(t *testing.T) {
	b := newBudget(0, func() float64 { return 0 })
	now := time.Unix(1000, 0)
	for range 40 {
		now = now.Add(budgetTick)
		b.held()
		b.update(now, none)
	}
	if r := b.Rate(); r != budgetMax {
		t.Errorf("no ceiling, idle machine: %g, want %g", r, budgetMax)
	}
	f := newBudget(5, nil)
	for range 10 {
		now = now.Add(budgetTick)
		f.held()
		if r := f.update(now, none); r != 5 {
			t.Fatalf("fixed budget moved to %g", r)
		}
	}
}

// TestInferenceServesFirstResultsFirst: with the budget taken, a camera
// whose motion has just begun and that follows nothing goes before
// cameras that waited longer with objects already followed, and those
// before re-checks.
func TestInferenceServesFirstResultsFirst(t *testing.T) {
	in := NewInference(nil, InferenceConfig{MaxPerSecond: 1}, nil)
	defer in.Close()
	now := time.Now()
	var slots []*ObjectSlot
	for i, kind := range []string{"recheck", "motion", "motion", "first", "recheck", "first"} {
		s := in.Slot(fmt.Sprintf("%d-%s", i, kind))
		slots = append(slots, s)
		r := s.buffer()
		r.recheck, r.first = kind == "recheck", kind == "first"
		s.submit(r, now.Add(time.Duration(i)*time.Millisecond))
	}
	var order []string
	for {
		s, r := in.next()
		if r == nil {
			break
		}
		order = append(order, s.camera)
		r.bgr.Close()
	}
	want := []string{"3-first", "5-first", "1-motion", "2-motion", "0-recheck", "4-recheck"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("served %v, want %v", order, want)
	}
	for _, s := range slots {
		s.Release()
	}
}

// TestFirstResultsBurst: first results waiting at once start back to
// back up to firstBurst, then at the surge's rate (one every 1/8 s), and
// the bucket fills again at that rate; under max_per_second there is no
// burst past the ceiling's pace.
func TestFirstResultsBurst(t *testing.T) {
	b := newBudget(0, func() float64 { return 0.95 })
	now := time.Unix(1000, 0)
	start := func() time.Duration {
		w := b.firstWaitAt(now)
		now = now.Add(w)
		b.startedFirst(now)
		return w
	}
	for i := range int(firstBurst) {
		if w := start(); w != 0 {
			t.Fatalf("first result %d of a burst waited %v, want 0 (burst %g)", i+1, w, firstBurst)
		}
	}
	surge := time.Duration(float64(time.Second) / budgetSurge)
	for i := range 3 {
		if w := start(); w < surge-time.Millisecond || w > surge+time.Millisecond {
			t.Errorf("first result %d after the burst waited %v, want the surge's interval %v", int(firstBurst)+i+1, w, surge)
		}
	}
	now = now.Add(time.Second)
	for i := range int(budgetSurge) {
		if w := start(); w != 0 {
			t.Fatalf("a second later, first result %d waited %v, want %g back to back", i+1, w, budgetSurge)
		}
	}
	if w := start(); w == 0 {
		t.Errorf("a second later, first result %g did not wait: the bucket refills at the surge's rate", budgetSurge+1)
	}

	capped := newBudget(3, func() float64 { return 0.95 })
	now = time.Unix(1000, 0)
	first := capped.firstWaitAt(now)
	capped.startedFirst(now)
	if w := capped.firstWaitAt(now); first != 0 || w < 300*time.Millisecond {
		t.Errorf("max_per_second 3: first results waited %v then %v, want 0 then a third of a second", first, w)
	}
}
