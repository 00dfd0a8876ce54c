// Package backoff is vigil's one capped exponential backoff with jitter,
// used by camera reconnects (ingest) and sink retries (event).
package backoff

import (
	"math/rand/v2"
	"time"
)

// Backoff yields the waits between retries: the ceiling d starts at Min and
// doubles after every wait up to Max, and each wait is drawn uniformly from
// [d/2, d] so that many clients failing together do not retry together.
//
// Set Min and Max, then call Next before each retry and Reset after a
// success. Min should be positive; a Max below Min is taken as Min. A
// Backoff is not safe for concurrent use: each retry loop owns its own.
type Backoff struct {
	// Min is the ceiling of the first wait.
	Min time.Duration
	// Max is the largest ceiling, and so the longest wait.
	Max time.Duration

	d    time.Duration       // ceiling of the last wait; 0 before the first
	rand func(n int64) int64 // a draw from [0, n); rand.Int64N when nil (tests replace it)
}

// Next returns the next wait and doubles the ceiling for the one after.
func (b *Backoff) Next() time.Duration {
	ceil := max(b.Min, b.Max)
	switch {
	case b.d <= 0:
		b.d = min(b.Min, ceil)
	case b.d > ceil/2:
		b.d = ceil
	default:
		b.d *= 2
	}
	if b.d <= 0 {
		return 0
	}
	draw := rand.Int64N
	if b.rand != nil {
		draw = b.rand
	}
	lo := b.d / 2
	return lo + time.Duration(draw(int64(b.d-lo)+1))
}

// Reset starts the ceiling again from Min.
func (b *Backoff) Reset() { b.d = 0 }
