package cvthreads

import "testing"

// TestSetThenGet: the count set is the count OpenCV reports, for the
// serial setting the engine uses and for another.
func TestSetThenGet(t *testing.T) {
	defer Set(Get())
	for _, n := range []int{2, 1} {
		Set(n)
		if got := Get(); got != n {
			t.Fatalf("Set(%d): OpenCV splits functions over %d threads", n, got)
		}
	}
}
