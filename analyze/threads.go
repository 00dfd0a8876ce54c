package analyze

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
#include "threads.h"
*/
import "C"

// OpenCV's own threads are off: analysis runs on the engine's workers, one
// camera per worker, and its images are small (320x180), so splitting an
// operation over OpenCV's thread pool only adds hand-offs. Measured with 30
// camera-realistic substreams: OpenCV's TBB workers spun on sched_yield
// about 1,000 times a second, and the Go worker that called cv::erode
// yielded 500 times a second waiting to run again (BENCHMARKS.md,
// "Where the time goes"). cv::setNumThreads(1) runs every OpenCV function
// on the calling thread.
func init() { C.vg_cv_serial() }

// openCVThreads returns the threads OpenCV splits a function over.
func openCVThreads() int { return int(C.vg_cv_threads()) }
