package analyze

import (
	"sync"

	"gocv.io/x/gocv"
)

// work holds the matrices that the analysis of one frame writes and reads
// and that no later frame needs: blurred pictures, differences, masks,
// gradients, correlation maps. They are shared by every camera, one set
// per analysis running at the same time, so that what a camera keeps is
// its state only (its background model, its tamper reference): about
// 0.5 MiB less per camera at the default analysis size, and the process
// holds as many sets as it runs analyses at once (its workers).
type work struct {
	// motion (detector)
	blurred   gocv.Mat // 8UC1 blurred input
	blurRows  []uint16 // blur5's row sums
	avgF      gocv.Mat // 32FC1 running average (diff in OpenCV calls: detector.diffCV)
	avg8      gocv.Mat // 8UC1 running average (diffCV)
	diff      gocv.Mat // 8UC1 |blurred-avg8| (diffCV)
	mask      gocv.Mat // 8UC1 foreground mask
	hierarchy gocv.Mat // FindContours scratch
	cells     gocv.Mat // spread grid scratch
	scratch   gocv.Mat

	// tamper
	thumb      gocv.Mat // 8U
	areaRows   []uint32 // area's column sums and weights
	small, lap gocv.Mat
	mean, std  gocv.Mat

	// moved (background)
	bgSmall     gocv.Mat // the picture, bgW x bgH, 8U
	median      gocv.Mat // the background, 8U, bgW x bgH
	gx, gy, mag gocv.Mat // 32F
	edges       gocv.Mat // 32F: the background's edges (background.edges)
	ncc, noMask gocv.Mat
	reg         gocv.Mat
	halfEdges   gocv.Mat
	halfRef     gocv.Mat
}

func (w *work) mats() []*gocv.Mat {
	return []*gocv.Mat{&w.blurred, &w.avgF, &w.avg8, &w.diff, &w.mask, &w.hierarchy, &w.cells, &w.scratch,
		&w.thumb, &w.small, &w.lap, &w.mean, &w.std,
		&w.bgSmall, &w.median, &w.gx, &w.gy, &w.mag, &w.edges, &w.ncc, &w.noMask, &w.reg, &w.halfEdges, &w.halfRef}
}

func newWork() *work {
	w := &work{}
	for _, m := range w.mats() {
		*m = gocv.NewMat()
	}
	w.median.Close()
	w.median = gocv.NewMatWithSize(bgH, bgW, gocv.MatTypeCV8U)
	return w
}

func (w *work) close() {
	for _, m := range w.mats() {
		m.Close()
	}
}

// maxFreeWork bounds the sets kept between analyses: beyond it (more
// analyses at once than this, for a while) a set is freed when returned.
const maxFreeWork = 32

// works is the free list of work sets.
var works struct {
	mu   sync.Mutex
	free []*work
}

// getWork takes a set from the free list, or makes one.
func getWork() *work {
	works.mu.Lock()
	defer works.mu.Unlock()
	if n := len(works.free); n > 0 {
		w := works.free[n-1]
		works.free = works.free[:n-1]
		return w
	}
	return newWork()
}

// putWork gives the set back.
func putWork(w *work) {
	works.mu.Lock()
	defer works.mu.Unlock()
	if len(works.free) >= maxFreeWork {
		w.close()
		return
	}
	works.free = append(works.free, w)
}
