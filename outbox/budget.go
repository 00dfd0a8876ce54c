package outbox

import (
	"encoding/binary"
	"errors"

	"github.com/vigil-video/vigil/incident"
	bolt "go.etcd.io/bbolt"
)

// ErrFull: an event does not fit in the budget (when shedding: a
// start or end does not fit in the reserve either), and nothing can be
// evicted without taking it from a healthy sink that has not delivered
// it. The writer waits for a sink to make progress (or to fail) and tries
// again, while Publish keeps queueing in memory (handoff).
var ErrFull = errors.New("outbox full: waiting for healthy sinks to deliver")

// Drop reasons, the reason label of vigil_sink_events_dropped_total and
// vigil_outbox_dropped_total.
const (
	// DropOutboxFull: evicted from the full outbox before a failing sink
	// had it (per sink).
	DropOutboxFull = "outbox_full"
	// DropOverflow: an update event not stored, because the outbox was
	// full of what healthy but slow sinks had not taken and the queue in
	// front of it half full (every sink).
	DropOverflow = "overflow"
	// DropQueueFull: not stored, because the in-memory queue in front of
	// the outbox was full (every sink).
	DropQueueFull = "queue_full"
	// DropUnencodable: not stored, because it cannot be encoded as JSON (a
	// NaN or infinite number from a detector): the rest of its batch is
	// stored (every sink).
	DropUnencodable = "unencodable"
)

// reserveShare: starts and ends may use 1/reserveShare of max_bytes
// beyond it, when the budget is full of what healthy sinks have not taken.
const reserveShare = 8

// room is what makeRoomLocked decides for an event.
type room int

const (
	roomStore room = iota // store it (room was made, or it may exceed)
	roomDrop              // an update with no room: not stored, counted
	roomWait              // no room: wait for the sinks (shedding: a start or end, the reserve full too)
)

// SinkReason keys the per-sink drop counts.
type SinkReason struct{ Sink, Reason string }

// SetFailing records whether a sink's last delivery attempt failed. A
// failing sink's backlog may be evicted when the outbox is full; a healthy
// sink's never is. The outbox is the one owner of this state.
func (o *Outbox) SetFailing(sink string, failing bool) {
	o.mu.Lock()
	changed := o.failing[sink] != failing
	o.failing[sink] = failing
	o.mu.Unlock()
	if changed {
		o.signal()
	}
}

// Drained reports whether every sink has acknowledged every stored event
// or is failing.
func (o *Outbox) Drained() bool {
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
func (o *Outbox) signal() {
	select {
	case o.progress <- struct{}{}:
	default:
	}
}

// evictableLocked returns the highest sequence the budget may evict: what
// every healthy sink has acknowledged. With no healthy sink, everything.
// Nothing else, ever: not even at shutdown.
func (o *Outbox) evictableLocked(cursors map[string]uint64) uint64 {
	high := uint64(1<<64 - 1)
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

// makeRoomLocked makes room for an event of need bytes: it evicts, among
// the events every healthy sink has acknowledged (what only failing sinks
// still hold), the oldest update events, then the oldest events, until
// the event fits in max_bytes. Each eviction is counted against every
// sink that had not acknowledged the event yet (a failing sink). The rest
// would have to come from a healthy sink's backlog: nothing more is
// evicted, ever. Then the event waits for the sinks (roomWait) unless
// shed is set (the queue in front of the outbox is filling up): an update
// is not stored (roomDrop, counted against every sink), a start or end
// goes into the reserve (1/reserveShare of max_bytes beyond it) or waits
// when that is full too. With over set (closing) the event is stored
// past the budget, so that what is queued stays for the next run.
func (o *Outbox) makeRoomLocked(tx *bolt.Tx, need int64, update, over, shed bool) (room, error) {
	if o.bytes+need <= o.maxBytes || o.count == 0 {
		return roomStore, nil
	}
	b := tx.Bucket(bucketEvents)
	cursors := readCursors(tx)
	high := o.evictableLocked(cursors)
	for _, updatesOnly := range []bool{true, false} {
		c := b.Cursor()
		for k, v := c.First(); k != nil && o.bytes+need > o.maxBytes; {
			seq := binary.BigEndian.Uint64(k)
			if seq > high {
				break
			}
			isUpdate := len(v) > 0 && int(v[0]) <= len(v)-1 && string(v[1:1+int(v[0])]) == incident.TypeUpdate
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
				return roomWait, err
			}
			o.bytes -= size
			o.count--
			o.drops = append(o.drops, Drop{reason, seq})
			for _, s := range o.sinks {
				if cursors[s] < seq {
					o.sinkDrops[SinkReason{Sink: s, Reason: DropOutboxFull}]++
				}
			}
			// After Delete the cursor points at the next item.
			k, v = c.Seek(k)
		}
	}
	switch {
	case o.bytes+need <= o.maxBytes || o.count == 0 || over:
		return roomStore, nil
	case !shed:
		return roomWait, nil
	case update:
		o.drops = append(o.drops, Drop{DropOverflow, 0})
		for _, s := range o.sinks {
			o.sinkDrops[SinkReason{Sink: s, Reason: DropOverflow}]++
		}
		return roomDrop, nil
	case o.bytes+need <= o.maxBytes+o.maxBytes/reserveShare:
		return roomStore, nil
	}
	return roomWait, nil
}
