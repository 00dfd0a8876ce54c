package analyze

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
	"time"

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

// draw renders s into f with new noise drawn from rng. The noise is drawn
// in Go: OpenCV's randn draws from a generator per OS thread, so the
// thread the goroutine happens to run on would decide a test's input.
func (s scene) draw(f *Frame, rng *rand.Rand) {
	r := s.rect.Intersect(image.Rect(0, 0, f.Width, f.Height))
	for y := range f.Height {
		row := f.Pix[y*f.Stride : y*f.Stride+f.Width]
		for x := range row {
			mean := s.bg
			if image.Pt(x, y).In(r) {
				mean = s.fg
			}
			row[x] = uint8(min(max(math.RoundToEven(mean+s.noise*rng.NormFloat64()), 0), 255))
		}
	}
}

// newNoise returns a seeded source of scene noise: the same frames on
// every run.
func newNoise(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

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
	rng := newNoise(uint64(from)) // a later stretch has other noise
	for at := from; at < to; at += step {
		sf(at).draw(f, rng)
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
