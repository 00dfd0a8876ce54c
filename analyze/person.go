package analyze

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Tuning of the HOG people search.
const (
	hogWinH     = 128  // HOG people window height, pixels
	hogMaxSide  = 640  // upscaled crops are capped to this side
	hogScale    = 1.1  // pyramid step
	hogGroup    = 2    // final threshold: overlapping hits grouped
	personMerge = 0.45 // IoU above which two detections are one person
)

// personDetector runs OpenCV's built-in HOG people detector (Dalal-Triggs,
// no model download) on moving regions only, upscaled so the smallest
// person of interest fills the 64x128 window.
type personDetector struct {
	cfg  PersonConfig
	hog  gocv.HOGDescriptor
	svm  gocv.Mat
	crop gocv.Mat
}

func newPersonDetector(cfg PersonConfig) *personDetector {
	p := &personDetector{cfg: cfg, hog: gocv.NewHOGDescriptor(), svm: hogPeopleDetector(), crop: gocv.NewMat()}
	p.hog.SetSVMDetector(p.svm)
	return p
}

// detect appends to out the people found in f around regions (analysis
// pixels) and returns it, normalized, at most MaxBoxes.
func (p *personDetector) detect(f *Frame, regions []region, out []Box) []Box {
	frame := image.Rect(0, 0, f.Width, f.Height)
	minH := p.cfg.MinHeight * float64(f.Height)
	scale := math.Max(1, hogWinH/minH)
	for _, r := range regions {
		// A person's box is about twice as tall as wide; pad the region so
		// HOG sees the whole body and some margin around it.
		rect := r.rect
		cx, cy := (rect.Min.X+rect.Max.X)/2, (rect.Min.Y+rect.Max.Y)/2
		h := int(math.Max(float64(rect.Dy())*1.4, minH*1.3))
		w := int(math.Max(float64(rect.Dx())*1.4, float64(h)/2))
		rect = image.Rect(cx-w/2, cy-h/2, cx+w/2, cy+h/2).Intersect(frame)
		if rect.Dx() < 8 || rect.Dy() < 16 {
			continue
		}
		s := math.Min(scale, hogMaxSide/float64(max(rect.Dx(), rect.Dy())))
		roi := f.mat.Region(rect)
		gocv.Resize(roi, &p.crop, image.Pt(int(float64(rect.Dx())*s), int(float64(rect.Dy())*s)), 0, 0, gocv.InterpolationLinear)
		roi.Close()
		if p.crop.Cols() < 64 || p.crop.Rows() < hogWinH {
			continue
		}
		hits := p.hog.DetectMultiScaleWithParams(p.crop, p.cfg.HitThreshold, image.Pt(8, 8), image.Pt(8, 8), hogScale, hogGroup, false)
		for _, h := range hits {
			b := Box{
				(float64(rect.Min.X) + float64(h.Min.X)/s) / float64(f.Width),
				(float64(rect.Min.Y) + float64(h.Min.Y)/s) / float64(f.Height),
				float64(h.Dx()) / s / float64(f.Width),
				float64(h.Dy()) / s / float64(f.Height),
			}
			out = addPerson(out, b)
		}
	}
	return out
}

// addPerson appends b unless it overlaps a box already found (the same
// person seen from two regions) or out is full.
func addPerson(out []Box, b Box) []Box {
	for _, o := range out {
		if iou(o, b) > personMerge {
			return out
		}
	}
	if len(out) == MaxBoxes {
		return out
	}
	return append(out, b)
}

func (p *personDetector) close() {
	p.hog.Close()
	p.svm.Close()
	p.crop.Close()
}
