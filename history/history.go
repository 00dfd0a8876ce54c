// Package history keeps the incident history GET /api/incidents and
// Frigate's event list serve (a bbolt file, like the outbox): one record
// per incident, its latest event (start, update and end folded into one)
// and, for person and vehicle incidents, its Frigate objects (Record),
// kept across restarts
// within an age and a size budget (config.History). It is fed from the
// delivery's stored-event hook without ever blocking it: a full or
// read-only disk costs history, counted and logged, never delivery.
package history

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/boltfile"
)

var (
	// bucketIncidents: incident id -> record (encodeRecord).
	bucketIncidents = []byte("incidents")
	// bucketStarted: started_at (8 bytes, big-endian Unix nanoseconds) +
	// incident id -> index entry (encodeEntry): the order of the API,
	// and what its filters read without decoding the event.
	bucketStarted = []byte("started")
)

// queueSize bounds the events waiting for the writer; past it Add drops
// (vigil_history_events_dropped_total{reason="queue_full"}).
const queueSize = 4096

// maxBatch is the most events the writer commits in one transaction.
const maxBatch = 256

// pruneInterval is how often the writer removes what max_age expired when
// no event comes.
const pruneInterval = time.Minute

// Drop reasons, the reason label of vigil_history_events_dropped_total.
const (
	// DropQueueFull: the writer's queue was full (the disk is slow).
	DropQueueFull = "queue_full"
	// DropWriteFailed: the write failed (a full or read-only disk).
	DropWriteFailed = "write_failed"
	// DropUnavailable: the history file could not be opened.
	DropUnavailable = "unavailable"
)

// Store is the incident history on disk. Open starts its writer; Close
// stops it. Add, Query, Find and ServeHTTP are safe for concurrent use.
type Store struct {
	cfg config.History
	log *slog.Logger
	m   *metrics
	// clock is the clock of max_age and of each record's last write
	// (SetClock); nil: time.Now.
	clock atomic.Pointer[func() time.Time]

	// db is nil while the file cannot be opened (unavailable); the
	// writer tries again every pruneInterval.
	db      atomic.Pointer[bolt.DB]
	openErr atomic.Pointer[error] // why db is nil

	queue chan incident.Event
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	bytes   int64 // keys and values of both buckets
	count   int   // incidents
	failing bool  // the last write failed (logged once until one succeeds)

	lastDropLog atomic.Int64 // Unix nanoseconds of the last queue_full log line
	handled     atomic.Int64 // events the writer committed or dropped
}

// record is an incident as stored: when it was last written, when it
// started (its index key), then the latest event's JSON.
func encodeRecord(updated, started time.Time, js []byte) []byte {
	b := make([]byte, 0, 16+len(js))
	b = binary.BigEndian.AppendUint64(b, uint64(updated.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(startNanos(started)))
	return append(b, js...)
}

func decodeRecord(v []byte) (updated, started time.Time, js []byte, err error) {
	if len(v) < 16 {
		return time.Time{}, time.Time{}, nil, errors.New("record shorter than its header")
	}
	updated = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
	started = time.Unix(0, int64(binary.BigEndian.Uint64(v[8:])))
	return updated, started, v[16:], nil
}

// entry is what the index holds of an incident: ended, camera, kind.
type entry struct {
	ended        bool
	camera, kind string
}

func encodeEntry(e entry) []byte {
	b := make([]byte, 0, 2+len(e.camera)+len(e.kind))
	if e.ended {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = append(b, byte(len(e.camera)))
	b = append(b, e.camera...)
	return append(b, e.kind...)
}

func decodeEntry(v []byte) (entry, error) {
	if len(v) < 2 || len(v) < 2+int(v[1]) {
		return entry{}, errors.New("index entry shorter than its header")
	}
	n := int(v[1])
	return entry{ended: v[0] == 1, camera: string(v[2 : 2+n]), kind: string(v[2+n:])}, nil
}

// startNanos is an incident's start as its keys hold it: Unix
// nanoseconds held to 1970..2262 (what an int64 of them spans), so that
// the keys sort as the times; a time outside (from a query) is the bound
// it passes.
func startNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// indexKey is an incident's index key: its start (startNanos), then its
// id.
func indexKey(started time.Time, id string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(startNanos(started))), id...)
}

// Open opens (or creates) the history at cfg.Path (cfg has its defaults)
// and starts its writer. A file bbolt cannot read as a history (a damaged
// page, a record cut short) is moved aside to <path>.damaged-<UTC time>,
// logged as an error and counted in vigil_history_damaged_total, and an
// empty history opened in its place. A file that cannot be opened for
// another reason (permissions, a read-only or failing disk, a lock held
// by another process) leaves the history unavailable, never the caller
// stopped: an error logged naming history.path, vigil_history_available
// 0, events dropped (counted), GET /api/incidents a 503, and another
// try every minute.
func Open(cfg config.History, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: cfg, log: log,
		queue: make(chan incident.Event, queueSize), stop: make(chan struct{}), done: make(chan struct{})}
	s.m = newMetrics(s)
	s.open()
	go s.writeLoop()
	return s
}

// open opens the file (moving a damaged one aside) and prunes it, or
// records why it cannot (unavailable).
func (s *Store) open() {
	cfg := s.cfg
	db, err := s.openFile()
	var dmg *damageError
	if errors.As(err, &dmg) {
		aside := cfg.Path + ".damaged-" + time.Now().UTC().Format("20060102T150405.000Z")
		if rerr := os.Rename(cfg.Path, aside); rerr != nil {
			err = fmt.Errorf("%w, and moving it aside failed: %w", err, rerr)
		} else {
			s.log.Error("incident history damaged: moved aside, starting with an empty history", "path", cfg.Path, "moved_to", aside, "error", dmg.cause)
			s.m.damaged.Inc()
			db, err = s.openFile()
		}
	}
	if err != nil {
		if s.openErr.Swap(&err) == nil {
			s.log.Error("incident history unavailable: incidents are not kept until it opens (delivery goes on); trying again every minute",
				"path", cfg.Path, "error", err)
		} else {
			s.log.Debug("incident history still unavailable", "path", cfg.Path, "error", err)
		}
		s.m.available.Set(0)
		return
	}
	if s.openErr.Swap(nil) != nil {
		s.log.Info("incident history open again", "path", cfg.Path)
	}
	s.db.Store(db)
	s.m.available.Set(1)
	s.write(nil) // prune to the budget
}

// errUnavailable: the history file could not be opened.
var errUnavailable = errors.New("incident history unavailable")

// unavailable returns why the file is not open.
func (s *Store) unavailable() error {
	if p := s.openErr.Load(); p != nil {
		return fmt.Errorf("%w: %w", errUnavailable, *p)
	}
	return errUnavailable
}

// damageError: the file itself cannot be read as a history.
type damageError struct{ cause error }

func (e *damageError) Error() string { return "damaged: " + e.cause.Error() }
func (e *damageError) Unwrap() error { return e.cause }

// openFile opens the file and reads every record (a damaged page panics
// there, recovered: damage), counting them into s.
func (s *Store) openFile() (*bolt.DB, error) {
	cfg := s.cfg
	wrap := func(err error) error {
		err = fmt.Errorf("history.path %s: %w", cfg.Path, err)
		if boltfile.Surroundings(err) {
			return err
		}
		return &damageError{cause: err}
	}
	db, err := boltfile.Open(cfg.Path, 5*time.Second)
	if err != nil {
		return nil, wrap(err)
	}
	var bytes int64
	var count int
	err = boltfile.Read(db, func() error {
		return db.Update(func(tx *bolt.Tx) error {
			inc, err := tx.CreateBucketIfNotExists(bucketIncidents)
			if err != nil {
				return err
			}
			idx, err := tx.CreateBucketIfNotExists(bucketStarted)
			if err != nil {
				return err
			}
			if err := inc.ForEach(func(k, v []byte) error {
				_, started, js, err := decodeRecord(v)
				if err == nil && !json.Valid(js) {
					err = errors.New("not JSON")
				}
				if err == nil && idx.Get(indexKey(started, string(k))) == nil {
					err = errors.New("not in the index")
				}
				if err != nil {
					return fmt.Errorf("incident %q: %w", k, err)
				}
				bytes += int64(len(k) + len(v))
				count++
				return nil
			}); err != nil {
				return err
			}
			return idx.ForEach(func(k, v []byte) error {
				if _, err := decodeEntry(v); err != nil || len(k) < 8 {
					return fmt.Errorf("index key %x: damaged", k)
				}
				bytes += int64(len(k) + len(v))
				return nil
			})
		})
	})
	if err != nil {
		boltfile.CloseQuietly(db) // closed already after a panic: ignored
		return nil, wrap(err)
	}
	s.mu.Lock()
	s.bytes, s.count = bytes, count
	s.mu.Unlock()
	return db, nil
}

// Add queues an event for the history without blocking: when the writer's
// queue is full, the event is dropped and counted. Events of one
// incident must come in order (the delivery's stored-event hook).
func (s *Store) Add(ev incident.Event) {
	select {
	case s.queue <- ev:
	default:
		s.m.dropped.WithLabelValues(DropQueueFull).Inc()
		now := time.Now().UnixNano()
		if last := s.lastDropLog.Load(); now-last >= int64(10*time.Second) && s.lastDropLog.CompareAndSwap(last, now) {
			s.log.Warn("incident history queue full: events dropped from the history (delivery goes on)", "path", s.cfg.Path)
		}
	}
}

// writeLoop commits the queued events in batches and prunes what max_age
// expired, until Close.
func (s *Store) writeLoop() {
	defer close(s.done)
	tick := time.NewTicker(pruneInterval)
	defer tick.Stop()
	batch := make([]incident.Event, 0, maxBatch)
	for {
		select {
		case <-s.stop:
			// What was queued before Close is written.
			batch = batch[:0]
			for {
				select {
				case ev := <-s.queue:
					batch = append(batch, ev)
					if len(batch) == maxBatch {
						s.write(batch)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			s.write(batch)
			return
		case <-tick.C:
			if s.db.Load() == nil {
				s.open()
			} else {
				s.write(nil)
			}
		case ev := <-s.queue:
			batch = append(batch[:0], ev)
		more:
			for len(batch) < maxBatch {
				select {
				case ev := <-s.queue:
					batch = append(batch, ev)
				default:
					break more
				}
			}
			s.write(batch)
		}
	}
}

// write commits evs (folded into their incidents' records) and prunes, in
// one transaction. A failure drops the batch, counted, logged once until
// a write succeeds again.
func (s *Store) write(evs []incident.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.handled.Add(int64(len(evs)))
	db := s.db.Load()
	if db == nil {
		s.m.dropped.WithLabelValues(DropUnavailable).Add(float64(len(evs)))
		return
	}
	bytes0, count0 := s.bytes, s.count
	now := s.now()
	err := db.Update(func(tx *bolt.Tx) error {
		for _, ev := range evs {
			if err := s.putTx(tx, ev, now); err != nil {
				return err
			}
		}
		return s.pruneTx(tx, now)
	})
	if err != nil {
		s.bytes, s.count = bytes0, count0 // rolled back
		s.m.writeErrors.Inc()
		s.m.dropped.WithLabelValues(DropWriteFailed).Add(float64(len(evs)))
		if !s.failing {
			s.log.Error("incident history write failed: events dropped from the history (delivery goes on)",
				"path", s.cfg.Path, "events", len(evs), "error", err)
		}
		s.failing = true
		return
	}
	if s.failing {
		s.log.Info("incident history writes succeed again", "path", s.cfg.Path)
		s.failing = false
	}
}

// putTx folds ev into its incident's record: the latest event replaces
// the one stored, but an end is never replaced by a start or an update
// (one replayed after the end); a person or vehicle event is folded into
// the record's Frigate objects (at most frigate.MaxObjects).
func (s *Store) putTx(tx *bolt.Tx, ev incident.Event, now time.Time) error {
	id := ev.Data.IncidentID
	if id == "" {
		id = ev.ID
	}
	if len(ev.Data.Camera) > 255 {
		return nil // config limits camera ids far below; never indexable
	}
	inc, idx := tx.Bucket(bucketIncidents), tx.Bucket(bucketStarted)
	// The index's keys only grow (start times): full pages. The records'
	// (UUID v7 incident ids) mostly grow but are rewritten (updates, the
	// end): pages nearly full. bbolt's default, half full, made the file
	// 3.3 times max_bytes instead of 1.75 (BenchmarkHistoryWrite).
	idx.FillPercent, inc.FillPercent = 1, 0.9
	if old := inc.Get([]byte(id)); old != nil {
		_, started, _, err := decodeRecord(old)
		if err != nil {
			return err
		}
		oldKey := indexKey(started, id)
		if oe := idx.Get(oldKey); oe != nil {
			if e, err := decodeEntry(oe); err == nil && e.ended && ev.Type != incident.TypeEnd {
				return nil
			}
			s.bytes -= int64(len(oldKey) + len(oe))
			if err := idx.Delete(oldKey); err != nil {
				return err
			}
		}
		s.bytes -= int64(len(id) + len(old))
		s.count--
	}
	rec := storedRecord{Event: ev}
	if frigate.Label(ev.Data.Kind) != "" {
		// Frigate's objects, folded from every event of the incident.
		var fr frigate.Incident
		if old := inc.Get([]byte(id)); old != nil {
			if _, _, ojs, err := decodeRecord(old); err == nil {
				var o struct {
					Frigate *frigate.Incident `json:"frigate"`
				}
				if json.Unmarshal(ojs, &o) == nil && o.Frigate != nil {
					fr = *o.Frigate
				}
			}
		}
		fr.Apply(&ev)
		rec.Frigate = &fr
	}
	js, err := json.Marshal(rec)
	if err != nil {
		return nil //nolint:nilerr // an unencodable event (NaN) never reached the outbox either
	}
	val := encodeRecord(now, ev.Data.StartedAt, js)
	key := indexKey(ev.Data.StartedAt, id)
	ent := encodeEntry(entry{ended: ev.Type == incident.TypeEnd || ev.Data.EndedAt != nil, camera: ev.Data.Camera, kind: ev.Data.Kind})
	if err := inc.Put([]byte(id), val); err != nil {
		return err
	}
	if err := idx.Put(key, ent); err != nil {
		return err
	}
	s.bytes += int64(len(id) + len(val) + len(key) + len(ent))
	s.count++
	return nil
}

// pruneTx removes the incidents not written for max_age, then the oldest
// (by start) until the history fits in max_bytes.
func (s *Store) pruneTx(tx *bolt.Tx, now time.Time) error {
	inc, idx := tx.Bucket(bucketIncidents), tx.Bucket(bucketStarted)
	cutoff := now.Add(-s.cfg.MaxAge)
	remove := func(c *bolt.Cursor, k, v []byte, reason string) error {
		n := int64(len(k) + len(v))
		id := append([]byte(nil), k[8:]...)
		rec := inc.Get(id)
		if err := c.Delete(); err != nil {
			return err
		}
		s.bytes -= n
		if rec != nil {
			s.bytes -= int64(len(id) + len(rec))
			s.count--
			if err := inc.Delete(id); err != nil {
				return err
			}
		}
		s.m.evicted.WithLabelValues(reason).Inc()
		return nil
	}
	// An incident written after the cutoff started before it or after:
	// only those that started before it are read.
	c := idx.Cursor()
	for k, v := c.First(); k != nil && int64(binary.BigEndian.Uint64(k)) < startNanos(cutoff); {
		updated, _, _, err := decodeRecord(inc.Get(k[8:]))
		if err == nil && !updated.Before(cutoff) {
			k, v = c.Next()
			continue
		}
		key := append([]byte(nil), k...)
		if err := remove(c, k, v, "age"); err != nil {
			return err
		}
		k, v = c.Seek(key) // the next item
	}
	for k, v := c.First(); k != nil && s.bytes > s.cfg.MaxBytes; k, v = c.First() {
		if err := remove(c, k, v, "size"); err != nil {
			return err
		}
	}
	return nil
}

// Close writes what was queued, stops the writer and closes the file;
// idempotent. Add must not be called after Close.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		if db := s.db.Load(); db != nil {
			err = db.Close()
		}
	})
	return err
}

// SetClock makes now the history's clock (max_age, and when each record
// was last written): a fake clock for tests and benchmarks that write a
// history of the past. Safe for concurrent use.
func (s *Store) SetClock(now func() time.Time) { s.clock.Store(&now) }

func (s *Store) now() time.Time {
	if c := s.clock.Load(); c != nil {
		return (*c)()
	}
	return time.Now()
}

// Path returns the history file's path.
func (s *Store) Path() string { return s.cfg.Path }

// Size returns the incidents and bytes held.
func (s *Store) Size() (incidents int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, s.bytes
}
