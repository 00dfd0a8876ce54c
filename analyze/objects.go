package analyze

import (
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// Object is a thing an object detector found in an analyzed frame.
type Object struct {
	// Label is config.LabelPerson or config.LabelVehicle.
	Label string
	// Score is the detector's confidence, 0..1.
	Score float64
	// Box is where it is, normalized to the frame.
	Box Box
	// ID is the object's track id (a UUID), stable for as long as the
	// camera follows it (objtrack.go); empty for an object not tracked.
	ID string
}

// Detection is an object detector's raw finding, in pixels of the picture
// it was given, under the detector's own label (COCO for a network).
type Detection struct {
	Label string
	Score float64
	Box   image.Rectangle
}

// ObjectDetector finds objects in an 8-bit BGR picture of any size. It
// need not be safe for concurrent use: Inference calls it from one
// goroutine. The network (package nn, through the engine) and HOG
// (NewHOGObjects) implement it.
type ObjectDetector interface {
	Detect(bgr gocv.Mat) ([]Detection, error)
}

// VehicleLabels are the COCO classes reported as config.LabelVehicle.
var VehicleLabels = []string{"car", "bus", "truck", "motorcycle", "bicycle"}

// ObjectLabel maps a detector label to the label vigil reports, or "" for
// one it does not report.
func ObjectLabel(raw string) string {
	switch raw {
	case config.LabelPerson:
		return config.LabelPerson
	case "car", "bus", "truck", "motorcycle", "bicycle":
		return config.LabelVehicle
	}
	return ""
}

// hogWholeMaxSide caps the upscaled picture HOGObjects searches.
const hogWholeMaxSide = 1280

// HOGObjects is OpenCV's built-in HOG people detector (Dalal-Triggs, no
// model) as an ObjectDetector: the fallback that needs no setup. It
// searches the whole picture given, upscaled so that a person of
// minHeight pixels fills its 128-pixel window.
type HOGObjects struct {
	hog          gocv.HOGDescriptor
	svm          gocv.Mat
	gray, scaled gocv.Mat
	hitThreshold float64
	minHeight    int
}

// NewHOGObjects returns a HOG people detector with the given SVM margin
// (person.hit_threshold) finding people from minHeight pixels tall. Close
// frees it.
func NewHOGObjects(hitThreshold float64, minHeight int) *HOGObjects {
	h := &HOGObjects{hog: gocv.NewHOGDescriptor(), svm: hogPeopleDetector(), gray: gocv.NewMat(),
		scaled: gocv.NewMat(), hitThreshold: hitThreshold, minHeight: max(minHeight, 16)}
	h.hog.SetSVMDetector(h.svm)
	return h
}

// Detect returns the people HOG finds in bgr. OpenCV's grouped hits carry
// no margin: each scores 1 (hitThreshold is the only knob).
func (h *HOGObjects) Detect(bgr gocv.Mat) ([]Detection, error) {
	if bgr.Empty() {
		return nil, nil
	}
	gocv.CvtColor(bgr, &h.gray, gocv.ColorBGRToGray)
	s := math.Max(1, hogWinH/float64(h.minHeight))
	s = math.Min(s, hogWholeMaxSide/float64(max(bgr.Cols(), bgr.Rows())))
	src := h.gray
	if s != 1 {
		gocv.Resize(h.gray, &h.scaled, image.Pt(int(float64(bgr.Cols())*s), int(float64(bgr.Rows())*s)), 0, 0, gocv.InterpolationLinear)
		src = h.scaled
	}
	if src.Cols() < 64 || src.Rows() < hogWinH {
		return nil, nil
	}
	rects := h.hog.DetectMultiScaleWithParams(src, h.hitThreshold, image.Pt(8, 8), image.Pt(8, 8), hogScale, hogGroup, false)
	out := make([]Detection, 0, len(rects))
	for _, r := range rects {
		// The detection window holds a margin around the person: shrink
		// it as OpenCV's peopledetect sample does (80% of the width and
		// height, 10% and 7% in), so the box is the person's.
		x := (float64(r.Min.X) + 0.1*float64(r.Dx())) / s
		y := (float64(r.Min.Y) + 0.07*float64(r.Dy())) / s
		w, h := 0.8*float64(r.Dx())/s, 0.8*float64(r.Dy())/s
		out = append(out, Detection{Label: config.LabelPerson, Score: 1, Box: image.Rect(int(x), int(y), int(x+w), int(y+h))})
	}
	return out, nil
}

// Close frees the detector's C memory.
func (h *HOGObjects) Close() error {
	h.hog.Close()
	h.svm.Close()
	h.gray.Close()
	h.scaled.Close()
	return nil
}
