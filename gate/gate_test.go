package gate

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/sched"
	"github.com/vigil-video/vigil/unit"
)

// scriptedActivity reports the activity the test scripted per unit index.
type scriptedActivity struct {
	active  func(i int) bool
	i       int
	rejects int              // Reject calls; the scripted activity ends with the first
	suspect func(i int) bool // nil: never
}

func (s *scriptedActivity) Observe(unit.AccessUnit) bool {
	a := s.active(s.i) && s.rejects == 0
	s.i++
	return a
}
func (s *scriptedActivity) Reject(time.Duration) { s.rejects++ }
func (s *scriptedActivity) Raise() float64       { return 1 + float64(s.rejects)/2 }
func (s *scriptedActivity) Reset()               {}
func (s *scriptedActivity) Suspect() bool {
	return s.suspect != nil && s.suspect(s.i-1)
}

// runGate feeds n units of an IPPP stream with a keyframe every gop units
// (unit i carries i in its PTS) and returns the indexes pushed; a keyframe
// pushed alone is recorded as -i-1.
func runGate(g *Gate, n, gop int, between func(i int)) []int {
	return runGateSized(g, n, gop, between, nil)
}

// runGateSized is runGate with unit i of size(i) bytes (nil: 100).
func runGateSized(g *Gate, n, gop int, between func(i int), size func(i int) int) []int {
	return runGateQP(g, n, gop, between, size, nil)
}

// runGateQP is runGateSized with each unit's slice QP from qp (nil: -1,
// unknown).
func runGateQP(g *Gate, n, gop int, between func(i int), size, qp func(i int) int) []int {
	var pushed []int
	for i := range n {
		if between != nil {
			between(i)
		}
		sz := 100
		if size != nil {
			sz = size(i)
		}
		q := -1
		if qp != nil {
			q = qp(i)
		}
		au := unit.AccessUnit{Data: make([]byte, sz), Key: i%gop == 0, PTS: time.Duration(i), QP: q}
		g.Route(au, func(u unit.AccessUnit, alone bool) {
			if alone {
				if !u.Key {
					panic("a predicted unit pushed alone")
				}
				pushed = append(pushed, -int(u.PTS)-1)
				return
			}
			pushed = append(pushed, int(u.PTS))
		})
	}
	return pushed
}

// checkChain fails if a pushed non-key unit does not directly follow its
// reference (the unit before it in the stream, pushed as part of the
// chain, not alone): the decoder would see a frame whose reference it
// never decoded.
func checkChain(t *testing.T, pushed []int, gop int) {
	t.Helper()
	for k, i := range pushed {
		if i < 0 || i%gop == 0 {
			continue
		}
		if k == 0 || pushed[k-1] != i-1 {
			t.Fatalf("unit %d pushed after %v: its reference %d was not decoded just before (negative: alone)", i, pushed[max(0, k-3):k], i-1)
		}
	}
}

// keys returns the units of pushed, alone or not.
func keys(pushed []int) []int {
	out := make([]int, len(pushed))
	for k, i := range pushed {
		if i < 0 {
			i = -i - 1
		}
		out[k] = i
	}
	return out
}

func TestGateModes(t *testing.T) {
	const gop = 10
	t.Run("all", func(t *testing.T) {
		g := New(config.ModeAll, nil, nil, 100, 1<<20)
		if got := runGate(g, 35, gop, nil); len(got) != 35 {
			t.Fatalf("pushed %d of 35", len(got))
		}
	})
	t.Run("keyframes", func(t *testing.T) {
		g := New(config.ModeKeyframes, nil, nil, 100, 1<<20)
		got := runGate(g, 35, gop, nil)
		if !equalInts(got, []int{-1, -11, -21, -31}) || g.skipped.Load() != 31 {
			t.Fatalf("pushed %v, skipped %d", got, g.skipped.Load())
		}
	})
	t.Run("auto_idle", func(t *testing.T) {
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		got := runGate(g, 35, gop, nil)
		if !equalInts(got, []int{-1, -11, -21, -31}) || g.wakeups.Load() != 0 {
			t.Fatalf("idle camera pushed %v, %d wake-ups", got, g.wakeups.Load())
		}
	})
	t.Run("auto_wake_bursts_the_gop", func(t *testing.T) {
		// Active from unit 14 to 25: keyframe 10 (decoded alone when it
		// came) and units 11..13 are decoded in a burst at 14. Unit 30 is
		// the first keyframe after the activity: the camera is idle again.
		g := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 14 && i <= 25 }}, nil, 100, 1<<20)
		got := runGate(g, 50, gop, nil)
		checkChain(t, got, gop)
		want := []int{-1, -11, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -31, -41}
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
		if g.wakeups.Load() != 1 || g.skipped.Load() != uint64(50-(len(want)-1)) {
			t.Fatalf("wake-ups %d, skipped %d", g.wakeups.Load(), g.skipped.Load())
		}
	})
	t.Run("auto_pixels_reject_a_false_wake", func(t *testing.T) {
		// The signal says active from unit 14 to 25, but the analyzer sees
		// nothing on the pictures from the wake on (14 and 15): the camera
		// sleeps at the next unit, once, and the signal is told (Reject).
		act := &scriptedActivity{active: func(i int) bool { return i >= 14 && i <= 25 }}
		g := New(config.ModeAuto, act, nil, 100, 1<<20)
		var got []int
		for i := range 30 {
			au := unit.AccessUnit{Data: make([]byte, 100), Key: i%gop == 0, PTS: time.Duration(i)}
			g.Route(au, func(u unit.AccessUnit, alone bool) {
				got = append(got, int(u.PTS))
				g.Analyzed(u.PTS, false) // every picture analyzed, nothing moves
			})
		}
		want := []int{0, 10, 10, 11, 12, 13, 14, 15, 20}
		if !equalInts(got, want) || act.rejects != 1 || g.Rejects() != 1 || g.wakeups.Load() != 1 {
			t.Fatalf("pushed %v (want %v), %d rejects, %d wake-ups", got, want, act.rejects, g.wakeups.Load())
		}
		// The metrics read the signal's raise (the scripted one: 1.5 after
		// a rejection); a camera without a signal has none.
		if g.Raise() != 1.5 || New(config.ModeAll, nil, nil, 100, 1<<20).Raise() != 0 || New(config.ModeAuto, act, nil, 100, 1<<20).Raise() != 1 {
			t.Fatalf("raise %v after a rejection, want 1.5; 0 without a signal, 1 before a unit", g.Raise())
		}
	})
	t.Run("auto_pixels_confirm_a_wake", func(t *testing.T) {
		// The same, but the analyzer sees motion on the pictures: the wake
		// stands and nothing is rejected.
		act := &scriptedActivity{active: func(i int) bool { return i >= 14 && i <= 25 }}
		g := New(config.ModeAuto, act, nil, 100, 1<<20)
		n := 0
		for i := range 30 {
			au := unit.AccessUnit{Data: make([]byte, 100), Key: i%gop == 0, PTS: time.Duration(i)}
			g.Route(au, func(u unit.AccessUnit, alone bool) {
				n++
				g.Analyzed(u.PTS, u.PTS >= 14 && u.PTS <= 25)
			})
		}
		if act.rejects != 0 || n != 2+17 { // keyframes 0 and 10 alone; 10..26
			t.Fatalf("%d rejects, %d units pushed, want 0 and 19", act.rejects, n)
		}
	})
	t.Run("auto_short_sleep_goes_on_with_the_chain", func(t *testing.T) {
		// Awake 12..14, idle 15..16, awake again 17..19: the second wake
		// decodes the two units skipped since the chain stopped, not the
		// GOP again (the decoder still holds 10..14), so no picture is
		// decoded twice and none is missing.
		g := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 12 && i <= 14 || i >= 17 && i <= 19 }}, nil, 100, 1<<20)
		got := runGate(g, 30, gop, nil)
		checkChain(t, got, gop)
		want := []int{-1, -11, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, -21}
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
		if g.wakeups.Load() != 2 || g.skipped.Load() != uint64(30-(len(want)-1)) {
			t.Fatalf("wake-ups %d, skipped %d", g.wakeups.Load(), g.skipped.Load())
		}
	})
	t.Run("auto_open_incident_keeps_it_awake", func(t *testing.T) {
		g := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i == 3 }}, nil, 100, 1<<20)
		got := runGate(g, 30, gop, func(i int) { g.analysisActive.Store(i >= 3 && i < 22) })
		checkChain(t, got, gop)
		for i := 3; i < 22; i++ {
			if !containsInt(keys(got), i) {
				t.Fatalf("unit %d not decoded while an incident was open: %v", i, got)
			}
		}
	})
	t.Run("auto_buffer_overflow_waits_for_a_keyframe", func(t *testing.T) {
		g := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 16 }}, nil, 3, 1<<20)
		got := runGate(g, 30, gop, nil)
		checkChain(t, got, gop)
		if containsInt(got, 16) || !containsInt(keys(got), 20) || !containsInt(got, 21) {
			t.Fatalf("pushed %v: want nothing until keyframe 20, then everything", got)
		}
	})
	t.Run("auto_idle_keyframe_interval", func(t *testing.T) {
		// While idle, a keyframe is decoded 30 units (here, PTS
		// nanoseconds) after the last one decoded; a wake-up within the
		// GOP of a skipped keyframe replays from it, a keyframe decoded
		// awake counts as the last one, and the first keyframe after the
		// wake is decoded (the view settles).
		g := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 45 && i <= 50 }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(30)
		got := runGate(g, 70, gop, nil)
		checkChain(t, got, gop)
		want := []int{-1, -31, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, -61}
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
		if s := g.Skipped(); s != uint64(70-len(want)) {
			t.Fatalf("skipped %d, want %d", s, 70-len(want))
		}
	})
	t.Run("auto_idle_keyframe_that_changed", func(t *testing.T) {
		// A keyframe 20% larger than the last one decoded (the view may
		// have changed) is decoded before its interval; so is the next,
		// back to the old size; one 5% larger is not.
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(40)
		size := func(i int) int {
			switch i {
			case 10:
				return 105
			case 20:
				return 120
			}
			return 100
		}
		got := runGateSized(g, 60, gop, nil, size)
		want := []int{-1, -21, -31}
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
	})
	t.Run("auto_idle_keyframes_of_a_restless_encoder", func(t *testing.T) {
		// An encoder whose still view's keyframes alternate between 100
		// and 118 bytes (17%, over KeyChange): once three are seen, their
		// spread raises the move that decodes one (to KeyChangeMax), and
		// the alternation is skipped; a keyframe of 60 bytes (a cover) is
		// decoded, and so is the next, back to the old sizes.
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(1000)
		size := func(i int) int {
			switch {
			case i == 100:
				return 60
			case (i/gop)%2 == 1:
				return 118
			}
			return 100
		}
		got := runGateSized(g, 120, gop, nil, size)
		want := []int{-1, -11, -21, -101, -111} // with KeyChange alone: every keyframe
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
	})
	t.Run("auto_idle_keyframes_of_an_encoder_between_two_qps", func(t *testing.T) {
		// x264 with VBV on a still view: keyframes of the same size, at QP
		// 22 and now and then 23 (sub-static.h264: 3 of 11). A flip of one
		// QP is not a change of view: only the interval's keyframes are
		// decoded (with the whole QP step counted, every flip and flip
		// back was). A cover at the same QP (60% of the bits) is decoded,
		// and so is the next keyframe, back to the old size; a cover
		// that the encoder codes 6 QPs lower at the same size (constant
		// bitrate) is too.
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(1000)
		size := func(i int) int {
			if i == 150 {
				return 60
			}
			return 100
		}
		qp := func(i int) int {
			switch k := i / gop; {
			case k == 18:
				return 16
			case k%4 == 1 || k%7 == 3:
				return 23
			}
			return 22
		}
		k := &KeyCounts{}
		g.CountKeys(k)
		got := runGateQP(g, 200, gop, nil, size, qp)
		want := []int{-1, -151, -161, -181, -191}
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
		if k.Count(KeyFirst) != 1 || k.Count(KeyMoved) != 4 || k.Count(KeyInterval) != 0 {
			t.Errorf("counted first %d, moved %d, interval %d; want 1, 4, 0", k.Count(KeyFirst), k.Count(KeyMoved), k.Count(KeyInterval))
		}
	})
	t.Run("auto_idle_keyframes_whose_bits_fall_as_the_qp_rises", func(t *testing.T) {
		// From keyframe 10 the bits fall by a quarter while the QP rises
		// by one (22 to 23): no flip of rate control, whose bits stay;
		// a move of 0.185 is a change of view, decoded (and allowed for
		// as a flip it would be 0.070, skipped).
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(1000)
		size := func(i int) int { return map[bool]int{true: 74, false: 100}[i >= 100] }
		qp := func(i int) int { return map[bool]int{true: 23, false: 22}[i >= 100] }
		got := runGateQP(g, 150, gop, nil, size, qp)
		if want := []int{-1, -101}; !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
	})
	t.Run("auto_idle_keyframes_the_qp_flips_never_past_KeyChangeMax", func(t *testing.T) {
		// Keyframes of one size alternating between QP 22 and 23 raise
		// the move that decodes one to KeyChangeMax by their spread; a
		// change coded 3 QPs lower at the same size (a move of 0.347)
		// is still decoded: the flips are not allowed for twice.
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(1000)
		qp := func(i int) int {
			switch k := i / gop; {
			case k >= 12:
				return 19
			case k%2 == 1:
				return 23
			}
			return 22
		}
		got := runGateQP(g, 140, gop, nil, nil, qp)
		if len(got) == 0 || got[len(got)-1] != -121 {
			t.Fatalf("pushed %v: the keyframe 3 QPs lower (120) was not decoded", got)
		}
	})
	t.Run("auto_idle_keyframes_while_watching", func(t *testing.T) {
		// While the analyzer watches (a tamper cause suspected or open),
		// every keyframe of the idle camera is decoded.
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(40)
		k := &KeyCounts{}
		g.CountKeys(k)
		got := runGate(g, 60, gop, func(i int) { g.Watch(i >= 15 && i < 35) })
		want := []int{-1, -21, -31}
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
		if k.Count(KeyFirst) != 1 || k.Count(KeyWatch) != 2 {
			t.Errorf("counted first %d, watch %d; want 1, 2", k.Count(KeyFirst), k.Count(KeyWatch))
		}
	})
	t.Run("auto_held_while_a_tamper_cause_is_pending", func(t *testing.T) {
		// The analyzer suspects a tamper cause on keyframe 10 and judges it
		// until unit 24 (Hold): the idle camera decodes every picture from
		// 11, the chain from keyframe 10, and sleeps at 25. The signal
		// never woke it: nothing is verified, nothing rejected, though
		// nothing moves on the pictures.
		act := &scriptedActivity{active: func(int) bool { return false }}
		g := New(config.ModeAuto, act, nil, 100, 1<<20)
		var got []int
		for i := range 40 {
			g.Hold(i >= 11 && i <= 24)
			au := unit.AccessUnit{Data: make([]byte, 100), Key: i%gop == 0, PTS: time.Duration(i)}
			g.Route(au, func(u unit.AccessUnit, alone bool) {
				got = append(got, int(u.PTS))
				g.Analyzed(u.PTS, false)
			})
		}
		want := []int{0, 10, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 30}
		if !equalInts(got, want) || act.rejects != 0 || g.Rejects() != 0 || g.wakeups.Load() != 1 {
			t.Fatalf("pushed %v (want %v), %d rejects, %d wake-ups", got, want, act.rejects, g.wakeups.Load())
		}
	})
	t.Run("auto_take_replays_from_the_keyframe", func(t *testing.T) {
		// A first look's result waits (Take) while the idle camera is
		// between keyframes: the next unit replays the GOP from its
		// keyframe, so that the analysis takes the result now. If the
		// analyzer then follows something (active on the replayed
		// pictures), the camera stays awake while it does; if not, it
		// sleeps at once. A take at a keyframe starts from it; in mode
		// all a take changes nothing.
		for _, tc := range []struct {
			name   string
			mode   string
			takeAt int
			active func(pts int) bool
			want   []int
		}{
			{"nothing found", config.ModeAuto, 13, func(int) bool { return false }, []int{-1, -11, 10, 11, 12, 13, -21, -31}},
			{"a candidate", config.ModeAuto, 13, func(p int) bool { return p >= 10 && p <= 16 }, []int{-1, -11, 10, 11, 12, 13, 14, 15, 16, 17, -21, -31}},
			{"at a keyframe", config.ModeAuto, 20, func(int) bool { return false }, []int{-1, -11, 20, -31}},
			{"mode all", config.ModeAll, 13, func(int) bool { return false }, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				act := &scriptedActivity{active: func(int) bool { return false }}
				g := New(tc.mode, act, nil, 100, 1<<20)
				got := routeTaking(g, 40, gop, tc.takeAt, 1, func(p int, _ bool) bool { return tc.active(p) })
				if tc.mode == config.ModeAll {
					if len(got) != 40 {
						t.Fatalf("mode all pushed %d units, want each of 40 once", len(got))
					}
					return
				}
				if !equalInts(got, tc.want) || act.rejects != 0 || g.Rejects() != 0 || g.wakeups.Load() != 1 {
					t.Fatalf("pushed %v (want %v), %d rejects, %d wake-ups", got, tc.want, act.rejects, g.wakeups.Load())
				}
			})
		}
	})
	t.Run("auto_take_shares_the_verifiers_room", func(t *testing.T) {
		// A take's replay holds a verifier's room until its first picture
		// is analyzed, then gives it back; with no room free the take is
		// dropped and the camera stays idle.
		for _, tc := range []struct {
			name string
			room int // of 1: 0 when another camera holds it
			want []int
		}{
			{"room", 1, []int{-1, -11, 10, 11, 12, 13, -21, -31}},
			{"no room", 0, []int{-1, -11, -21, -31}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v := NewVerifiers(1)
				if tc.room == 0 && !v.acquire() {
					t.Fatal("could not take the room")
				}
				g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
				g.ShareVerifiers(v)
				inUse := 0
				got := routeTaking(g, 40, gop, 13, 1, func(p int, alone bool) bool {
					if p == 10 && !alone {
						inUse = v.InUse() // the replay's first picture, before its analysis
					}
					return false
				})
				if !equalInts(got, tc.want) {
					t.Fatalf("pushed %v, want %v", got, tc.want)
				}
				if tc.room == 1 && (inUse != 1 || v.InUse() != 0) {
					t.Errorf("room in use %d during the replay and %d after, want 1 and 0", inUse, v.InUse())
				}
			})
		}
	})
	t.Run("auto_take_only_early_in_the_GOP", func(t *testing.T) {
		// 25 fps, a keyframe every 2 s: a take 0.2 s after the keyframe
		// replays the 5 units since; one 1.2 s after it (a result that
		// waited for the budget) replays nothing, and the result waits
		// for the next keyframe decoded.
		const fps, gop2s = 25, 50
		for _, tc := range []struct {
			name   string
			takeAt int
			want   []int
		}{
			{"early", 55, []int{-1, -51, 50, 51, 52, 53, 54, 55, -101}},
			{"late", 80, []int{-1, -51, -101}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
				got := routeTaking(g, 110, gop2s, tc.takeAt, time.Second/fps, func(int, bool) bool { return false })
				if !equalInts(got, tc.want) {
					t.Fatalf("pushed %v, want %v", got, tc.want)
				}
			})
		}
	})
	t.Run("auto_take_unanswered_ends", func(t *testing.T) {
		// 25 fps, a keyframe every 4 s: a take 0.2 s in whose pictures are
		// never analyzed (each fails to decode) ends 2 s after its
		// keyframe and gives its room back, rather than keep the camera
		// decoding to the next keyframe.
		const fps = 25
		v := NewVerifiers(1)
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 1000, 1<<24)
		g.ShareVerifiers(v)
		got := routeTaking(g, 100, 100, 5, time.Second/fps, nil)
		if last := got[len(got)-1]; last != 50 || v.InUse() != 0 {
			t.Fatalf("pushed %v (want the replay 0..5, then each unit to 50, the first more than 2 s after the keyframe), room in use %d, want 0", got, v.InUse())
		}
	})
	t.Run("auto_take_clock_back", func(t *testing.T) {
		// The camera's clock steps back 1 s after unit 10 (PTS 0.4 s):
		// a take at unit 20 finds its unit before the buffer's keyframe
		// and replays nothing (the whole GOP would have been replayed).
		const fps = 25
		pts := func(i int) time.Duration {
			d := time.Duration(i) * time.Second / fps
			if i%100 > 10 {
				d -= time.Second
			}
			return d
		}
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 1000, 1<<24)
		got := routeTakingAt(g, 100, 100, 20, pts, time.Second/fps, func(int, bool) bool { return false })
		if !equalInts(got, []int{-1}) {
			t.Fatalf("pushed %v, want the first keyframe alone and nothing more", got)
		}
	})
	t.Run("auto_take_open_GOP", func(t *testing.T) {
		// An open GOP (x265's CRA keyframes, 3 B-frames, 10 fps): the two
		// units after each keyframe in decode order are shown before it.
		// A result waits (Take) as keyframe 50 comes; its analysis answers
		// 3 units after each unit is pushed, as a worker does. The take
		// decodes from the keyframe until the keyframe's picture is
		// analyzed; it must not end at the first leading unit, whose PTS
		// is before the keyframe's (the first look's result was then
		// taken a keyframe_interval later).
		const fps, gop = 10, 50
		step := time.Second / fps
		pts := func(i int) time.Duration {
			if k := i % gop; k == 1 || k == 2 {
				return time.Duration(i-3) * step
			}
			return time.Duration(i) * step
		}
		for _, tc := range []struct {
			takeAt int
			want   []int
		}{
			{50, []int{-1, 50, 51, 52}},      // the result waits as the keyframe comes
			{51, []int{-1, -51, 50, 51, 52}}, // as the first leading unit comes: replayed from the keyframe
		} {
			g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 1000, 1<<24)
			var got []int
			var queue []time.Duration // pushed, not analyzed yet
			index := map[time.Duration]int{}
			for i := range 70 {
				index[pts(i)] = i
				if i == tc.takeAt {
					g.Take()
				}
				g.Route(unit.AccessUnit{Data: make([]byte, 100), Key: i%gop == 0, PTS: pts(i)}, func(u unit.AccessUnit, alone bool) {
					j := index[u.PTS]
					if alone {
						j = -j - 1
					}
					got = append(got, j)
					queue = append(queue, u.PTS)
				})
				if len(queue) >= 3 {
					g.Analyzed(queue[0], false)
					queue = queue[1:]
				}
			}
			if !equalInts(got, tc.want) {
				t.Errorf("take at %d: pushed %v, want %v: the keyframe and its leading units, until its picture is analyzed", tc.takeAt, got, tc.want)
			}
		}
	})
	t.Run("auto_take_reset", func(t *testing.T) {
		// A take waiting when the stream starts over was the old stream's:
		// the new one starts idle, its first keyframe decoded alone.
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		routeTaking(g, 15, gop, -1, 1, func(int, bool) bool { return false })
		g.Take()
		g.Reset()
		if got := routeTaking(g, 15, gop, -1, 1, func(int, bool) bool { return false }); !equalInts(got, []int{-1, -11}) {
			t.Fatalf("after the reset pushed %v, want -1 -11 (keyframes alone)", got)
		}
	})
	t.Run("auto_take_as_a_wake_ends", func(t *testing.T) {
		// The signal wakes the camera at unit 12, its pictures show
		// nothing, and the wake is rejected: the camera sleeps at unit 14.
		// A result waiting as it does (Take at 14) is taken on unit 14,
		// next in the decoder's chain, not at the next keyframe decoded.
		for _, tc := range []struct {
			name   string
			takeAt int
			want   []int
		}{
			{"no take", -1, []int{-1, -11, 10, 11, 12, 13, -21}},
			{"take as it sleeps", 14, []int{-1, -11, 10, 11, 12, 13, 14, -21}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 12 && i <= 13 }}, nil, 100, 1<<20)
				got := routeTaking(g, 25, gop, tc.takeAt, 1, func(int, bool) bool { return false })
				if !equalInts(got, tc.want) {
					t.Fatalf("pushed %v, want %v", got, tc.want)
				}
			})
		}
	})
	t.Run("auto_idle_keyframe_when_suspect", func(t *testing.T) {
		// The signal suspects something at keyframe 20 (evidence without a
		// wake): that keyframe is decoded before its interval.
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }, suspect: func(i int) bool { return i == 20 }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(40)
		got := runGate(g, 60, gop, nil)
		want := []int{-1, -21} // without the suspicion: -1, -41
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
	})
	t.Run("auto_idle_keyframe_gap_within_interval", func(t *testing.T) {
		// With a GOP of 10 and an interval of 25, skipping keyframe 20
		// would leave 30 between two decoded: it is decoded.
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, nil, 100, 1<<20)
		g.SkipIdleKeyframes(25)
		got := runGate(g, 50, gop, nil)
		want := []int{-1, -21, -41}
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
	})
	t.Run("ladder_sparse_step", func(t *testing.T) {
		// Past capacity, an idle camera in mode auto decodes 1 in 4 of
		// its keyframes alone (sched.Overload.IdleEvery), a camera in
		// mode keyframes every other one. The step is below the
		// keyframes step (sched.Overload.KeyframesOnly), so activity does
		// not wake a camera in mode auto.
		sparse := &sched.Overload{}
		sparse.Set(sched.StepSparse)
		g := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 33 && i <= 35 }}, sparse, 100, 1<<20)
		got := runGate(g, 45, gop, nil)
		checkChain(t, got, gop)
		want := []int{-1, -41}
		if !equalInts(got, want) {
			t.Fatalf("pushed %v\nwant   %v", got, want)
		}
		g2 := New(config.ModeKeyframes, nil, sparse, 100, 1<<20)
		if got := runGate(g2, 45, gop, nil); !equalInts(got, []int{-1, -21, -41}) {
			t.Fatalf("mode keyframes, sparse: pushed %v", got)
		}
	})
	t.Run("ladder_idle_cameras_shed_first", func(t *testing.T) {
		// From the ladder's first rung an idle camera in mode auto
		// decodes 1 in 2 of the keyframes due on interval (one in 20
		// here), 1 in 3 on the keyframes rung (not every keyframe), 1 in
		// 4 on the sparse rung; one whose signal is active decodes every
		// keyframe on the keyframes rung.
		load := &sched.Overload{}
		idle := func() *Gate {
			g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, load, 100, 1<<20)
			g.SkipIdleKeyframes(20)
			return g
		}
		if got, want := runGate(idle(), 100, gop, nil), []int{-1, -21, -41, -61, -81}; !equalInts(got, want) {
			t.Fatalf("full: pushed %v\nwant   %v", got, want)
		}
		for step, want := range map[sched.Step][]int{
			sched.StepReduced:   {-1, -31, -61, -91},
			sched.StepKeyframes: {-1, -41, -81},
			sched.StepSparse:    {-1, -51},
		} {
			load.Set(step)
			if got := runGate(idle(), 100, gop, nil); !equalInts(got, want) {
				t.Fatalf("%s: pushed %v\nwant   %v", step, got, want)
			}
		}
		// A keyframe that is a cue (the signal suspects something at 21)
		// is decoded whatever the rung, and the count starts over.
		load.Set(sched.StepSparse)
		cue := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }, suspect: func(i int) bool { return i == 20 }}, load, 100, 1<<20)
		cue.SkipIdleKeyframes(20)
		if got, want := runGate(cue, 100, gop, nil), []int{-1, -21, -71}; !equalInts(got, want) {
			t.Fatalf("sparse, suspect at 21: pushed %v\nwant   %v", got, want)
		}
		load.Set(sched.StepKeyframes)
		g := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 45 && i <= 75 }}, load, 100, 1<<20)
		g.SkipIdleKeyframes(20)
		if got, want := runGate(g, 80, gop, nil), []int{-1, -41, -51, -61, -71}; !equalInts(got, want) {
			t.Fatalf("keyframes, active 45-75: pushed %v\nwant   %v", got, want)
		}
	})
	t.Run("pressure_floor_thins_idle_keyframes_and_leaves_wakes", func(t *testing.T) {
		// A busy camera overloaded on a loaded machine presses the idle
		// cameras down to the sparse floor: an idle camera decodes 1 in 4
		// of its keyframes due, as on its own sparse rung; but its own
		// step is full, so its activity still wakes it (its own keyframes
		// rung would not).
		p := sched.NewPressure(sched.LadderConfig{}, nil)
		busy := sched.NewLadder(sched.LadderConfig{Pressure: p})
		busy.Busy(true)
		idleLadder := sched.NewLadder(sched.LadderConfig{Pressure: p})
		idleLadder.Idle(true)
		defer idleLadder.Close()
		now := time.Now() // the floor, reached in the next 8 s, holds 15 s past them
		for d := time.Duration(0); d <= 8*time.Second; d += 100 * time.Millisecond {
			busy.Observe(now.Add(d), 3*time.Second, 0.9, false)
		}
		if f := p.Floor(now.Add(8 * time.Second)); f != sched.StepSparse {
			t.Fatalf("floor %s, want sparse", f)
		}
		load := &sched.Overload{}
		load.Follow(p)
		g := New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }}, load, 100, 1<<20)
		g.SkipIdleKeyframes(20)
		if got, want := runGate(g, 100, gop, nil), []int{-1, -51}; !equalInts(got, want) {
			t.Fatalf("idle under the floor: pushed %v\nwant   %v", got, want)
		}
		// Every keyframe due (keyframe_interval 0): still 1 in 4, and a
		// suspect one (21) is decoded whatever the count.
		g = New(config.ModeAuto, &scriptedActivity{active: func(int) bool { return false }, suspect: func(i int) bool { return i == 20 }}, load, 100, 1<<20)
		if got, want := runGate(g, 70, gop, nil), []int{-1, -21, -61}; !equalInts(got, want) {
			t.Fatalf("interval 0 under the floor, suspect at 21: pushed %v\nwant   %v", got, want)
		}
		g = New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 14 && i <= 25 }}, load, 100, 1<<20)
		g.SkipIdleKeyframes(20)
		got := runGate(g, 30, gop, nil)
		checkChain(t, got, gop)
		if g.wakeups.Load() != 1 || !slices.Contains(got, 14) {
			t.Fatalf("active 14-25 under the floor: pushed %v, %d wake-ups; want a wake at 14", got, g.wakeups.Load())
		}
	})
	t.Run("ladder_keyframes_step_and_back", func(t *testing.T) {
		load := &sched.Overload{}
		g := New(config.ModeAll, nil, load, 100, 1<<20)
		got := runGate(g, 40, gop, func(i int) {
			if i >= 5 && i < 23 {
				load.Set(sched.StepKeyframes)
			} else {
				load.Set(sched.StepFull)
			}
		})
		checkChain(t, got, gop)
		if containsInt(got, 23) || !containsInt(got, 30) || !containsInt(got, -11) || containsInt(got, 11) {
			t.Fatalf("pushed %v", got)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestVerifiersBoundWakes: with room for one verification, a second
// camera whose signal wakes while the first verifies waits (its wake
// deferred, nothing decoded but what an idle camera decodes), wakes from
// its keyframe as soon as the first is rejected, or, while the room stays
// taken, has its next keyframe decoded as a cue, whose quiet picture
// rejects the wake; the room comes back on Close and Reset.
func TestVerifiersBoundWakes(t *testing.T) {
	const gop = 10
	feed := func(g *Gate, i int, analyze func(pts time.Duration)) []int {
		var got []int
		au := unit.AccessUnit{Data: make([]byte, 100), Key: i%gop == 0, PTS: time.Duration(i), QP: -1}
		g.Route(au, func(u unit.AccessUnit, alone bool) {
			if alone {
				got = append(got, -int(u.PTS)-1)
			} else {
				got = append(got, int(u.PTS))
			}
			if analyze != nil {
				analyze(u.PTS)
			}
		})
		return got
	}
	// newGateWith is a camera sharing v whose signal is active as scripted.
	newGateWith := func(v *Verifiers, active func(i int) bool) (*Gate, *scriptedActivity) {
		act := &scriptedActivity{active: active}
		g := New(config.ModeAuto, act, nil, 100, 1<<20)
		g.SkipIdleKeyframes(1000) // idle: the first keyframe alone, then none but cues
		g.ShareVerifiers(v)
		return g, act
	}
	newGate := func(v *Verifiers, from int) (*Gate, *scriptedActivity) {
		return newGateWith(v, func(i int) bool { return i >= from && i <= 25 })
	}
	t.Run("waits_for_a_free_verifier", func(t *testing.T) {
		v := NewVerifiers(1)
		a, _ := newGate(v, 12)
		b, bAct := newGate(v, 12)
		var gotB []int
		for i := range 30 {
			feed(a, i, func(pts time.Duration) { a.Analyzed(pts, false) }) // a's wake: nothing there
			gotB = append(gotB, feed(b, i, func(pts time.Duration) { b.Analyzed(pts, pts >= 12) })...)
			if i == 12 && (b.Deferred() != 1 || v.InUse() != 1 || len(gotB) != 1) {
				t.Fatalf("unit 12: b deferred %d, verifiers in use %d, b pushed %v; want 1, 1, [-1]", b.Deferred(), v.InUse(), gotB)
			}
		}
		checkChain(t, gotB, gop)
		if gotB[1] != 10 || gotB[2] != 11 || gotB[3] != 12 || gotB[4] != 13 || b.Wakeups() != 1 || bAct.rejects != 0 {
			t.Fatalf("b pushed %v, %d wake-ups, %d rejects: want a wake at 13 replaying from keyframe 10, confirmed", gotB, b.Wakeups(), bAct.rejects)
		}
		if v.InUse() != 0 {
			t.Fatalf("%d verifiers still in use after both verifications ended", v.InUse())
		}
	})
	t.Run("judged_on_the_next_keyframe", func(t *testing.T) {
		v := NewVerifiers(1)
		a, _ := newGate(v, 12)
		b, bAct := newGate(v, 13)
		var gotB []int
		for i := range 25 {
			feed(a, i, nil) // a's pictures are never analyzed: its verification runs on
			gotB = append(gotB, feed(b, i, func(pts time.Duration) { b.Analyzed(pts, false) })...)
		}
		if !equalInts(gotB, []int{-1, -21}) || b.Wakeups() != 0 || b.Deferred() != 1 || bAct.rejects != 1 {
			t.Fatalf("b pushed %v, %d wake-ups, %d deferred, %d rejects; want [-1 -21] (keyframe 20 a cue, its picture quiet), 0, 1, 1",
				gotB, b.Wakeups(), b.Deferred(), bAct.rejects)
		}
		if v.InUse() != 1 {
			t.Fatalf("verifiers in use %d, want a's 1", v.InUse())
		}
		a.Close()
		a.Close()
		for i := 25; i < 30; i++ {
			feed(a, i, nil) // a sleeps: nothing more to give back
		}
		if v.InUse() != 0 {
			t.Fatalf("verifiers in use %d after Close, want 0", v.InUse())
		}
	})
	t.Run("a_keyframe_not_analyzed_judges_nothing_later", func(t *testing.T) {
		// b's cue keyframe 20 is never analyzed (its decode failed); b
		// wakes for real at 33, from keyframe 30, whose quiet picture
		// must not answer for keyframe 20.
		v := NewVerifiers(1)
		a, _ := newGate(v, 12)
		b, act := newGateWith(v, func(i int) bool { return i == 13 || i == 14 || i >= 33 })
		for i := range 40 {
			feed(a, i, nil)
			feed(b, i, func(pts time.Duration) {
				if pts != 20 {
					b.Analyzed(pts, pts >= 33)
				}
			})
		}
		if act.rejects != 0 || b.Wakeups() != 1 {
			t.Fatalf("b: %d rejects, %d wake-ups; want its wake at 33 confirmed, never rejected", act.rejects, b.Wakeups())
		}
	})
	t.Run("a_late_judgement_leaves_a_wake_alone", func(t *testing.T) {
		// The verifier comes back just after b's cue keyframe 20 was
		// queued; b wakes at 21 and the worker, a unit behind, analyzes
		// keyframe 20 (quiet) after the wake: b's wake, whose pictures
		// from 21 on show the person, stands.
		v := NewVerifiers(1)
		a, _ := newGate(v, 12)
		b, act := newGateWith(v, func(i int) bool { return i >= 13 })
		var queue []time.Duration
		for i := range 30 {
			feed(a, i, nil)
			feed(b, i, func(pts time.Duration) { queue = append(queue, pts) })
			if i == 20 {
				a.Close()
			}
			for len(queue) > 1 {
				p := queue[0]
				queue = queue[1:]
				b.Analyzed(p, p >= 21)
			}
		}
		if act.rejects != 0 || b.Wakeups() != 1 || !b.DecodingAll() {
			t.Fatalf("b: %d rejects, %d wake-ups, awake %v; want its wake at 21 standing", act.rejects, b.Wakeups(), b.DecodingAll())
		}
	})
	t.Run("no_judgement_after_a_long_gap", func(t *testing.T) {
		// Keyframes 15 s apart: the analyzer learns its background again
		// on the next one and cannot see the event on it.
		v := NewVerifiers(1)
		hold := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 1 }}, nil, 100, 1<<20)
		hold.ShareVerifiers(v)
		hold.Route(unit.AccessUnit{Data: make([]byte, 100), PTS: 0, Key: true, QP: -1}, func(unit.AccessUnit, bool) {})
		hold.Route(unit.AccessUnit{Data: make([]byte, 100), PTS: 1, QP: -1}, func(unit.AccessUnit, bool) {})
		act := &scriptedActivity{active: func(i int) bool { return i >= 2 }}
		b := New(config.ModeAuto, act, nil, 100, 1<<20)
		b.ShareVerifiers(v)
		step := 15 * time.Second / 4
		for i := range 10 {
			au := unit.AccessUnit{Data: make([]byte, 100), PTS: time.Duration(i) * step, Key: i%4 == 0, QP: -1}
			b.Route(au, func(u unit.AccessUnit, _ bool) { b.Analyzed(u.PTS, false) })
		}
		if b.Deferred() != 1 || act.rejects != 0 {
			t.Fatalf("b: %d deferred, %d rejects; want 1 and none (the keyframe after 15 s cannot judge)", b.Deferred(), act.rejects)
		}
	})
	t.Run("keyframes_rung_gives_it_back", func(t *testing.T) {
		// Awake and verifying when the ladder steps down to keyframes:
		// no wake is verified on keyframes alone, the verifier goes back.
		v := NewVerifiers(1)
		var load sched.Overload
		a := New(config.ModeAuto, &scriptedActivity{active: func(i int) bool { return i >= 12 }}, &load, 100, 1<<20)
		a.ShareVerifiers(v)
		for i := range 16 {
			if i == 14 {
				load.Set(sched.StepKeyframes)
			}
			feed(a, i, nil)
			if i == 13 && v.InUse() != 1 {
				t.Fatalf("verifiers in use %d while a verifies, want 1", v.InUse())
			}
		}
		if v.InUse() != 0 {
			t.Fatalf("verifiers in use %d on the keyframes rung, want 0", v.InUse())
		}
	})
	t.Run("reset_gives_it_back", func(t *testing.T) {
		v := NewVerifiers(1)
		a, _ := newGate(v, 12)
		for i := range 14 {
			feed(a, i, nil)
		}
		if v.InUse() != 1 {
			t.Fatalf("verifiers in use %d while a verifies, want 1", v.InUse())
		}
		a.Reset()
		if v.InUse() != 0 {
			t.Fatalf("verifiers in use %d after Reset, want 0", v.InUse())
		}
	})
}

// routeTaking routes n units of an IPPP stream, a keyframe every gop
// units, step apart in PTS, calling Take before unit takeAt, and returns
// the units pushed by index (-i-1 for one decoded alone); analyzed says
// whether the analyzer is active after each unit pushed (nil: no unit
// pushed is ever analyzed, as when each fails to decode).
func routeTaking(g *Gate, n, gop, takeAt int, step time.Duration, analyzed func(i int, alone bool) bool) []int {
	return routeTakingAt(g, n, gop, takeAt, func(i int) time.Duration { return time.Duration(i) * step }, step, analyzed)
}

// routeTakingAt is routeTaking with unit i at PTS pts(i), indexed back by
// PTS/step.
func routeTakingAt(g *Gate, n, gop, takeAt int, pts func(int) time.Duration, step time.Duration, analyzed func(i int, alone bool) bool) []int {
	var got []int
	for i := range n {
		if i == takeAt {
			g.Take()
		}
		au := unit.AccessUnit{Data: make([]byte, 100), Key: i%gop == 0, PTS: pts(i)}
		g.Route(au, func(u unit.AccessUnit, alone bool) {
			p := int(u.PTS / step)
			if alone {
				got = append(got, -p-1)
			} else {
				got = append(got, p)
			}
			if analyzed != nil {
				g.Analyzed(u.PTS, analyzed(p, alone))
			}
		})
	}
	return got
}
