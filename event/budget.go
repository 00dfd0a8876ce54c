package event

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"
)

// errOutboxFull: an event does not fit in the budget and nothing can be
// evicted without taking it from a healthy sink that has not delivered it.
// The writer waits for a sink to make progress (or to fail) and tries again.
var errOutboxFull = errors.New("outbox full: waiting for healthy sinks to deliver")

// setFailing records whether a sink's last delivery attempt failed. A
// failing sink's backlog may be evicted when the outbox is full; a healthy
// sink's never is. The outbox is the one owner of this state.
func (o *outbox) setFailing(sink string, failing bool) {
	o.mu.Lock()
	changed := o.failing[sink] != failing
	o.failing[sink] = failing
	o.mu.Unlock()
	if changed {
		o.signal()
	}
}

// drained reports whether every sink has acknowledged every stored event
// or is failing.
func (o *outbox) drained() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	done := true
	o.db.View(func(tx *bolt.Tx) error { //nolint:errcheck // the callback returns nil
		cursors := readCursors(tx)
		for _, s := range o.sinks {
			done = done && (cursors[s] >= o.seq || o.failing[s])
		}
		return nil
	})
	return done
}

// signal wakes a writer waiting for room.
func (o *outbox) signal() {
	select {
	case o.progress <- struct{}{}:
	default:
	}
}

// evictableLocked returns the highest sequence the budget may evict: what
// every healthy sink has acknowledged. With no healthy sink (or when over
// is set), everything.
func (o *outbox) evictableLocked(cursors map[string]uint64, over bool) uint64 {
	high := uint64(1<<64 - 1)
	if over {
		return high
	}
	for _, s := range o.sinks {
		if !o.failing[s] {
			high = min(high, cursors[s])
		}
	}
	return high
}

func readCursors(tx *bolt.Tx) map[string]uint64 {
	out := map[string]uint64{}
	tx.Bucket(bucketCursors).ForEach(func(k, v []byte) error { //nolint:errcheck // the callback returns nil
		if len(v) == 8 {
			out[string(k)] = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return out
}

// makeRoomLocked evicts, among the events every healthy sink has
// acknowledged, the oldest update events, then the oldest events, until
// need more bytes fit. Each eviction is counted against every sink that had
// not acknowledged the event yet (a failing sink). It returns errOutboxFull
// when the rest would have to come from a healthy sink's backlog.
func (o *outbox) makeRoomLocked(tx *bolt.Tx, need int64, over bool) error {
	if o.bytes+need <= o.maxBytes || o.count == 0 {
		return nil
	}
	b := tx.Bucket(bucketEvents)
	cursors := readCursors(tx)
	high := o.evictableLocked(cursors, over)
	for _, updatesOnly := range []bool{true, false} {
		c := b.Cursor()
		for k, v := c.First(); k != nil && o.bytes+need > o.maxBytes; {
			seq := binary.BigEndian.Uint64(k)
			if seq > high {
				break
			}
			isUpdate := len(v) > 0 && int(v[0]) <= len(v)-1 && string(v[1:1+int(v[0])]) == TypeUpdate
			if updatesOnly && !isUpdate {
				k, v = c.Next()
				continue
			}
			reason := "oldest"
			if isUpdate {
				reason = "update"
			}
			size := int64(len(v))
			if err := c.Delete(); err != nil {
				return err
			}
			o.bytes -= size
			o.count--
			o.drops = append(o.drops, drop{reason, seq})
			for _, s := range o.sinks {
				if cursors[s] < seq {
					o.sinkDrops[s]++
				}
			}
			// After Delete the cursor points at the next item.
			k, v = c.Seek(k)
		}
	}
	if o.bytes+need > o.maxBytes && o.count > 0 {
		if over {
			return nil // closing: over the budget rather than lose events
		}
		return errOutboxFull
	}
	return nil
}

// dropLog sums evictions between two log lines.
type dropLog struct {
	last    time.Time
	updates int
	oldest  int
	sinks   map[string]int
}

func (l *dropLog) add(drops []drop, sinkDrops map[string]int) {
	for _, dr := range drops {
		if dr.reason == "update" {
			l.updates++
		} else {
			l.oldest++
		}
	}
	if l.sinks == nil {
		l.sinks = map[string]int{}
	}
	for s, n := range sinkDrops {
		l.sinks[s] += n
	}
}

// flush logs what was summed since the last flush, if anything.
func (l *dropLog) flush(log *slog.Logger) {
	if l.updates+l.oldest > 0 {
		log.Warn("outbox full: events evicted", "updates", l.updates, "oldest", l.oldest)
	}
	for s, n := range l.sinks {
		log.Warn("outbox full: failing sink lost undelivered events", "sink", s, "events", n)
	}
	l.updates, l.oldest, l.last = 0, 0, time.Now()
	clear(l.sinks)
}
