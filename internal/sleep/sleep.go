// Package sleep is vigil's one cancellable sleep.
package sleep

import (
	"context"
	"time"
)

// For waits d or until ctx is done; it reports whether d elapsed.
func For(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
