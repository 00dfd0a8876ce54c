// Package await is the tests' one way to wait for a condition: polled
// every 20 ms, failing the test with what was awaited after a deadline.
package await

import (
	"testing"
	"time"
)

// Until polls cond every 20 ms until it holds, and fails t (naming what)
// if it does not within d.
func Until(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
