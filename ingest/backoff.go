package ingest

import (
	"math/rand/v2"
	"time"
)

// backoff is capped exponential backoff with jitter: the n-th wait is drawn
// uniformly from [d/2, d] where d = min(Min*2^n, Max).
type backoff struct {
	min, max time.Duration
	n        int
	rand     func() float64
}

func (b *backoff) next() time.Duration {
	d := b.min << b.n
	if d > b.max || d <= 0 {
		d = b.max
	} else {
		b.n++
	}
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

func (b *backoff) reset() { b.n = 0 }
