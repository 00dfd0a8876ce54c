package nn

// #cgo pkg-config: opencv4
// #cgo CXXFLAGS: -std=c++11
// #include "threads.h"
import "C"

// setThreads sets how many threads OpenCV uses for the whole process
// (cv::setNumThreads): every Detector and every other OpenCV call share it.
func setThreads(n int) { C.vigil_nn_set_threads(C.int(n)) }
