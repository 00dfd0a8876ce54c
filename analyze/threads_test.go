package analyze

import (
	"testing"

	"github.com/vigil-video/vigil/internal/cvthreads"
)

// TestOpenCVRunsOnTheCallingThread: OpenCV's thread pool is off (its
// default is one thread per core), so an analysis never hands work to
// threads that then spin waiting for more.
func TestOpenCVRunsOnTheCallingThread(t *testing.T) {
	if n := cvthreads.Get(); n != 1 {
		t.Fatalf("OpenCV splits functions over %d threads, want 1", n)
	}
}
