package delivery

import (
	"errors"
	"fmt"
	"time"
)

const (
	// flushTimeout bounds how long Close waits for queued events to reach
	// the outbox when the disk refuses them (full, failing).
	flushTimeout = 4 * time.Second
	// drainTimeout bounds how long Close lets the sinks deliver what is
	// stored before stopping them.
	drainTimeout = 2 * time.Second
	// stopTimeout bounds how long Close waits for the sinks to stop once
	// cancelled, then for them to close: a sink that ignores its context
	// (a client library stuck in a call) is left behind, logged.
	stopTimeout = time.Second
)

// ErrEventsLost marks a Close that could not store every published event.
var ErrEventsLost = errors.New("events lost")

// ShutdownReport says what Close left behind.
type ShutdownReport struct {
	// NotStored counts events published but never stored in the outbox:
	// they are lost (the disk refused them until the flush deadline, or
	// they were published while delivery was closing).
	NotStored int
	// Pending counts stored events some sink has not acknowledged; the
	// next run on the same outbox delivers them.
	Pending int
	// Took is how long Close took.
	Took time.Duration
}

// Close stores what is queued (past outbox.max_bytes if need be:
// nothing is evicted for it), gives the sinks up to 2 s to deliver it (not
// waiting for a sink whose last attempt failed), stops them and closes the
// outbox; what is undelivered stays there for the next run. It returns
// within about 9 s whatever the sinks do and when the disk refuses writes
// (full, read-only): it waits up to 4 s for the disk to take what is
// queued (then counts what it could not store as lost), 2 s for the
// sinks to deliver, 1 s for them to stop and 1 s for them to close (a
// sink still running after that is logged and left behind). It logs what
// it left behind (Report) and returns an error wrapping ErrEventsLost
// when events were not stored. A Delivery never started is started
// first, so that what was published is stored. Later calls return the
// first result.
func (d *Delivery) Close() error {
	d.closeOnce.Do(func() {
		d.Start()
		d.report, d.closeErr = d.shutdown()
		close(d.closed)
	})
	return d.closeErr
}

// Wait blocks until Close has returned and returns its error.
func (d *Delivery) Wait() error {
	<-d.closed
	return d.closeErr
}

// Report says what Close left behind; it waits for Close to return.
func (d *Delivery) Report() ShutdownReport {
	<-d.closed
	return d.report
}

func (d *Delivery) shutdown() (ShutdownReport, error) {
	start := time.Now()
	close(d.closing) // the writer stores past the budget from now on
	d.queue.close()

	flush := time.NewTimer(flushTimeout)
	select {
	case <-d.writeDone:
	case <-flush.C:
		close(d.giveUp)
		<-d.writeDone
	}
	flush.Stop()
	// A failing sink is not waited for: it stays behind for the next run.
	for deadline := time.Now().Add(drainTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if d.box.Drained() {
			break
		}
	}
	d.dropLog.flush(d.log)
	d.cancel()
	stopped := make(chan struct{})
	go func() { d.wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopTimeout):
		d.log.Error("sinks did not stop within the shutdown bound; left behind", "waited", stopTimeout)
	}
	errs := d.closeSinks()
	pending, _ := d.box.Depth()
	// bbolt waits for the transactions in progress: a sink left behind is
	// at most in a short one, and its next fails.
	if err := d.box.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close outbox: %w", err))
	}
	rep := ShutdownReport{NotStored: int(d.notStored.Load()), Pending: pending, Took: time.Since(start)}
	var lastErr error
	if p := d.writeErr.Load(); p != nil {
		lastErr = *p
	}
	switch {
	case rep.NotStored > 0:
		d.log.Error("delivery stopped: events lost", "not_stored", rep.NotStored, "pending", rep.Pending,
			"took", rep.Took, "error", lastErr)
		errs = append(errs, fmt.Errorf("%w: %d events not stored in the outbox (last write error: %v)", ErrEventsLost, rep.NotStored, lastErr))
	case rep.Pending > 0:
		d.log.Warn("delivery stopped with events pending; the next run delivers them", "pending", rep.Pending, "took", rep.Took)
	default:
		d.log.Info("delivery stopped", "took", rep.Took)
	}
	return rep, errors.Join(errs...)
}

// closeSinks closes every sink at once and waits up to stopTimeout for
// them; a sink whose close does not return by then is logged and left
// behind.
func (d *Delivery) closeSinks() []error {
	errc := make(chan error, len(d.sinks))
	for _, r := range d.sinks {
		go func() {
			if err := r.s.Close(); err != nil {
				errc <- fmt.Errorf("close sink %s: %w", r.cfg.Name, err)
				return
			}
			errc <- nil
		}()
	}
	var errs []error
	deadline := time.After(stopTimeout)
	for range d.sinks {
		select {
		case err := <-errc:
			if err != nil {
				errs = append(errs, err)
			}
		case <-deadline:
			d.log.Error("a sink did not close within the shutdown bound; left behind", "waited", stopTimeout)
			return errs
		}
	}
	return errs
}
