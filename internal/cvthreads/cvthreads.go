// Package cvthreads sets and reads OpenCV's thread count, which gocv does
// not expose. The count is process-wide: it applies to every OpenCV call
// of every package (cv::setNumThreads, cv::getNumThreads).
package cvthreads

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
#include "threads.h"
*/
import "C"

// Set sets how many threads OpenCV splits a function over; 1 runs every
// function on the calling thread.
func Set(n int) { C.vg_cv_set_threads(C.int(n)) }

// Get returns how many threads OpenCV splits a function over.
func Get() int { return int(C.vg_cv_threads()) }
