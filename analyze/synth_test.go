package analyze

import (
	"image"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// t0 is the frame time origin of the synthetic clips.
var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// scene is a synthetic picture: a flat gray background with an optional
// filled rectangle, both with fresh Gaussian noise on every draw.
type scene struct {
	bg    float64         // background gray level
	noise float64         // per-frame noise standard deviation
	rect  image.Rectangle // empty: no rectangle
	fg    float64         // rectangle gray level
}

// draw renders s into f with new noise.
func (s scene) draw(f *Frame) {
	gocv.RandN(&f.mat, gocv.NewScalar(s.bg, 0, 0, 0), gocv.NewScalar(s.noise, 0, 0, 0))
	if r := s.rect.Intersect(image.Rect(0, 0, f.Width, f.Height)); !r.Empty() {
		roi := f.mat.Region(r)
		gocv.RandN(&roi, gocv.NewScalar(s.fg, 0, 0, 0), gocv.NewScalar(s.noise, 0, 0, 0))
		roi.Close()
	}
}

// sceneFunc gives the scene at a frame time offset.
type sceneFunc func(at time.Duration) scene

func staticScene(bg, noise float64) sceneFunc {
	return func(time.Duration) scene { return scene{bg: bg, noise: noise} }
}

// movingRect is a w x h rectangle bouncing horizontally across a
// width-wide frame at speed px/s while from <= at < to; outside that
// window there is no rectangle.
func movingRect(width int, from, to time.Duration) sceneFunc {
	const w, h, speed, y = 40, 30, 40.0, 60
	return func(at time.Duration) scene {
		s := scene{bg: 100, noise: 10, fg: 160}
		if at < from || at >= to {
			return s
		}
		span := float64(width - w)
		x := speed * (at - from).Seconds()
		x -= 2 * span * float64(int(x/(2*span)))
		if x > span {
			x = 2*span - x
		}
		s.rect = image.Rect(int(x), y, int(x)+w, y+h)
		return s
	}
}

// feed analyzes frames at fps for frame time offsets from <= at < to and
// returns every transition.
func feed(c *Camera, f *Frame, fps int, from, to time.Duration, sf sceneFunc) []Transition {
	step := time.Second / time.Duration(fps)
	var out []Transition
	for at := from; at < to; at += step {
		sf(at).draw(f)
		out = append(out, c.Analyze(f, t0.Add(at))...)
	}
	return out
}

// newTestCamera returns a camera with the default config and algo, and a
// 320x180 frame, both closed at the end of the test.
func newTestCamera(t testing.TB, algo string) (*Camera, *Frame) {
	t.Helper()
	cfg := config.DefaultAnalysis()
	cfg.Motion.Algorithm = algo
	return newCameraT(t, cfg)
}

// overlaps reports whether the normalized box b meets r in a w x h frame.
func overlaps(b Box, r image.Rectangle, w, h int) bool {
	px := image.Rect(int(b[0]*float64(w)), int(b[1]*float64(h)),
		int((b[0]+b[2])*float64(w)+0.5), int((b[1]+b[3])*float64(h)+0.5))
	return px.Overlaps(r)
}
