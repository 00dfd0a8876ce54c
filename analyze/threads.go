package analyze

import "github.com/vigil-video/vigil/internal/cvthreads"

// OpenCV's own threads are off: analysis runs on the engine's workers, one
// camera per worker, and its images are small (320x180), so splitting an
// operation over OpenCV's thread pool only adds hand-offs. Measured with 30
// camera-realistic substreams: OpenCV's TBB workers spun on sched_yield
// about 1,000 times a second, and the Go worker that called cv::erode
// yielded 500 times a second waiting to run again (BENCHMARKS.md,
// "Where the time goes"). cv::setNumThreads(1) runs every OpenCV function
// on the calling thread.
func init() { cvthreads.Set(1) }
