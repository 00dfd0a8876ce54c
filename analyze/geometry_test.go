package analyze

import (
	"math"
	"testing"

	"gocv.io/x/gocv"
)

func TestPolygonContains(t *testing.T) {
	// An L shape: the notch (0.5..1, 0.5..1) is outside.
	l := Polygon{{0, 0}, {1, 0}, {1, 0.5}, {0.5, 0.5}, {0.5, 1}, {0, 1}}
	for _, tc := range []struct {
		p  Point
		in bool
	}{
		{Point{0.25, 0.25}, true}, {Point{0.75, 0.25}, true}, {Point{0.25, 0.75}, true},
		{Point{0.75, 0.75}, false}, {Point{1.5, 0.25}, false}, {Point{-0.1, 0.5}, false},
	} {
		if got := contains(l, tc.p); got != tc.in {
			t.Errorf("Contains(%v) = %v, want %v", tc.p, got, tc.in)
		}
	}
	if a := l.Area(); math.Abs(a-0.75) > 1e-9 {
		t.Errorf("area %v, want 0.75", a)
	}
}

func TestRasterizeMatchesArea(t *testing.T) {
	tri := Polygon{{0, 0}, {1, 0}, {0, 1}}
	sq := Polygon{{0.6, 0.6}, {0.9, 0.6}, {0.9, 0.9}, {0.6, 0.9}}
	m := rasterize([]Polygon{tri, sq}, 320, 180)
	defer m.Close()
	got := float64(gocv.CountNonZero(m)) / (320 * 180)
	if want := tri.Area() + sq.Area(); math.Abs(got-want) > 0.01 {
		t.Errorf("rasterized share %v, want %v", got, want)
	}
	if m.GetUCharAt(10, 10) != 255 || m.GetUCharAt(170, 300) != 0 {
		t.Error("triangle drawn at the wrong place")
	}
}

func TestIoU(t *testing.T) {
	a := Box{0, 0, 0.2, 0.2}
	if v := iou(a, a); v != 1 {
		t.Errorf("iou(a,a) = %v", v)
	}
	if v := iou(a, Box{0.1, 0, 0.2, 0.2}); math.Abs(v-1.0/3) > 1e-9 {
		t.Errorf("half overlap iou = %v, want 1/3", v)
	}
	if v := iou(a, Box{0.5, 0.5, 0.1, 0.1}); v != 0 {
		t.Errorf("disjoint iou = %v", v)
	}
}

func TestPhaseString(t *testing.T) {
	for p, want := range map[Phase]string{PhaseStart: "start", PhaseUpdate: "update", PhaseEnd: "end", 7: "Phase(7)"} {
		if got := p.String(); got != want {
			t.Errorf("Phase(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}
