package analyze

import (
	"image"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// Tuning of the motion pipeline that is not worth a config key.
const (
	// bgTimeConstant is the time constant of the diff background's running
	// average; the per-frame weight is 1-exp(-dt/bgTimeConstant), so the
	// background adapts at the same speed at any frame rate.
	bgTimeConstant = 2 * time.Second
	// avgScale is the fixed point of the running average: 8 bits of
	// fraction.
	avgScale      = 256
	blurSize      = 5   // Gaussian blur kernel, pixels
	erodeSize     = 3   // erosion kernel, pixels
	dilateSize    = 5   // dilation kernel, pixels
	mog2History   = 200 // frames
	mog2VarThresh = 16  // squared Mahalanobis distance

	// A change spread over most of the picture is global (lighting, focus,
	// an IR switch, the camera moving), not an object: the change is
	// counted in a cellsW x cellsH grid, and a frame where over
	// globalSpread of the analyzed cells changed, and over globalChanged
	// of the pixels, relearns instead of raising motion.
	cellsW, cellsH = 16, 9
	globalSpread   = 0.6
	globalChanged  = 0.03
)

// region is one moving blob of a frame.
type region struct {
	area float64 // contour area, pixels
	rect image.Rectangle
}

// detection is the motion found in one frame. It is reused frame to frame.
type detection struct {
	changed  float64 // share of pixels over threshold, before dilation
	lighting bool    // changed exceeded LightingChange: relearned, no motion
	moving   bool    // a region reached MinArea/2
	strong   bool    // a region reached MinArea
	score    float64 // kept regions' area over the frame area, 0..1
	n        int
	regions  [MaxBoxes]region // largest first, regions[:n]
	// zone[i] is the moving share of the frame inside restricted zone i.
	zone []float64
}

// add keeps r if it is among the MaxBoxes largest regions seen.
func (d *detection) add(r region) {
	i := d.n
	if d.n == MaxBoxes {
		if r.area <= d.regions[MaxBoxes-1].area {
			return
		}
		i = MaxBoxes - 1
	} else {
		d.n++
	}
	for i > 0 && d.regions[i-1].area < r.area {
		d.regions[i] = d.regions[i-1]
		i--
	}
	d.regions[i] = r
}

// detector is the background model and motion pipeline of one camera. Its
// Mats are allocated by OpenCV on first use and reused while the frame size
// stays the same.
type detector struct {
	mog2      bool
	threshold float32
	minArea   float64 // share of frame area to start
	lighting  float64 // share of frame area that is a lighting change

	width, height int
	primed        bool // the background model holds a frame

	// avg is the running average (diff) in 16-bit fixed point, 8
	// fractional bits (avgScale), updated in place (diffStep): half the
	// memory of a 32-bit float average, the largest thing an idle
	// camera keeps, with 1/256 of a grey level of precision (at the
	// default weight, 0.095 at 5 frames a second, an update rounds to
	// nothing only within 0.02 levels of the average).
	avg          gocv.Mat
	dilateKernel gocv.Mat // dilation kernel: joins a moving object's pieces
	erodeKernel  gocv.Mat // erosion kernel: drops isolated noise pixels
	sub          gocv.BackgroundSubtractorMOG2
	hasSub       bool

	masks     []Polygon  // ignored areas
	zones     []Polygon  // restricted zones
	keep      gocv.Mat   // 8UC1 255 where analyzed; empty without masks
	keepShare float64    // analyzed share of the frame
	keepCells int        // analyzed cells of the spread grid
	zoneMasks []gocv.Mat // 8UC1 per restricted zone
}

func newDetector(cfg MotionConfig, masks, zones []Polygon) detector {
	return detector{
		masks:        masks,
		zones:        zones,
		keep:         gocv.NewMat(),
		keepShare:    1,
		keepCells:    cellsW * cellsH,
		mog2:         cfg.Algorithm == config.AlgorithmMOG2,
		threshold:    float32(cfg.Threshold),
		minArea:      cfg.MinArea,
		lighting:     cfg.LightingChange,
		avg:          gocv.NewMat(),
		dilateKernel: gocv.GetStructuringElement(gocv.MorphRect, image.Pt(dilateSize, dilateSize)),
		erodeKernel:  gocv.GetStructuringElement(gocv.MorphRect, image.Pt(erodeSize, erodeSize)),
	}
}

// forget drops the background model; the next frame seeds a new one.
func (d *detector) forget() { d.primed = false }

// process runs one frame through the model and fills out. dt is the time
// since the previous frame. While learning, or when the frame seeds the
// model, only the model is updated and out reports no motion.
//
// global tells that the frame is known to differ from the scene as a
// whole (the tamper checks saw it covered or out of focus): the model is
// reseeded and no motion is raised.
func (d *detector) process(f *Frame, w *work, dt time.Duration, learning, global bool, out *detection) {
	*out = detection{zone: out.zone}
	clear(out.zone)
	if f.Width != d.width || f.Height != d.height {
		d.width, d.height = f.Width, f.Height
		d.primed = false
		d.rasterize(w)
	}
	if cap(out.zone) < len(d.zones) {
		out.zone = make([]float64, len(d.zones))
	}
	out.zone = out.zone[:len(d.zones)]
	blur5(f, w)
	if !d.primed {
		d.seed(w)
		return
	}
	if global {
		d.seed(w)
		out.lighting = true
		return
	}
	var changed int
	if d.mog2 {
		d.sub.Apply(w.blurred, &w.mask)
		if learning {
			return
		}
		if !d.keep.Empty() {
			gocv.BitwiseAnd(w.mask, d.keep, &w.mask)
		}
		changed = gocv.CountNonZero(w.mask)
	} else {
		changed = d.diff(w, learning, runningWeight(dt, bgTimeConstant))
		if learning {
			return
		}
	}
	if changed == 0 {
		return // still: no regions, no zone moving
	}
	area := float64(d.width * d.height)
	out.changed = float64(changed) / (area * d.keepShare)
	if out.changed > d.lighting || (out.changed > globalChanged && d.spread(w) > globalSpread) {
		d.seed(w)
		out.lighting = true
		return
	}
	d.regions(w, out, area)
	for i := range d.zoneMasks {
		gocv.BitwiseAnd(w.mask, d.zoneMasks[i], &w.scratch)
		out.zone[i] = float64(gocv.CountNonZero(w.scratch)) / area
	}
}

// diff compares the blurred frame with the running average, making
// w.mask the pixels over the threshold outside the masks (unless
// learning), and updates the average by weight. It returns how many
// pixels changed.
func (d *detector) diff(w *work, learning bool, weight float64) int {
	mask := &w.mask
	if learning {
		mask = nil
	}
	n, err := diffStep(w.blurred, &d.avg, mask, d.keep, d.threshold, weight)
	if err == nil {
		return n
	}
	// Not reached (the Mats are the frame's size and continuous):
	// OpenCV's calls, which diffStep does in one pass.
	return d.diffCV(w, learning, weight)
}

// diffCV is diff in OpenCV calls.
func (d *detector) diffCV(w *work, learning bool, weight float64) int {
	d.avg.ConvertToWithParams(&w.avgF, gocv.MatTypeCV32F, 1.0/avgScale, 0)
	if !learning {
		w.avgF.ConvertTo(&w.avg8, gocv.MatTypeCV8U)
		gocv.AbsDiff(w.blurred, w.avg8, &w.diff)
		gocv.Threshold(w.diff, &w.mask, d.threshold, 255, gocv.ThresholdBinary)
	}
	gocv.AccumulatedWeighted(w.blurred, &w.avgF, weight)
	w.avgF.ConvertToWithParams(&d.avg, gocv.MatTypeCV16U, avgScale, 0)
	if learning {
		return 0
	}
	if !d.keep.Empty() {
		gocv.BitwiseAnd(w.mask, d.keep, &w.mask)
	}
	return gocv.CountNonZero(w.mask)
}

// spread is the share of the analyzed cells of the grid where some
// pixels changed.
func (d *detector) spread(w *work) float64 {
	area(w.mask, &w.cells, image.Pt(cellsW, cellsH), &w.areaRows)
	// A cell counts when over 1% of its pixels changed.
	gocv.Threshold(w.cells, &w.cells, 2.55, 255, gocv.ThresholdBinary)
	return float64(gocv.CountNonZero(w.cells)) / float64(d.keepCells)
}

// rasterize draws the masks and zones at the current frame size.
func (d *detector) rasterize(w *work) {
	if d.keep.Ptr() != nil {
		d.keep.Close()
		d.keep = gocv.NewMat()
	}
	for _, m := range d.zoneMasks {
		m.Close()
	}
	d.zoneMasks = d.zoneMasks[:0]
	d.keepShare, d.keepCells = 1, cellsW*cellsH
	if len(d.masks) > 0 {
		ignored := rasterize(d.masks, d.width, d.height)
		gocv.BitwiseNot(ignored, &ignored)
		d.keep = ignored
		d.keepShare = max(float64(gocv.CountNonZero(d.keep))/float64(d.width*d.height), 1e-3)
		gocv.Resize(d.keep, &w.cells, image.Pt(cellsW, cellsH), 0, 0, gocv.InterpolationArea)
		gocv.Threshold(w.cells, &w.cells, 127, 255, gocv.ThresholdBinary)
		d.keepCells = max(gocv.CountNonZero(w.cells), 1)
	}
	for _, z := range d.zones {
		d.zoneMasks = append(d.zoneMasks, rasterize([]Polygon{z}, d.width, d.height))
	}
}

// seed makes the current blurred frame the whole background.
func (d *detector) seed(w *work) {
	if d.mog2 {
		if d.hasSub {
			d.sub.Close()
		}
		d.sub = gocv.NewBackgroundSubtractorMOG2WithParams(mog2History, mog2VarThresh, false)
		d.hasSub = true
		d.sub.Apply(w.blurred, &w.mask)
	} else {
		w.blurred.ConvertToWithParams(&d.avg, gocv.MatTypeCV16U, avgScale, 0)
	}
	d.primed = true
}

// regions finds the moving blobs of w.mask after an erosion (isolated
// noise pixels) and a dilation (joining an object's pieces). Regions under half of MinArea
// are dropped (hysteresis: MinArea to start, MinArea/2 to continue).
func (d *detector) regions(w *work, out *detection, area float64) {
	gocv.Erode(w.mask, &w.mask, d.erodeKernel)
	gocv.Dilate(w.mask, &w.mask, d.dilateKernel)
	contours := gocv.FindContoursWithParams(w.mask, &w.hierarchy, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	keep, start := d.minArea*area/2, d.minArea*area
	var total float64
	for i, n := 0, contours.Size(); i < n; i++ {
		c := contours.At(i)
		a := gocv.ContourArea(c)
		if a < keep {
			continue
		}
		out.moving = true
		if a >= start {
			out.strong = true
		}
		total += a
		out.add(region{area: a, rect: gocv.BoundingRect(c)})
	}
	out.score = math.Min(total/area, 1)
}

// runningWeight is the running-average weight of a frame dt after the
// previous one, for time constant tc.
func runningWeight(dt, tc time.Duration) float64 {
	if dt <= 0 {
		return 0
	}
	return 1 - math.Exp(-float64(dt)/float64(tc))
}

// close frees the detector's C memory. It is idempotent.
func (d *detector) close() {
	for _, m := range []*gocv.Mat{&d.avg, &d.dilateKernel, &d.erodeKernel, &d.keep} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
	for _, m := range d.zoneMasks {
		m.Close()
	}
	d.zoneMasks = nil
	if d.hasSub {
		d.sub.Close()
		d.hasSub = false
	}
}
