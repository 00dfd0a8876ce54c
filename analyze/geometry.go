package analyze

import (
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"
)

// contains reports whether pt lies inside p (even-odd rule; points on an
// edge may fall either way).
func contains(p Polygon, pt Point) bool {
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
func pixels(p Polygon, w, h int) []image.Point {
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
		pts[i] = pixels(p, w, h)
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
