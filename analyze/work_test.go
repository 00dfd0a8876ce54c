package analyze

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

// TestCamerasShareWork: cameras whose frames are analyzed in turn share
// one set of work matrices (the free list gives the same set back), at
// different frame sizes, and each finds what it finds alone: nothing of
// one camera's frame reaches another's analysis through them.
func TestCamerasShareWork(t *testing.T) {
	cfg := config.DefaultAnalysis()
	tx := newTexture(t, 1)
	// a: a textured view covered at 20 s; b: a rectangle moving from 12 s
	// on a noisy 320x180 view; c: the same at 160x90 (the shared
	// matrices change size at every turn).
	covered := func(at time.Duration) view {
		if at >= 20*time.Second {
			return view{black: true}
		}
		return view{}
	}
	type cam struct {
		c   *Camera
		f   *Frame
		at  func(at time.Duration)
		out []Transition
	}
	newCam := func(kind string) *cam {
		c, err := NewCamera(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		w, h := 320, 180
		if kind == "c" {
			w, h = 160, 90
		}
		f, err := NewFrame(w, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Close)
		k := &cam{c: c, f: f}
		rng := newNoise(7) // noise drawn in Go: the same on every run
		moving := movingRect(w, 12*time.Second, 40*time.Second)
		k.at = func(at time.Duration) {
			if kind == "a" {
				tx.draw(f, covered(at))
				for i, p := range f.Pix {
					f.Pix[i] = uint8(min(max(float64(p)+2*rng.NormFloat64(), 0), 255))
				}
			} else {
				moving(at).draw(f, rng)
			}
			k.out = append(k.out, c.Analyze(f, t0.Add(at))...)
		}
		return k
	}
	const step, end = 200 * time.Millisecond, 40 * time.Second
	summary := func(trs []Transition) []string {
		var s []string
		for _, tr := range trs {
			s = append(s, fmt.Sprintf("%s/%s/%s at %s", tr.Kind, tr.Cause, tr.Phase, tr.FrameTime.Sub(t0)))
		}
		return s
	}
	alone := map[string][]string{}
	for _, kind := range []string{"a", "b", "c"} {
		k := newCam(kind)
		for at := time.Duration(0); at < end; at += step {
			k.at(at)
		}
		alone[kind] = summary(k.out)
	}
	for _, kind := range []string{"a", "b", "c"} {
		if len(alone[kind]) == 0 {
			t.Fatalf("camera %s found nothing alone: the test shows nothing", kind)
		}
	}
	cams := map[string]*cam{"a": newCam("a"), "b": newCam("b"), "c": newCam("c")}
	for at := time.Duration(0); at < end; at += step {
		for _, kind := range []string{"a", "b", "c"} {
			cams[kind].at(at)
		}
	}
	for _, kind := range []string{"a", "b", "c"} {
		got := summary(cams[kind].out)
		if fmt.Sprint(got) != fmt.Sprint(alone[kind]) {
			t.Errorf("camera %s in turn with others:\n got %v\nwant %v (alone)", kind, got, alone[kind])
		}
	}
}
