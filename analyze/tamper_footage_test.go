package analyze

import (
	"image"
	"os"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// crop is the part of a real picture a simulated camera sees: a square
// share w of the picture's width and height centred at (cx, cy), shares
// of the picture's size. A camera knocked aside or zoomed sees another
// crop of the same picture.
type crop struct{ cx, cy, w float64 }

// home is the crop a test camera sees before it is moved.
var home = crop{0.5, 0.5, 0.7}

// playCrops runs frames 0..frames-1 of the clip at path through c at fps,
// each seen through view(at), from frame time start; each is called with
// every frame's transitions.
// Every step-th frame only is analyzed (step 1: all).
func playCrops(t *testing.T, c *Camera, f *Frame, path string, frames, fps, step int, start time.Duration, view func(at time.Duration) crop, each func(at time.Duration, trs []Transition)) {
	t.Helper()
	gray := gocv.NewMat()
	defer gray.Close()
	var want []int
	for i := 0; i < frames; i += step {
		want = append(want, i)
	}
	err := ReadFrames(path, want, func(i int, s *Snapshot) error {
		at := start + time.Duration(i)*time.Second/time.Duration(fps)
		gocv.CvtColor(s.mat, &gray, gocv.ColorBGRToGray)
		v := view(at)
		W, H := float64(s.Width), float64(s.Height)
		r := image.Rect(int((v.cx-v.w/2)*W), int((v.cy-v.w/2)*H), int((v.cx+v.w/2)*W), int((v.cy+v.w/2)*H))
		if !r.In(image.Rect(0, 0, s.Width, s.Height)) {
			t.Fatalf("crop %+v leaves the %dx%d picture", v, s.Width, s.Height)
		}
		roi := gray.Region(r)
		gocv.Resize(roi, &f.mat, image.Pt(f.Width, f.Height), 0, 0, gocv.InterpolationArea)
		roi.Close()
		each(at, c.Analyze(f, t0.Add(at)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTamperMovedOnFootage plays real footage (testdata/footage, and
// vtest.avi when present) through a camera: traffic passing on a highway
// and people walking past, or stepping forward and standing in a room,
// raise no moved; the same views shifted by 10% (across or down), zoomed
// 1.3x, or shifted 23% and zoomed 1.3x at 8 s raise moved within 5 s.
func TestTamperMovedOnFootage(t *testing.T) {
	const (
		highway = "../testdata/footage/highway.mkv"      // 240 frames, 30 fps, cars passing
		room    = "../testdata/footage/office-pause.mkv" // 203 frames, 12 fps, people step forward at 4-7 s
		vtest   = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
		change  = 8 * time.Second
	)
	cfg := config.DefaultAnalysis()
	for _, tc := range []struct {
		name        string
		path        string
		frames, fps int
		loops       int
		moved       *crop // nil: the camera stays
		step        int   // analyze every step-th frame (keyframes alone); 0: all
	}{
		{"highway-traffic", highway, 240, 30, 3, nil, 0},
		{"vtest-people-passing", vtest, 795, 10, 1, nil, 0},
		{"room-people-stepping-forward", room, 203, 12, 1, nil, 0},
		{"highway-shift-10pct", highway, 240, 30, 2, &crop{0.57, 0.5, 0.7}, 0},
		{"highway-zoom-1.3", highway, 240, 30, 2, &crop{0.5, 0.5, 0.7 / 1.3}, 0},
		{"room-shift-10pct", room, 203, 12, 1, &crop{0.57, 0.5, 0.7}, 0},
		{"room-shift-10pct-down", room, 203, 12, 1, &crop{0.5, 0.57, 0.7}, 0},
		{"room-zoom-1.3", room, 203, 12, 1, &crop{0.5, 0.5, 0.7 / 1.3}, 0},
		{"room-shift-23pct-zoom-1.3", room, 203, 12, 1, &crop{0.66, 0.5, 0.7 / 1.3}, 0},
		// Keyframes alone, one every 2 s (decode_mode auto on a still view).
		{"highway-traffic-keyframes", highway, 240, 30, 3, nil, 60},
		{"room-shift-10pct-keyframes", room, 203, 12, 1, &crop{0.57, 0.5, 0.7}, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); err != nil {
				t.Skipf("no %s: %v", tc.path, err)
			}
			c, f := newCameraT(t, cfg)
			clip := time.Duration(tc.frames) * time.Second / time.Duration(tc.fps)
			var moved []time.Duration
			minCorr := 1.0
			for l := range tc.loops {
				playCrops(t, c, f, tc.path, tc.frames, tc.fps, max(tc.step, 1), time.Duration(l)*clip, func(at time.Duration) crop {
					if tc.moved != nil && at >= change {
						return *tc.moved
					}
					return home
				}, func(at time.Duration, trs []Transition) {
					if c.tam.learned {
						minCorr = min(minCorr, c.tr.correlation)
					}
					for _, tr := range only(trs, KindTamper) {
						if tr.Cause == CauseMoved && tr.Phase == PhaseStart {
							moved = append(moved, at)
						}
					}
				})
			}
			t.Logf("lowest correlation %.2f, moved at %v", minCorr, moved)
			switch {
			case tc.moved == nil && len(moved) > 0:
				t.Errorf("moved at %v though the camera stayed", moved)
			case tc.moved != nil && len(moved) == 0:
				t.Errorf("no moved after the view changed at %v", change)
			case tc.moved != nil && (moved[0] < change || moved[0] > change+5*time.Second):
				t.Errorf("moved at %v, want within 5 s of %v", moved[0], change)
			}
		})
	}
}

// BenchmarkMovedBackground is one background sample of the moved check
// (median of the ring, edges) and its comparison with the reference
// (cells and registration): the work done every bgEvery of frame time,
// on a 320x180 noisy texture. Its cost per analyzed frame is this over
// the frames in bgEvery (10 at 25 fps).
func BenchmarkMovedBackground(b *testing.B) {
	f, err := NewFrame(320, 180)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tx := newTexture(b, 1)
	bg := newTamper(config.DefaultAnalysis().Tamper).bg
	defer bg.close()
	w := getWork()
	defer putWork(w)
	now := t0
	for range bgSamples {
		tx.draw(f, view{noise: 2})
		bg.sample(w, f.mat, now, true)
		now = now.Add(bgEvery)
	}
	bg.learn(w, 1, false)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		now = now.Add(bgEvery)
		if !bg.sample(w, f.mat, now, true) {
			b.Fatal("no sample")
		}
		bg.compare(w)
	}
	// CPU time: on a shared machine wall time follows the neighbours.
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
}
