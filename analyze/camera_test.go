package analyze

import (
	"image"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

var algorithms = []string{config.AlgorithmDiff, config.AlgorithmMOG2}

func TestStaticSceneRaisesNothing(t *testing.T) {
	for _, algo := range algorithms {
		for _, tc := range []struct {
			fps   int
			noise float64
		}{{5, 10}, {25, 10}, {5, 20}, {25, 20}, {5, 30}} {
			t.Run(algo+"/"+strconv.Itoa(tc.fps)+"fps/noise"+strconv.Itoa(int(tc.noise)), func(t *testing.T) {
				c, f := newTestCamera(t, algo)
				if got := feed(c, f, tc.fps, 0, 60*time.Second, staticScene(100, tc.noise)); len(got) != 0 {
					t.Fatalf("static scene: got %d transitions, first %+v", len(got), got[0])
				}
			})
		}
	}
}

func TestMovingRectangle(t *testing.T) {
	const from = 10 * time.Second
	cfg := config.DefaultMotion()
	for _, algo := range algorithms {
		for _, tc := range []struct {
			fps     int
			to      time.Duration
			updates int // at least
		}{{5, 14 * time.Second, 0}, {25, 14 * time.Second, 0}, {5, 27 * time.Second, 3}} {
			t.Run(algo+"/"+strconv.Itoa(tc.fps)+"fps/until"+tc.to.String(), func(t *testing.T) {
				c, f := newTestCamera(t, algo)
				sf := movingRect(f.Width, from, tc.to)
				got := feed(c, f, tc.fps, 0, tc.to+20*time.Second, sf)
				if len(got) < 2 {
					t.Fatalf("got %d transitions, want start..end: %+v", len(got), got)
				}
				start, end := got[0], got[len(got)-1]
				if start.Phase != PhaseStart || end.Phase != PhaseEnd {
					t.Fatalf("phases %v..%v, want start..end", start.Phase, end.Phase)
				}
				startAt := start.FrameTime.Sub(t0)
				if startAt < from || startAt > from+cfg.MinDuration+500*time.Millisecond {
					t.Errorf("start at %v, want in [%v, %v]", startAt, from, from+cfg.MinDuration+500*time.Millisecond)
				}
				if start.StartedAt.Before(t0.Add(from)) || start.FrameTime.Sub(start.StartedAt) < cfg.MinDuration {
					t.Errorf("StartedAt %v with start frame %v: want motion from %v lasting MinDuration", start.StartedAt.Sub(t0), startAt, from)
				}
				if len(start.Boxes) == 0 || len(start.Boxes) > MaxBoxes {
					t.Fatalf("start has %d boxes", len(start.Boxes))
				}
				if r := sf(startAt).rect; !overlaps(start.Boxes[0], r, f.Width, f.Height) {
					t.Errorf("largest box %v does not overlap the rectangle %v", start.Boxes[0], r)
				}
				if start.Score <= 0 || start.Score > 1 {
					t.Errorf("start score %v, want in (0,1]", start.Score)
				}
				if !end.EndedAt.After(t0.Add(tc.to)) && !end.EndedAt.Equal(t0.Add(tc.to)) && end.EndedAt.Sub(t0) < tc.to-time.Second {
					t.Errorf("ended at %v, want near or after the motion's end %v", end.EndedAt.Sub(t0), tc.to)
				}
				if q := end.FrameTime.Sub(end.EndedAt); q < cfg.QuietPeriod {
					t.Errorf("end reported %v after the last motion, want >= QuietPeriod %v", q, cfg.QuietPeriod)
				}
				if end.Score < start.Score {
					t.Errorf("end score %v below start score %v, want the max", end.Score, start.Score)
				}
				prev := start.FrameTime
				for i, tr := range got {
					if tr.IncidentID != start.IncidentID || tr.IncidentID == "" {
						t.Errorf("transition %d id %q, want %q", i, tr.IncidentID, start.IncidentID)
					}
					if tr.Kind != KindMotion || !tr.StartedAt.Equal(start.StartedAt) {
						t.Errorf("transition %d kind %q started %v", i, tr.Kind, tr.StartedAt)
					}
					if i == 0 || i == len(got)-1 {
						continue
					}
					if tr.Phase != PhaseUpdate || !tr.EndedAt.IsZero() || len(tr.Boxes) == 0 {
						t.Errorf("transition %d: %v with %d boxes, ended %v; want update with boxes", i, tr.Phase, len(tr.Boxes), tr.EndedAt)
					}
					if d := tr.FrameTime.Sub(prev); d < cfg.UpdateInterval {
						t.Errorf("update %d only %v after the previous transition", i, d)
					}
					prev = tr.FrameTime
				}
				if n := len(got) - 2; n < tc.updates {
					t.Errorf("got %d updates, want >= %d", n, tc.updates)
				}
			})
		}
	}
}

func TestNoIncident(t *testing.T) {
	static := staticScene(100, 10)
	parked := func(time.Duration) scene {
		return scene{bg: 100, noise: 10, rect: image.Rect(100, 50, 180, 110), fg: 170}
	}
	lightsOn := func(at time.Duration) scene {
		if at < 20*time.Second {
			return scene{bg: 60, noise: 10}
		}
		return scene{bg: 150, noise: 10}
	}
	lightsRamp := func(at time.Duration) scene {
		// 60 -> 150 over one second from t=20s.
		x := min(max((at-20*time.Second).Seconds(), 0), 1)
		return scene{bg: 60 + 90*x, noise: 10}
	}
	blip := func(at time.Duration) scene {
		s := scene{bg: 100, noise: 10, fg: 170}
		if at >= 10*time.Second && at < 10*time.Second+300*time.Millisecond {
			s.rect = image.Rect(100, 50, 160, 100)
		}
		return s
	}
	for _, algo := range algorithms {
		for _, tc := range []struct {
			name string
			run  func(c *Camera, f *Frame) []Transition
		}{
			{"lights_on", func(c *Camera, f *Frame) []Transition {
				return feed(c, f, 5, 0, 40*time.Second, lightsOn)
			}},
			{"lights_ramp_1s", func(c *Camera, f *Frame) []Transition {
				return feed(c, f, 5, 0, 40*time.Second, lightsRamp)
			}},
			{"gap_30s_new_scene", func(c *Camera, f *Frame) []Transition {
				out := feed(c, f, 5, 0, 20*time.Second, static)
				return append(out, feed(c, f, 5, 50*time.Second, 80*time.Second, parked)...)
			}},
			{"reset_new_scene", func(c *Camera, f *Frame) []Transition {
				out := feed(c, f, 5, 0, 20*time.Second, static)
				c.Reset()
				return append(out, feed(c, f, 5, 20*time.Second, 40*time.Second, parked)...)
			}},
			{"blip_shorter_than_min_duration_5fps", func(c *Camera, f *Frame) []Transition {
				return feed(c, f, 5, 0, 20*time.Second, blip)
			}},
			{"blip_shorter_than_min_duration_25fps", func(c *Camera, f *Frame) []Transition {
				return feed(c, f, 25, 0, 20*time.Second, blip)
			}},
		} {
			t.Run(algo+"/"+tc.name, func(t *testing.T) {
				c, f := newTestCamera(t, algo)
				if got := tc.run(c, f); len(got) != 0 {
					t.Fatalf("got %d transitions, want none; first %+v", len(got), got[0])
				}
			})
		}
		// Controls: the same scene changes without a gap or Reset, and a
		// longer blip, do raise an incident, so the cases above could fail.
		t.Run(algo+"/control_new_scene_without_reset", func(t *testing.T) {
			c, f := newTestCamera(t, algo)
			out := feed(c, f, 5, 0, 20*time.Second, static)
			out = append(out, feed(c, f, 5, 20*time.Second, 40*time.Second, parked)...)
			if len(out) == 0 || out[0].Phase != PhaseStart {
				t.Fatalf("got %+v, want an incident", out)
			}
		})
		t.Run(algo+"/control_long_blip", func(t *testing.T) {
			c, f := newTestCamera(t, algo)
			long := func(at time.Duration) scene {
				s := scene{bg: 100, noise: 10, fg: 170}
				if at >= 10*time.Second && at < 11*time.Second {
					s.rect = image.Rect(100, 50, 160, 100)
				}
				return s
			}
			if out := feed(c, f, 5, 0, 20*time.Second, long); len(out) == 0 {
				t.Fatal("1s blip raised nothing, want an incident")
			}
		})
	}
}

func TestGapEndsOpenIncident(t *testing.T) {
	for _, algo := range algorithms {
		for _, tc := range []struct {
			name string
			jump time.Duration // from the last frame at 15.8s
		}{{"forward_30s", 30 * time.Second}, {"backward_30s", -30 * time.Second}} {
			t.Run(algo+"/"+tc.name, func(t *testing.T) {
				c, f := newTestCamera(t, algo)
				sf := movingRect(f.Width, 10*time.Second, time.Hour)
				out := feed(c, f, 5, 0, 16*time.Second, sf)
				if len(out) == 0 || out[0].Phase != PhaseStart {
					t.Fatalf("got %+v, want a start", out)
				}
				last := 16*time.Second - 200*time.Millisecond
				next := last + tc.jump
				after := feed(c, f, 5, next, next+time.Second, sf) // still learning
				if len(after) != 1 {
					t.Fatalf("after the jump got %d transitions, want 1 end: %+v", len(after), after)
				}
				end := after[0]
				if end.Phase != PhaseEnd || end.IncidentID != out[0].IncidentID || !end.EndedAt.Equal(t0.Add(last)) {
					t.Errorf("got %v id %s ended %v, want end of %s at the last frame %v",
						end.Phase, end.IncidentID, end.EndedAt.Sub(t0), out[0].IncidentID, last)
				}
				if !end.FrameTime.Equal(t0.Add(next)) {
					t.Errorf("end frame time %v, want the first frame after the jump %v", end.FrameTime.Sub(t0), next)
				}
			})
		}
	}
}

func TestSmallStepBackIgnored(t *testing.T) {
	c, f := newTestCamera(t, config.AlgorithmDiff)
	sf := movingRect(f.Width, 10*time.Second, time.Hour)
	out := feed(c, f, 5, 0, 12*time.Second, sf)
	if len(out) != 1 || out[0].Phase != PhaseStart {
		t.Fatalf("got %+v, want a start", out)
	}
	if got := feed(c, f, 5, 11*time.Second, 11500*time.Millisecond, sf); len(got) != 0 {
		t.Fatalf("out-of-order frames raised %+v", got)
	}
}

func TestFlush(t *testing.T) {
	for _, algo := range algorithms {
		t.Run(algo, func(t *testing.T) {
			c, f := newTestCamera(t, algo)
			if got := c.Flush(t0); got != nil {
				t.Fatalf("flush with nothing open: %+v", got)
			}
			out := feed(c, f, 5, 0, 16*time.Second, movingRect(f.Width, 10*time.Second, time.Hour))
			if len(out) == 0 || out[0].Phase != PhaseStart {
				t.Fatalf("got %+v, want a start", out)
			}
			now := t0.Add(17 * time.Second)
			got := c.Flush(now)
			if len(got) != 1 || got[0].Phase != PhaseEnd || got[0].IncidentID != out[0].IncidentID ||
				!got[0].EndedAt.Equal(now) || !got[0].FrameTime.Equal(now) {
				t.Fatalf("flush got %+v, want one end of %s at %v", got, out[0].IncidentID, now)
			}
			if again := c.Flush(now); again != nil {
				t.Errorf("second flush: %+v", again)
			}
		})
	}
}

func TestCloseIdempotent(t *testing.T) {
	c, f := newTestCamera(t, config.AlgorithmMOG2)
	feed(c, f, 5, 0, 3*time.Second, staticScene(100, 10))
	c.Close()
	c.Close()
	if got := c.Analyze(f, t0.Add(time.Minute)); got != nil {
		t.Errorf("analyze after close: %+v", got)
	}
	f.Close()
	f.Close()
}

func TestAnalyzeAllocs(t *testing.T) {
	for _, algo := range algorithms {
		for _, tc := range []struct {
			name   string
			sf     sceneFunc
			moving bool
		}{
			{"static", staticScene(100, 10), false},
			{"moving", movingRect(320, 5*time.Second, time.Hour), true},
		} {
			t.Run(algo+"/"+tc.name, func(t *testing.T) {
				cfg := config.DefaultAnalysis()
				cfg.Motion.Algorithm = algo
				cfg.Motion.UpdateInterval = time.Hour // no transitions while measuring
				c, err := NewCamera(cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				frames := make([]*Frame, 25)
				for i := range frames {
					fr, err := NewFrame(320, 180)
					if err != nil {
						t.Fatal(err)
					}
					defer fr.Close()
					frames[i] = fr
				}
				const step = 40 * time.Millisecond
				rng := newNoise(1)
				at := time.Duration(0)
				next := func() []Transition {
					f := frames[int(at/step)%len(frames)]
					tc.sf(at).draw(f, rng)
					out := c.Analyze(f, t0.Add(at))
					at += step
					return out
				}
				for at < 10*time.Second {
					next()
				}
				// Pre-draw the measured frames so that drawing is not counted.
				for i := range frames {
					tc.sf(at+time.Duration(i)*step).draw(frames[(int(at/step)+i)%len(frames)], rng)
				}
				var got int
				allocs := testing.AllocsPerRun(len(frames)-1, func() {
					got += len(c.Analyze(frames[int(at/step)%len(frames)], t0.Add(at)))
					at += step
				})
				t.Logf("%.2f allocs per steady-state Analyze", allocs)
				if got != 0 {
					t.Fatalf("steady state raised %d transitions", got)
				}
				if allocs != 0 {
					t.Errorf("%.2f allocs per Analyze, want 0", allocs)
				}
				if moving := c.motion.open && c.d.n > 0; moving != tc.moving {
					t.Errorf("measured frames moving=%v, want %v", moving, tc.moving)
				}
			})
		}
	}
}
