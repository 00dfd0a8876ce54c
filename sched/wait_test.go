package sched

import (
	"testing"
	"time"
)

// waitFor polls cond until it holds; it fails the test after a generous
// deadline (a liveness bound, not a timing assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
