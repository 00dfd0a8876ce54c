package analyze

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
#include "hog.h"
*/
import "C"

import (
	"fmt"

	"gocv.io/x/gocv"
)

// hogPeopleLen is the length of OpenCV's default people detector: the
// descriptor of a 64x128 window (3,780) and the bias.
const hogPeopleLen = 3781

// hogPeopleDetector returns OpenCV's default people detector as a 1xN
// CV_32F Mat, for HOGDescriptor.SetSVMDetector. gocv's
// HOGDefaultPeopleDetector (v0.31.0) is not used: it wraps the temporary
// vector getDefaultPeopleDetector returns in a Mat without copying it, so
// the coefficients it hands over are read from freed memory, and a
// detector made from them finds people or not by what was allocated there
// since (a moving rectangle taken for a person in some runs only).
func hogPeopleDetector() (gocv.Mat, error) {
	m := gocv.NewMatWithSize(1, hogPeopleLen, gocv.MatTypeCV32F)
	coef, err := m.DataPtrFloat32()
	if err != nil {
		m.Close()
		return gocv.Mat{}, fmt.Errorf("hog people detector: %w", err)
	}
	if n := int(C.vg_hog_people((*C.float)(&coef[0]), C.int(len(coef)))); n != len(coef) {
		m.Close()
		return gocv.Mat{}, fmt.Errorf("hog people detector: OpenCV's has %d coefficients, want %d", n, len(coef))
	}
	return m, nil
}
