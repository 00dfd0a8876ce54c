package event

import "fmt"

// Ready reports whether the outbox can be written: an error naming the
// outbox file and the cause while its last write failed (a full disk, a
// read-only filesystem), nil once a write succeeds again. It reflects
// writes only, so it turns nil-to-error with the first event the disk
// refuses, not before. It reads one atomic: cheap and safe for concurrent
// use.
func (d *Delivery) Ready() error {
	p := d.writeFailing.Load()
	if p == nil {
		return nil
	}
	return fmt.Errorf("outbox: %s: last write failed: %w", d.box.db.Path(), *p)
}
