package analyze

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
#include "hog.h"
*/
import "C"

import (
	"gocv.io/x/gocv"
)

// hogPeopleDetector returns OpenCV's default people detector as a 1xN
// CV_32F Mat, for HOGDescriptor.SetSVMDetector; the caller closes it.
// gocv's HOGDefaultPeopleDetector (v0.31.0) is not used: it wraps the
// temporary vector getDefaultPeopleDetector returns in a Mat without
// copying it, so the coefficients it hands over are read from freed
// memory, and a detector made from them finds people or not by what was
// allocated there since (a moving rectangle taken for a person in some
// runs only; gocv issues 300 and 1062, open upstream).
func hogPeopleDetector() gocv.Mat {
	n := int(C.vg_hog_people(nil, 0))
	m := gocv.NewMatWithSize(1, n, gocv.MatTypeCV32F)
	coef, err := m.DataPtrFloat32()
	if err != nil { // a new 1xN CV_32F Mat is continuous: not reached
		panic("analyze: HOG people detector: " + err.Error())
	}
	C.vg_hog_people((*C.float)(&coef[0]), C.int(n))
	return m
}
