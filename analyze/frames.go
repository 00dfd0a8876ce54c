package analyze

import (
	"fmt"
	"image"
	"slices"

	"gocv.io/x/gocv"
)

// ReadFrames decodes the video file at path with OpenCV (its FFmpeg
// backend), in order, and calls fn with each picture whose index (from 0)
// is in want, in color; the picture is valid during the call only. It is
// for benchmarks on recorded footage, not part of the engine. An index
// past the end is an error.
func ReadFrames(path string, want []int, fn func(index int, s *Snapshot) error) error {
	if len(want) == 0 {
		return nil
	}
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	defer img.Close()
	last := slices.Max(want)
	for i := 0; i <= last; i++ {
		if !vc.Read(&img) || img.Empty() {
			return fmt.Errorf("%s: ends before frame %d (at %d)", path, last, i)
		}
		if !slices.Contains(want, i) {
			continue
		}
		s := &Snapshot{Width: img.Cols(), Height: img.Rows(), mat: img}
		if err := fn(i, s); err != nil {
			return err
		}
	}
	return nil
}

// DetectSnapshot runs det on the picture s.
func DetectSnapshot(det ObjectDetector, s *Snapshot) ([]Detection, error) {
	return det.Detect(s.mat)
}

// DetectSnapshotRegion runs det on the region r of the picture s (tiling
// in benchmarks) and returns the detections with boxes in s's pixels.
func DetectSnapshotRegion(det ObjectDetector, s *Snapshot, r image.Rectangle) ([]Detection, error) {
	roi := s.mat.Region(r)
	defer roi.Close()
	d, err := det.Detect(roi)
	for i := range d {
		d[i].Box = d[i].Box.Add(r.Min)
	}
	return d, err
}
