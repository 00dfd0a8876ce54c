package analyze

import (
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

// TestWatching: the analyzer asks for every keyframe of an idle camera
// while its tamper baseline is learned and while a tamper cause is
// suspected or open (a frozen picture: suspected only), and not on a
// normal view once learned.
func TestWatching(t *testing.T) {
	cfg := config.DefaultAnalysis()
	c, f := newCameraT(t, cfg)
	tx := newTexture(t, 1)
	normal, covered := view{noise: 2}, view{black: true, noise: 2}
	if run(c, f, tx, 0, time.Second, func(time.Duration) view { return normal }); !c.Watching() {
		t.Fatal("not watching while the tamper baseline is learned")
	}
	run(c, f, tx, time.Second, 10*time.Second, func(time.Duration) view { return normal })
	if c.Watching() {
		t.Fatal("watching a normal view after learning")
	}
	if c.Pending() {
		t.Fatal("pending on a normal view")
	}
	// A blip: covered for 400 ms, then the view again. The candidate
	// lives on (gap tolerance: watching) but is no longer pending: full
	// decoding lasts only while the pictures show the cause.
	run(c, f, tx, 10*time.Second, 10*time.Second+400*time.Millisecond, func(time.Duration) view { return view{black: true, noise: 2} })
	if !c.Pending() {
		t.Fatal("a suspected cover is not pending")
	}
	run(c, f, tx, 10*time.Second+400*time.Millisecond, 10*time.Second+600*time.Millisecond, func(time.Duration) view { return normal })
	if !c.Watching() || c.Pending() {
		t.Fatalf("a cover gone after 400 ms: watching %v (want true), pending %v (want false)", c.Watching(), c.Pending())
	}
	run(c, f, tx, 10*time.Second+600*time.Millisecond, 14*time.Second, func(time.Duration) view { return normal })
	// Covered: suspected at once (before min_duration), then open.
	run(c, f, tx, 14*time.Second, 14*time.Second+400*time.Millisecond, func(time.Duration) view { return covered })
	if !c.Watching() {
		t.Fatal("not watching a suspected cover")
	}
	if !c.Pending() {
		t.Fatal("a suspected cover is not pending")
	}
	tam := only(run(c, f, tx, 14*time.Second+400*time.Millisecond, 18*time.Second, func(time.Duration) view { return covered }), KindTamper)
	if len(tam) == 0 || !c.Watching() {
		t.Fatalf("not watching an open cover (transitions %+v)", tam)
	}
	if c.Pending() {
		t.Fatal("an open cover is still pending")
	}
	// Uncovered: watching until the incident ends (clear_time), then not.
	run(c, f, tx, 18*time.Second, 34*time.Second, func(time.Duration) view { return normal })
	if c.Watching() {
		t.Fatal("still watching after the cover ended")
	}
	// Frozen: watched while suspected (its start keeps frozen_time), not
	// once open: the idle keyframes are enough to see it end.
	// Tamper measures a picture every 400 ms (tamperEvery): the second
	// identical one measured is at 34.4 s.
	frozen := view{} // no noise: every picture bit-identical
	run(c, f, tx, 34*time.Second, 34*time.Second+600*time.Millisecond, func(time.Duration) view { return frozen })
	if !c.Watching() || c.Pending() {
		t.Fatalf("a suspected frozen picture: watching %v (want true), pending %v (want false: judged from its first identical picture)", c.Watching(), c.Pending())
	}
	tam = only(run(c, f, tx, 34*time.Second+600*time.Millisecond, 40*time.Second, func(time.Duration) view { return frozen }), KindTamper)
	if len(tam) == 0 || tam[0].Cause != CauseFrozen || tam[0].Phase != PhaseStart {
		t.Fatalf("want a frozen start, got %+v", tam)
	}
	if c.Watching() {
		t.Fatal("watching every keyframe of an open frozen picture")
	}
	cfg.Tamper.Enabled = false
	c2, f2 := newCameraT(t, cfg)
	if run(c2, f2, tx, 0, time.Second, func(time.Duration) view { return normal }); c2.Watching() {
		t.Fatal("watching with tamper off")
	}
}
