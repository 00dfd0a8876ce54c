package analyze

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// texture is a still 640x360 picture with structure at several scales
// (blocks of random gray and a fine pattern), which views of the tamper
// tests are cut from.
type texture struct{ m gocv.Mat }

func newTexture(t testing.TB, seed uint64) texture {
	t.Helper()
	m := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC1)
	rng := rand.New(rand.NewPCG(seed, 1))
	for y := 0; y < 360; y += 30 {
		for x := 0; x < 640; x += 40 {
			g := 40 + rng.IntN(160)
			gocv.Rectangle(&m, image.Rect(x, y, x+40, y+30), color.RGBA{uint8(g), uint8(g), uint8(g), 0}, -1)
			if rng.IntN(2) == 0 {
				gocv.Rectangle(&m, image.Rect(x+10, y+8, x+16, y+14), color.RGBA{uint8(255 - g), uint8(255 - g), uint8(255 - g), 0}, -1)
			}
		}
	}
	t.Cleanup(func() { m.Close() })
	return texture{m}
}

// view is how the camera sees the texture at one moment.
type view struct {
	x, y   int     // offset of the 320x180 view in the texture
	gain   float64 // 1: unchanged
	offset float64
	blur   float64 // Gaussian sigma, 0: sharp
	black  bool    // lens covered
	noise  float64 // sensor noise sigma
	rect   image.Rectangle
}

// draw renders v of tx into f (320x180) with fresh noise.
func (tx texture) draw(f *Frame, v view) {
	src := tx.m.Region(image.Rect(v.x, v.y, v.x+320, v.y+180))
	defer src.Close()
	src.CopyTo(&f.mat)
	if v.blur > 0 {
		gocv.GaussianBlur(f.mat, &f.mat, image.Pt(0, 0), v.blur, v.blur, gocv.BorderDefault)
	}
	if !v.rect.Empty() {
		gocv.Rectangle(&f.mat, v.rect, color.RGBA{20, 20, 20, 0}, -1)
	}
	gain := v.gain
	if gain == 0 {
		gain = 1
	}
	if v.black {
		gain, v.offset = 0.05, 5
	}
	if gain != 1 || v.offset != 0 {
		f.mat.ConvertToWithParams(&f.mat, gocv.MatTypeCV8U, float32(gain), float32(v.offset))
	}
	if v.noise > 0 {
		n := gocv.NewMatWithSize(180, 320, gocv.MatTypeCV8UC1)
		defer n.Close()
		gocv.RandN(&n, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(v.noise, 0, 0, 0))
		// Add signed noise: f + n - n' with two half draws keeps it cheap.
		m := gocv.NewMatWithSize(180, 320, gocv.MatTypeCV8UC1)
		defer m.Close()
		gocv.RandN(&m, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(v.noise, 0, 0, 0))
		gocv.Add(f.mat, n, &f.mat)
		gocv.Subtract(f.mat, m, &f.mat)
	}
}

// run feeds views at 5 fps for offsets from <= at < to and returns the
// transitions.
func run(c *Camera, f *Frame, tx texture, from, to time.Duration, vf func(at time.Duration) view) []Transition {
	var out []Transition
	for at := from; at < to; at += 200 * time.Millisecond {
		tx.draw(f, vf(at))
		out = append(out, c.Analyze(f, t0.Add(at))...)
	}
	return out
}

func newCameraT(t testing.TB, cfg Config) (*Camera, *Frame) {
	t.Helper()
	c, err := NewCamera(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	f, err := NewFrame(320, 180)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return c, f
}

// only returns the transitions of one kind.
func only(trs []Transition, kind string) []Transition {
	var out []Transition
	for _, tr := range trs {
		if tr.Kind == kind {
			out = append(out, tr)
		}
	}
	return out
}

func TestTamperCauses(t *testing.T) {
	const event, restore = 20 * time.Second, 30 * time.Second
	cfg := config.DefaultAnalysis()
	for _, tc := range []struct {
		cause   string
		tamper  view
		ends    bool // the cause goes away at restore
		minWait time.Duration
	}{
		{CauseCovered, view{black: true, noise: 2}, true, cfg.Tamper.MinDuration},
		{CauseDefocus, view{blur: 4, noise: 2}, true, cfg.Tamper.MinDuration},
		// Moved waits for the learned background to take the new view
		// (bgDelay, one sample sooner when the change falls just before one).
		{CauseMoved, view{x: 300, y: 170, noise: 2}, false, cfg.Tamper.MinDuration + bgDelay - bgEvery},
		{CauseFrozen, view{}, false, cfg.Tamper.FrozenTime},
	} {
		t.Run(tc.cause, func(t *testing.T) {
			c, f := newCameraT(t, cfg)
			tx := newTexture(t, 1)
			normal := view{noise: 2}
			got := run(c, f, tx, 0, 40*time.Second, func(at time.Duration) view {
				if at >= event && (at < restore || !tc.ends) {
					return tc.tamper
				}
				return normal
			})
			if m := only(got, KindMotion); len(m) != 0 {
				t.Errorf("%s raised motion: %+v", tc.cause, m[0])
			}
			tam := only(got, KindTamper)
			if len(tam) == 0 || tam[0].Phase != PhaseStart || tam[0].Cause != tc.cause {
				t.Fatalf("want a %s tamper start, got %+v", tc.cause, tam)
			}
			delay := tam[0].FrameTime.Sub(t0.Add(event))
			if delay < tc.minWait-200*time.Millisecond || delay > tc.minWait+time.Second {
				t.Errorf("start %v after the event, want about %v", delay, tc.minWait)
			}
			ends := 0
			for _, tr := range tam {
				if tr.IncidentID != tam[0].IncidentID || tr.Cause != tc.cause {
					t.Errorf("second incident or cause: %+v", tr)
				}
				if tr.Phase == PhaseEnd {
					ends++
					if at := tr.EndedAt.Sub(t0); at < restore-time.Second || at > restore {
						t.Errorf("ended_at %v, want just before %v", at, restore)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tc.ends]; ends != want {
				t.Errorf("%d ends, want %d", ends, want)
			}
		})
	}
}

func TestTamperIgnoresLightingAndFeaturelessViews(t *testing.T) {
	cfg := config.DefaultAnalysis()
	t.Run("lighting", func(t *testing.T) {
		c, f := newCameraT(t, cfg)
		tx := newTexture(t, 2)
		got := run(c, f, tx, 0, 60*time.Second, func(at time.Duration) view {
			switch {
			case at >= 15*time.Second && at < 25*time.Second: // lights dim
				return view{gain: 0.5, noise: 2}
			case at >= 35*time.Second: // IR switch: low contrast, bright
				return view{gain: 0.6, offset: 70, noise: 2}
			}
			return view{noise: 2}
		})
		if len(got) != 0 {
			t.Fatalf("lighting raised %d transitions, first %+v", len(got), got[0])
		}
	})
	t.Run("blank_wall", func(t *testing.T) {
		c, f := newCameraT(t, cfg)
		got := feed(c, f, 5, 0, 60*time.Second, staticScene(120, 8))
		if len(got) != 0 {
			t.Fatalf("a featureless view raised %+v", got[0])
		}
	})
}

// TestTamperHysteresis: a covered lens whose contrast wavers between the
// start and keep thresholds stays one incident; it ends only past the
// keep threshold for ClearTime.
func TestTamperHysteresis(t *testing.T) {
	cfg := config.DefaultAnalysis()
	c, f := newCameraT(t, cfg)
	tx := newTexture(t, 3)
	// Contrast of the normal view is about 45; gain g scales it.
	got := run(c, f, tx, 0, 60*time.Second, func(at time.Duration) view {
		switch {
		case at < 20*time.Second:
			return view{noise: 1}
		case at < 25*time.Second:
			return view{gain: 0.1, noise: 1} // under covered_contrast
		case at < 45*time.Second:
			// Between the start (10) and keep (15) thresholds.
			return view{gain: 0.27, noise: 1}
		}
		return view{noise: 1}
	})
	tam := only(got, KindTamper)
	if len(tam) < 2 || tam[0].Phase != PhaseStart || tam[len(tam)-1].Phase != PhaseEnd {
		t.Fatalf("want one covered incident start..end, got %+v", tam)
	}
	for _, tr := range tam {
		if tr.IncidentID != tam[0].IncidentID {
			t.Fatalf("flapped into a second incident: %+v", tr)
		}
	}
	if end := tam[len(tam)-1].EndedAt.Sub(t0); end < 44*time.Second || end > 45*time.Second {
		t.Errorf("ended_at %v, want the last frame under the keep threshold (44.8s)", end)
	}
	if tc := c.tr.contrast; tc < 20 {
		t.Errorf("restored contrast %v: the test's views are off", tc)
	}
}

// TestTamperBaselineSurvivesReset: a camera knocked while offline is
// still moved when it comes back.
func TestTamperBaselineSurvivesReset(t *testing.T) {
	c, f := newCameraT(t, config.DefaultAnalysis())
	tx := newTexture(t, 4)
	run(c, f, tx, 0, 20*time.Second, func(time.Duration) view { return view{noise: 2} })
	c.Reset()
	got := run(c, f, tx, 22*time.Second, 40*time.Second, func(time.Duration) view { return view{x: 250, y: 150, noise: 2} })
	tam := only(got, KindTamper)
	if len(tam) == 0 || tam[0].Cause != CauseMoved {
		t.Fatalf("want moved after the reconnect, got %+v", got)
	}
}

// TestMovedAccepted: a moved camera's new view becomes the reference
// after accept_moved_after, and the incident ends.
func TestMovedAccepted(t *testing.T) {
	cfg := config.DefaultAnalysis()
	cfg.Tamper.AcceptMovedAfter = 10 * time.Second
	c, f := newCameraT(t, cfg)
	tx := newTexture(t, 5)
	got := run(c, f, tx, 0, 60*time.Second, func(at time.Duration) view {
		if at >= 20*time.Second {
			return view{x: 200, y: 100, noise: 2}
		}
		return view{noise: 2}
	})
	tam := only(got, KindTamper)
	if len(tam) < 2 || tam[len(tam)-1].Phase != PhaseEnd {
		t.Fatalf("want moved start..end, got %+v", tam)
	}
	if d := tam[len(tam)-1].FrameTime.Sub(tam[0].StartedAt); d < 10*time.Second || d > 16*time.Second {
		t.Errorf("moved lasted %v, want accept_moved_after plus clear_time", d)
	}
}

func TestIntrusionAndMasks(t *testing.T) {
	const from, to = 10 * time.Second, 20 * time.Second
	// The rectangle moves along y=60..90 (see movingRect).
	band := Polygon{{0, 0.25}, {1, 0.25}, {1, 0.6}, {0, 0.6}}
	elsewhere := Polygon{{0, 0.7}, {1, 0.7}, {1, 1}, {0, 1}}
	for _, tc := range []struct {
		name      string
		zones     []Zone
		masks     []Polygon
		motion    bool
		intrusion string // zone name, "" for none
	}{
		{"zone_crossed", []Zone{{Name: "band", Polygon: band, Restricted: true}}, nil, true, "band"},
		{"zone_elsewhere", []Zone{{Name: "lawn", Polygon: elsewhere, Restricted: true}}, nil, true, ""},
		{"masked", []Zone{{Name: "band", Polygon: band, Restricted: true}}, []Polygon{band}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.DefaultAnalysis()
			cfg.Zones, cfg.Masks = tc.zones, tc.masks
			c, f := newCameraT(t, cfg)
			got := feed(c, f, 5, 0, to+10*time.Second, movingRect(f.Width, from, to))
			if m := only(got, KindMotion); (len(m) > 0) != tc.motion {
				t.Errorf("motion %v, want %v: %+v", len(m) > 0, tc.motion, m)
			}
			in := only(got, KindIntrusion)
			if tc.intrusion == "" {
				if len(in) != 0 {
					t.Fatalf("unexpected intrusion %+v", in[0])
				}
				return
			}
			if len(in) < 2 || in[0].Phase != PhaseStart || in[len(in)-1].Phase != PhaseEnd {
				t.Fatalf("want intrusion start..end, got %+v", in)
			}
			if in[0].Zone != tc.intrusion || in[0].IncidentID == "" || len(in[0].Boxes) == 0 {
				t.Errorf("intrusion start %+v: want zone %q with boxes", in[0], tc.intrusion)
			}
			if d := in[0].FrameTime.Sub(t0.Add(from)); d < 0 || d > time.Second {
				t.Errorf("intrusion started %v after the object entered", d)
			}
		})
	}
}

func TestLoitering(t *testing.T) {
	cfg := config.DefaultAnalysis()
	zone := Polygon{{0.3, 0.2}, {0.7, 0.2}, {0.7, 0.9}, {0.3, 0.9}}
	cfg.Zones = []Zone{{Name: "door", Polygon: zone, Loiter: 15 * time.Second}}
	for _, tc := range []struct {
		name  string
		stay  time.Duration
		raise bool
	}{{"passes_by", 8 * time.Second, false}, {"lingers", 30 * time.Second, true}} {
		t.Run(tc.name, func(t *testing.T) {
			c, f := newCameraT(t, cfg)
			const from = 10 * time.Second
			// A 20x30 object wanders back and forth inside the zone
			// (x 110..190 of 320) from `from` for tc.stay.
			sf := func(at time.Duration) scene {
				s := scene{bg: 100, noise: 8, fg: 170}
				if at < from || at >= from+tc.stay {
					return s
				}
				x := 110 + int(40+40*sinApprox((at-from).Seconds()/3))
				s.rect = image.Rect(x, 80, x+20, 110)
				return s
			}
			got := only(feed(c, f, 5, 0, from+tc.stay+10*time.Second, sf), KindLoitering)
			if !tc.raise {
				if len(got) != 0 {
					t.Fatalf("loitering after %v in the zone: %+v", tc.stay, got[0])
				}
				return
			}
			if len(got) < 2 || got[0].Phase != PhaseStart || got[len(got)-1].Phase != PhaseEnd || got[0].Zone != "door" {
				t.Fatalf("want loitering in door start..end, got %+v", got)
			}
			if at := got[0].FrameTime.Sub(t0.Add(from)); at < 15*time.Second || at > 17*time.Second {
				t.Errorf("loitering started %v after entering, want about 15s", at)
			}
			if d := got[0].StartedAt.Sub(t0.Add(from)); d < 0 || d > 2*time.Second {
				t.Errorf("started_at %v after entering, want the entry", d)
			}
		})
	}
}

// sinApprox is a triangle wave in [-1, 1] with period 4 (enough to make
// an object wander).
func sinApprox(x float64) float64 {
	p := x - 4*float64(int(x/4))
	if p < 2 {
		return p - 1
	}
	return 3 - p
}

// drawPerson draws a dark standing figure h pixels tall with its feet at
// (x, y): head, torso, arms and legs, the silhouette HOG responds to.
func drawPerson(m *gocv.Mat, x, y, h int) {
	s := float64(h) / 100
	p := func(dx, dy float64) image.Point { return image.Pt(x+int(dx*s), y-h+int(dy*s)) }
	dark := color.RGBA{40, 40, 40, 0}
	gocv.Circle(m, p(0, 10), int(9*s), dark, -1)
	gocv.Rectangle(m, image.Rectangle{p(-12, 20), p(12, 60)}, dark, -1)
	gocv.Line(m, p(-10, 22), p(-20, 57), dark, int(6*s))
	gocv.Line(m, p(10, 22), p(20, 57), dark, int(6*s))
	gocv.Line(m, p(-6, 58), p(-12, 100), dark, int(8*s))
	gocv.Line(m, p(6, 58), p(12, 100), dark, int(8*s))
}

func TestPersonAndCrowd(t *testing.T) {
	cfg := config.DefaultAnalysis()
	cfg.Person.Enabled = true
	cfg.Person.MinHeight = 0.3
	// A drawn figure is a poor person for HOG: it scores like a plain
	// blob, just over 0 (see TestPersonIgnoresBlobs for the default). This
	// test checks counting, zones and the crowd rule on real HOG output.
	cfg.Person.HitThreshold = 0
	all := Polygon{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	cfg.Zones = []Zone{{Name: "square", Polygon: all, Crowd: 2, CrowdTime: 2 * time.Second}}
	c, f := newCameraT(t, cfg)
	const from = 10 * time.Second
	rng := newNoise(1)
	sf := func(people int) func(at time.Duration) {
		return func(at time.Duration) {
			scene{bg: 170, noise: 3}.draw(f, rng)
			if at < from {
				return
			}
			// People walk slowly to the right, 90 px apart.
			dx := int((at - from).Seconds() * 6)
			for i := range people {
				drawPerson(&f.mat, 50+90*i+dx, 150, 90)
			}
		}
	}
	var got []Transition
	for _, tc := range []struct {
		people int
		from   time.Duration
		to     time.Duration
	}{{0, 0, from}, {2, from, from + 8*time.Second}} {
		draw := sf(tc.people)
		for at := tc.from; at < tc.to; at += 200 * time.Millisecond {
			draw(at)
			got = append(got, c.Analyze(f, t0.Add(at))...)
		}
	}
	person := only(got, KindPerson)
	if len(person) == 0 || person[0].Phase != PhaseStart || len(person[0].Boxes) == 0 {
		t.Fatalf("want a person start with boxes, got %+v", person)
	}
	if b := person[0].Boxes[0]; b[3] < 0.3 || b[3] > 1 {
		t.Errorf("person box %v: height should be about the figure's (0.5)", b)
	}
	crowd := only(got, KindCrowd)
	if len(crowd) == 0 || crowd[0].Zone != "square" || crowd[0].Score < 2 {
		t.Fatalf("want a crowd of 2 in square, got %+v", crowd)
	}
}

// TestPersonIgnoresBlobs: moving rectangles are motion, not people.
func TestPersonIgnoresBlobs(t *testing.T) {
	cfg := config.DefaultAnalysis()
	cfg.Person.Enabled = true
	c, f := newCameraT(t, cfg)
	got := feed(c, f, 5, 0, 30*time.Second, movingRect(f.Width, 10*time.Second, 20*time.Second))
	if len(only(got, KindMotion)) == 0 {
		t.Fatal("no motion: the test does not exercise HOG")
	}
	if p := only(got, KindPerson); len(p) != 0 {
		t.Fatalf("a rectangle was taken for a person: %+v", p[0])
	}
}

func TestEvidenceShots(t *testing.T) {
	c, f := newCameraT(t, config.DefaultAnalysis())
	sf := movingRect(f.Width, 10*time.Second, 20*time.Second)
	rng := newNoise(1)
	var starts, bests int
	for at := time.Duration(0); at < 25*time.Second; at += 200 * time.Millisecond {
		sf(at).draw(f, rng)
		trs := c.Analyze(f, t0.Add(at))
		for _, s := range c.Shots() {
			switch s.Role {
			case "start":
				starts++
				if len(trs) == 0 || trs[0].Phase != PhaseStart || trs[0].IncidentID != s.IncidentID || len(s.Boxes) == 0 {
					t.Errorf("start shot %+v without its start transition %+v", s, trs)
				}
			case "best":
				bests++
			default:
				t.Errorf("shot role %q", s.Role)
			}
		}
	}
	if starts != 1 {
		t.Errorf("%d start shots, want 1", starts)
	}
	if bests > 5 {
		t.Errorf("%d best shots in 10s: not throttled", bests)
	}
}

// A still view coded at a high quantizer repeats bit-identical pictures
// between the encoder's changes (x264 at CRF 35 on sensor noise: runs of
// up to a GOP, each broken by a picture that differs). Frozen is every
// picture identical for frozen_time: runs that each fall short must not
// add up, however short the picture that breaks them.
func TestFrozenNeedsAnUnbrokenRun(t *testing.T) {
	// Runs of 1.6 s broken by one picture from 20 s, the last break at
	// 40 s, then an unbroken run.
	const runs, broken = 20 * time.Second, 40 * time.Second
	cfg := config.DefaultAnalysis()
	c, f := newCameraT(t, cfg)
	tx := newTexture(t, 1)
	still := view{} // no noise: bit-identical pictures
	got := run(c, f, tx, 0, 50*time.Second, func(at time.Duration) view {
		switch {
		case at < runs:
			return view{noise: 2}
		case at <= broken && at%(cfg.Tamper.FrozenTime*4/5) == 0:
			return view{noise: 2} // one changed picture breaks the run
		}
		return still
	})
	tam := only(got, KindTamper)
	if len(tam) == 0 || tam[0].Cause != CauseFrozen || tam[0].Phase != PhaseStart {
		t.Fatalf("want frozen once the run is unbroken, got %+v", tam)
	}
	if at := tam[0].StartedAt.Sub(t0); at <= broken {
		t.Errorf("frozen started at %v, in the broken runs (the last break at %v)", at, broken)
	}
}

// With the stream's keyframes known, a run of identical pictures that each
// keyframe breaks is a live view (the encoder quantized its noise away
// until the keyframe coded it afresh), however long the GOP; a picture
// that stays the same across keyframes is frozen. Tamper measures every
// other frame at 5 a second: with a GOP of an even number of frames and
// the keyframes on the frames between (phase 200 ms), each keyframe must
// still be measured.
func TestFrozenAcrossKeyframes(t *testing.T) {
	const live, frozen = 20 * time.Second, 45 * time.Second
	cfg := config.DefaultAnalysis()
	// glitch: x264 on a frozen source codes the picture before each
	// keyframe a little differently, so no run of identical pictures
	// spans a keyframe; the keyframes' pictures are identical.
	for _, gop := range []time.Duration{3 * time.Second, 4 * time.Second} {
		for _, phase := range []time.Duration{0, 200 * time.Millisecond} {
			for _, glitch := range []bool{false, true} {
				name := fmt.Sprintf("gop=%v/phase=%v/%s", gop, phase, map[bool]string{false: "runs", true: "glitch"}[glitch])
				t.Run(name, func(t *testing.T) { frozenAcrossKeyframes(t, cfg, gop, phase, live, frozen, glitch) })
			}
		}
	}
}

func frozenAcrossKeyframes(t *testing.T, cfg Config, gop, phase, live, frozen time.Duration, glitch bool) {
	c, f := newCameraT(t, cfg)
	tx := newTexture(t, 1)
	var held []byte
	var got []Transition
	for at := time.Duration(0); at < 60*time.Second; at += 200 * time.Millisecond {
		key := at%gop == phase
		switch {
		case at < live:
			tx.draw(f, view{noise: 2})
		case at < frozen && key:
			tx.draw(f, view{noise: 2}) // the keyframe codes new noise
		case at >= frozen && held == nil:
			tx.draw(f, view{noise: 2}) // the frozen picture
			held = slices.Clone(f.Pix)
		case glitch && at >= frozen && (at+200*time.Millisecond)%gop == phase:
			f.Pix[0]++
		case glitch && key:
			copy(f.Pix, held)
		}
		// Otherwise the picture is left as it was: bit-identical.
		c.SetKeyframe(key)
		got = append(got, c.Analyze(f, t0.Add(at))...)
	}
	tam := only(got, KindTamper)
	if len(tam) == 0 || tam[0].Cause != CauseFrozen || tam[0].Phase != PhaseStart {
		t.Fatalf("want frozen once the keyframes repeat the picture, got %+v", tam)
	}
	if at := tam[0].FrameTime.Sub(t0); at < frozen || at > frozen+2*gop+cfg.Tamper.FrozenTime {
		t.Errorf("frozen raised at %v, want within two GOPs and frozen_time of %v", at, frozen)
	}
}

// TestFrozenKeyframeEdges: a stream that showed one keyframe (one IDR at
// its start, recovery points unflagged) is judged on identical runs once
// keyUnknownAfter has passed without another; a live view whose
// keyframes repeat one picture (a clean, still background) while the
// pictures between them change is not frozen.
func TestFrozenKeyframeEdges(t *testing.T) {
	cfg := config.DefaultAnalysis()
	t.Run("one_keyframe", func(t *testing.T) {
		c, f := newCameraT(t, cfg)
		tx := newTexture(t, 1)
		const still = 25 * time.Second
		var got []Transition
		for at := time.Duration(0); at < 40*time.Second; at += 200 * time.Millisecond {
			if at < still {
				tx.draw(f, view{noise: 2})
			}
			c.SetKeyframe(at == 0)
			got = append(got, c.Analyze(f, t0.Add(at))...)
		}
		tam := only(got, KindTamper)
		if len(tam) == 0 || tam[0].Cause != CauseFrozen || tam[0].Phase != PhaseStart {
			t.Fatalf("want frozen on a stream with one keyframe, got %+v", tam)
		}
		if at := tam[0].FrameTime.Sub(t0); at < still || at > still+cfg.Tamper.FrozenTime+time.Second {
			t.Errorf("frozen raised at %v, want frozen_time after %v", at, still)
		}
	})
	t.Run("changes_between_keyframes", func(t *testing.T) {
		c, f := newCameraT(t, cfg)
		tx := newTexture(t, 1)
		const gop, live = 3 * time.Second, 20 * time.Second
		var held []byte
		var got []Transition
		for at := time.Duration(0); at < 50*time.Second; at += 200 * time.Millisecond {
			key := at%gop == 0
			switch {
			case at < live:
				tx.draw(f, view{noise: 2})
			case held == nil:
				tx.draw(f, view{noise: 2})
				held = slices.Clone(f.Pix)
			case key:
				copy(f.Pix, held) // the keyframes: one picture
			case at%gop == time.Second || at%gop == 2*time.Second:
				tx.draw(f, view{noise: 2}) // something changes between them
			}
			c.SetKeyframe(key)
			got = append(got, c.Analyze(f, t0.Add(at))...)
		}
		if tam := only(got, KindTamper); len(tam) != 0 {
			t.Fatalf("a live view raised %+v", tam[0])
		}
	})
}
