// Package outbox is the durable, ordered store of incident events waiting
// for their sinks (a bbolt file): every event is committed before any sink
// sees it and deleted once every sink has acknowledged it, within a byte
// budget that evicts only what failing sinks still hold, and a damaged
// file is moved aside or refused, never silently replaced.
package outbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/boltfile"
)

var (
	bucketEvents  = []byte("events")  // seq -> record
	bucketCursors = []byte("cursors") // sink name -> last acknowledged seq
)

// Record is an event as stored: its type first (so the budget can find
// updates without decoding), then the time it was stored, then the JSON.
type Record struct {
	// Seq orders the records; a sink's cursor is the last Seq it
	// acknowledged.
	Seq    uint64
	Type   string
	Stored time.Time
	// JSON is the event as the sinks send it.
	JSON []byte
}

func encodeRecord(typ string, stored time.Time, js []byte) []byte {
	b := make([]byte, 0, 1+len(typ)+8+len(js))
	b = append(b, byte(len(typ)))
	b = append(b, typ...)
	b = binary.BigEndian.AppendUint64(b, uint64(stored.UnixNano()))
	return append(b, js...)
}

func decodeRecord(seq uint64, v []byte) (Record, error) {
	if len(v) < 1 || len(v) < 1+int(v[0])+8 {
		return Record{}, errors.New("outbox: corrupt record")
	}
	n := int(v[0])
	r := Record{Seq: seq, Type: string(v[1 : 1+n])}
	r.Stored = time.Unix(0, int64(binary.BigEndian.Uint64(v[1+n:])))
	r.JSON = append([]byte(nil), v[1+n+8:]...)
	return r, nil
}

// Drop is an event the outbox evicted or refused (seq 0: never stored).
type Drop struct {
	// Reason is "update" or "oldest" (evicted) or a Drop* reason.
	Reason string
	Seq    uint64
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Outbox is the durable, ordered store of events waiting for their sinks.
// Every event is committed (fsync) before any sink sees it and deleted once
// every sink's cursor has passed it.
type Outbox struct {
	db       *bolt.DB
	maxBytes int64
	log      *slog.Logger
	onDrop   func(drops []Drop, sinkDrops map[SinkReason]int)
	// progress is signalled when a sink acknowledges or changes health:
	// a writer waiting for room tries again (Progress).
	progress chan struct{}

	mu        sync.Mutex
	drops     []Drop             // of the transaction in progress
	sinkDrops map[SinkReason]int // of the transaction in progress
	failing   map[string]bool
	seq       uint64
	bytes     int64
	count     int
	sinks     []string
}

// openFile opens the outbox file and prepares it. Whatever says the
// file itself is damaged (zero length, an invalid meta page, a bbolt
// panic, a failed consistency check, a damaged record) is a *damageError; what comes from
// its surroundings (permissions, a lock held by another process, a
// failing disk) is not.
//
// With oneMeta set, an outbox whose only damage is one meta page (a
// damageError with oneMeta) is opened from the other.
func openFile(cfg config.Outbox, sinks []string, log *slog.Logger, onDrop func([]Drop, map[SinkReason]int), oneMeta bool) (*Outbox, error) {
	if fi, serr := os.Stat(cfg.Path); serr == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, &damageError{cause: errors.New("zero-length file")}
	}
	db, err := boltfile.Open(cfg.Path, 5*time.Second)
	if err != nil {
		return nil, classify(fmt.Errorf("open outbox %s: %w", cfg.Path, err))
	}
	var o *Outbox
	err = boltfile.Read(db, func() error {
		if err := checkOutbox(db); err != nil && !(oneMeta && errors.Is(err, errOneMeta)) {
			return &damageError{cause: err, oneMeta: errors.Is(err, errOneMeta)}
		}
		o = &Outbox{db: db, maxBytes: cfg.MaxBytes, log: log, onDrop: onDrop, sinks: sinks,
			progress: make(chan struct{}, 1), sinkDrops: map[SinkReason]int{}, failing: map[string]bool{}}
		err := db.Update(func(tx *bolt.Tx) error {
			ev, err := tx.CreateBucketIfNotExists(bucketEvents)
			if err != nil {
				return err
			}
			cur, err := tx.CreateBucketIfNotExists(bucketCursors)
			if err != nil {
				return err
			}
			// The sequence never goes back: it is the largest of the bucket's
			// persisted sequence, the last stored key and every cursor (an
			// outbox written before the sequence was persisted has cursors past
			// its emptied events bucket).
			o.seq = ev.Sequence()
			if k, _ := ev.Cursor().Last(); k != nil {
				o.seq = max(o.seq, binary.BigEndian.Uint64(k))
			}
			if err := cur.ForEach(func(_, v []byte) error {
				if len(v) == 8 {
					o.seq = max(o.seq, binary.BigEndian.Uint64(v))
				}
				return nil
			}); err != nil {
				return err
			}
			if err := ev.SetSequence(o.seq); err != nil {
				return err
			}
			// A sink added since the last run starts after what is stored: the
			// backlog was meant for the sinks configured then. A sink that is
			// gone no longer holds events back.
			known := map[string]bool{}
			for _, s := range sinks {
				known[s] = true
				if cur.Get([]byte(s)) == nil {
					if err := cur.Put([]byte(s), seqKey(o.seq)); err != nil {
						return err
					}
				}
			}
			var gone [][]byte
			cur.ForEach(func(k, _ []byte) error { //nolint:errcheck // the callback returns nil
				if !known[string(k)] {
					gone = append(gone, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range gone {
				if err := cur.Delete(k); err != nil {
					return err
				}
			}
			return ev.ForEach(func(_, v []byte) error {
				o.bytes += int64(len(v))
				o.count++
				return nil
			})
		})
		if err == nil {
			err = o.collect()
		}
		if err != nil {
			return classify(fmt.Errorf("open outbox %s: %w", cfg.Path, err))
		}
		return nil
	})
	var p *boltfile.PanicError
	if errors.As(err, &p) { // db closed by Read
		return nil, &damageError{cause: p}
	}
	if err != nil {
		boltfile.CloseQuietly(db)
		return nil, err
	}
	return o, nil
}

// Append stores events durably, in order, making room within the budget
// (makeRoomLocked; with shed set, an update that finds no room is dropped
// and counted).
// It returns how many of evs it took (a prefix, stored or dropped), those
// of them it stored, and ErrFull when the rest must wait for a
// healthy sink. With over set (closing) the budget is exceeded rather
// than drop anything. A healthy sink's events are never evicted.
func (o *Outbox) Append(evs []incident.Event, over, shed bool) (int, []incident.Event, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	bytes0, count0, seq0 := o.bytes, o.count, o.seq
	o.drops = o.drops[:0]
	clear(o.sinkDrops)
	taken := 0
	var kept []incident.Event
	var full error
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		now := time.Now()
		for _, ev := range evs {
			js, err := json.Marshal(ev)
			if err != nil { // never retried: it would stop every later event
				taken++
				o.drops = append(o.drops, Drop{DropUnencodable, 0})
				for _, s := range o.sinks {
					o.sinkDrops[SinkReason{Sink: s, Reason: DropUnencodable}]++
				}
				continue
			}
			v := encodeRecord(ev.Type, now, js)
			r, err := o.makeRoomLocked(tx, int64(len(v)), ev.Type == incident.TypeUpdate, over, shed)
			if err != nil {
				return err
			}
			if r == roomWait {
				full = ErrFull
				break
			}
			taken++
			if r == roomDrop {
				continue
			}
			o.seq++
			if err := b.Put(seqKey(o.seq), v); err != nil {
				return err
			}
			o.bytes += int64(len(v))
			o.count++
			kept = append(kept, ev)
		}
		return b.SetSequence(o.seq)
	})
	if err != nil {
		o.bytes, o.count, o.seq = bytes0, count0, seq0 // rolled back
		clear(o.sinkDrops)
		o.drops = o.drops[:0]
		return 0, nil, err
	}
	// Counted once committed.
	if (len(o.drops) > 0 || len(o.sinkDrops) > 0) && o.onDrop != nil {
		o.onDrop(o.drops, o.sinkDrops)
	}
	return taken, kept, full
}

// Next returns up to max events after seq, in order.
func (o *Outbox) Next(after uint64, max int) ([]Record, error) {
	var out []Record
	err := o.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < max; k, v = c.Next() {
			r, err := decodeRecord(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Cursor returns a sink's last acknowledged sequence number.
func (o *Outbox) Cursor(sink string) (uint64, error) {
	var seq uint64
	err := o.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketCursors).Get([]byte(sink)); len(v) == 8 {
			seq = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return seq, err
}

// Ack moves a sink's cursor to seq and deletes what every sink has passed.
func (o *Outbox) Ack(sink string, seq uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.updateLocked(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketCursors).Put([]byte(sink), seqKey(seq)); err != nil {
			return err
		}
		if err := o.collectTx(tx); err != nil {
			return err
		}
		o.signal()
		return nil
	})
}

func (o *Outbox) collect() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.updateLocked(o.collectTx)
}

// updateLocked runs fn in a write transaction; the counts fn changes are
// restored if the transaction does not commit (a full disk).
func (o *Outbox) updateLocked(fn func(*bolt.Tx) error) error {
	bytes0, count0 := o.bytes, o.count
	err := o.db.Update(fn)
	if err != nil {
		o.bytes, o.count = bytes0, count0
	}
	return err
}

// collectTx deletes the events every sink has acknowledged.
func (o *Outbox) collectTx(tx *bolt.Tx) error {
	low := uint64(1<<64 - 1)
	cur := tx.Bucket(bucketCursors)
	if err := cur.ForEach(func(_, v []byte) error {
		if len(v) == 8 {
			low = min(low, binary.BigEndian.Uint64(v))
		}
		return nil
	}); err != nil {
		return err
	}
	if len(o.sinks) == 0 {
		low = o.seq
	}
	c := tx.Bucket(bucketEvents).Cursor()
	for k, v := c.First(); k != nil && binary.BigEndian.Uint64(k) <= low; k, v = c.First() {
		o.bytes -= int64(len(v))
		o.count--
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Depth returns the events and bytes stored.
func (o *Outbox) Depth() (int, int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count, o.bytes
}

// Close closes the file; bbolt waits for the transactions in progress.
func (o *Outbox) Close() error { return o.db.Close() }

// Progress is signalled when a sink acknowledges or changes health: a
// writer that got ErrFull tries again.
func (o *Outbox) Progress() <-chan struct{} { return o.progress }

// LastSeq returns the sequence number of the last stored event.
func (o *Outbox) LastSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seq
}

// Path returns the outbox file's path.
func (o *Outbox) Path() string { return o.db.Path() }
