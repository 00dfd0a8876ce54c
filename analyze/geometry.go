package analyze

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"
)

// Point is a position in a frame, normalized: x and y in [0,1] of the
// frame's width and height, (0,0) top left. In YAML it is a pair [x, y].
type Point [2]float64

// Polygon is a closed polygon of at least three points, in normalized
// coordinates. In YAML it is a list of pairs: [[0,0], [0.5,0], [0.5,1]].
type Polygon []Point

// validate reports a polygon that has fewer than three points, a point
// outside the frame, or no area.
func (p Polygon) validate() error {
	if len(p) < 3 {
		return fmt.Errorf("%d points, need at least 3", len(p))
	}
	for i, pt := range p {
		if !(pt[0] >= 0 && pt[0] <= 1 && pt[1] >= 0 && pt[1] <= 1) {
			return fmt.Errorf("point %d (%g, %g) is outside [0,1]x[0,1]", i, pt[0], pt[1])
		}
	}
	if p.area() < 1e-6 {
		return fmt.Errorf("has no area")
	}
	return nil
}

// area is the polygon's area (shoelace formula) as a share of the frame.
func (p Polygon) area() float64 {
	var s float64
	for i := range p {
		a, b := p[i], p[(i+1)%len(p)]
		s += a[0]*b[1] - b[0]*a[1]
	}
	return math.Abs(s) / 2
}

// Contains reports whether pt lies inside p (even-odd rule; points on an
// edge may fall either way).
func (p Polygon) Contains(pt Point) bool {
	in := false
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		a, b := p[i], p[j]
		if (a[1] > pt[1]) != (b[1] > pt[1]) &&
			pt[0] < (b[0]-a[0])*(pt[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// pixels maps p to a w x h frame's pixel coordinates.
func (p Polygon) pixels(w, h int) []image.Point {
	out := make([]image.Point, len(p))
	for i, pt := range p {
		out[i] = image.Pt(int(math.Round(pt[0]*float64(w-1))), int(math.Round(pt[1]*float64(h-1))))
	}
	return out
}

// rasterize returns a w x h 8UC1 mask, 255 inside any of polys, 0 outside.
// The caller closes it.
func rasterize(polys []Polygon, w, h int) gocv.Mat {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h, w, gocv.MatTypeCV8UC1)
	if len(polys) == 0 {
		return m
	}
	pts := make([][]image.Point, len(polys))
	for i, p := range polys {
		pts[i] = p.pixels(w, h)
	}
	pv := gocv.NewPointsVectorFromPoints(pts)
	defer pv.Close()
	gocv.FillPoly(&m, pv, color.RGBA{255, 255, 255, 0})
	return m
}

// boxCenter returns the center of b's bottom edge: where a standing
// person or a vehicle touches the ground, the point zone rules test.
func boxFoot(b Box) Point { return Point{b[0] + b[2]/2, b[1] + b[3]} }

// boxCenter returns the center of b.
func boxCenter(b Box) Point { return Point{b[0] + b[2]/2, b[1] + b[3]/2} }

// iou is the intersection over union of two boxes.
func iou(a, b Box) float64 {
	x0, y0 := math.Max(a[0], b[0]), math.Max(a[1], b[1])
	x1, y1 := math.Min(a[0]+a[2], b[0]+b[2]), math.Min(a[1]+a[3], b[1]+b[3])
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	in := (x1 - x0) * (y1 - y0)
	return in / (a[2]*a[3] + b[2]*b[3] - in)
}
