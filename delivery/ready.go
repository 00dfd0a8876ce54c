package delivery

import (
	"fmt"
	"time"
)

// Ready reports whether delivery keeps up: an error naming the outbox
// file and the cause while its last write failed (a full disk, a
// read-only filesystem), nil once a write succeeds again (it reflects
// writes only, so it turns nil-to-error with the first event the disk
// refuses, not before); an error naming the sink (or the queue in front
// of the outbox) while the oldest event it has not taken is older than
// outbox.max_lag. A sink behind is named before the queue: a sink that
// holds the events it has not taken fills the outbox, and the queue in
// front of it waits on the sink. Cheap (atomics and one short lock) and
// safe for concurrent use.
func (d *Delivery) Ready() error {
	if p := d.writeFailing.Load(); p != nil {
		return fmt.Errorf("outbox: %s: last write failed: %w", d.box.Path(), *p)
	}
	now := time.Now()
	for _, r := range d.sinks {
		if lag := r.lag(now); lag > d.maxLag {
			return fmt.Errorf("delivery: sink %s is %s behind (outbox.max_lag %s)", r.cfg.Name, lag.Round(time.Second), d.maxLag)
		}
	}
	if _, oldest := d.queue.depth(); !oldest.IsZero() && now.Sub(oldest) > d.maxLag {
		return fmt.Errorf("delivery: events wait %s to be stored in the outbox (outbox.max_lag %s)", now.Sub(oldest).Round(time.Second), d.maxLag)
	}
	return nil
}

// lag returns the age of the oldest stored event the sink has not
// acknowledged, 0 when it has every one.
func (r *sinkRunner) lag(now time.Time) time.Duration {
	p := r.pending.Load()
	if p == 0 {
		return 0
	}
	return max(0, now.Sub(time.Unix(0, p)))
}
