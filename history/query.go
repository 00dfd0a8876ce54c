package history

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/incident"
)

// Incident states, the values of Query.State (the state parameter).
const (
	StateOpen  = "open"
	StateEnded = "ended"
)

// Query selects incidents: each field set narrows the result.
type Query struct {
	// Camera and Kind match exactly.
	Camera, Kind string
	// Since and Until bound the incident's start (started_at) to
	// [Since, Until).
	Since, Until time.Time
	// State is StateOpen (not ended), StateEnded or empty (both).
	State string
	// Cursor is the Next of the previous page; empty: the first page.
	Cursor string
	// Limit is the most incidents returned: 1..MaxLimit.
	Limit int
}

// Limits of Query.Limit (the limit parameter).
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// errCursor: a cursor this server did not issue.
var errCursor = errors.New("cursor: not one this server issued")

// ParseQuery reads the parameters of GET /api/incidents: camera, kind,
// since and until (RFC 3339, 1970 to 2262), state (open or ended), cursor and limit
// (1..1000, default 100). The error names the parameter.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{Camera: v.Get("camera"), Kind: v.Get("kind"), State: v.Get("state"), Cursor: v.Get("cursor"), Limit: DefaultLimit}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || startNanos(t) != t.UnixNano() {
				return Query{}, errors.New(p.name + ": want an RFC 3339 time from 1970 to 2262, e.g. 2026-11-22T21:00:00Z")
			}
			*p.dst = t
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return Query{}, errors.New("limit: want 1 to 1000")
		}
		q.Limit = n
	}
	if q.State != "" && q.State != StateOpen && q.State != StateEnded {
		return Query{}, errors.New("state: want open or ended")
	}
	return q, nil
}

// Find returns the incidents q selects, newest start first, each as its
// latest event (an ended incident's: its end), and the cursor of the
// next page (empty at the end). Incidents past max_age not yet pruned are
// left out.
func (s *Store) Find(q Query) (events []incident.Event, next string, err error) {
	if q.Limit < 1 {
		q.Limit = DefaultLimit
	}
	// from: the first index key not returned (exclusive upper bound).
	var from []byte
	if !q.Until.IsZero() {
		from = indexKey(q.Until, "")
	}
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || len(b) < 8 {
			return nil, "", errCursor
		}
		if from == nil || bytes.Compare(b, from) < 0 {
			from = b
		}
	}
	var low []byte
	if !q.Since.IsZero() {
		low = indexKey(q.Since, "")
	}
	cutoff := s.now().Add(-s.cfg.MaxAge)
	db := s.db.Load()
	if db == nil {
		return nil, "", s.unavailable()
	}
	err = db.View(func(tx *bolt.Tx) error {
		inc := tx.Bucket(bucketIncidents)
		c := tx.Bucket(bucketStarted).Cursor()
		var k, v, last []byte
		if from == nil {
			k, v = c.Last()
		} else if k, _ = c.Seek(from); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && (low == nil || bytes.Compare(k, low) >= 0); k, v = c.Prev() {
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			if (q.Camera != "" && e.camera != q.Camera) || (q.Kind != "" && e.kind != q.Kind) ||
				(q.State == StateOpen && e.ended) || (q.State == StateEnded && !e.ended) {
				continue
			}
			updated, _, js, err := decodeRecord(inc.Get(k[8:]))
			if err != nil {
				return err
			}
			if updated.Before(cutoff) {
				continue
			}
			if len(events) == q.Limit {
				next = base64.RawURLEncoding.EncodeToString(last)
				return nil
			}
			var ev incident.Event
			if err := json.Unmarshal(js, &ev); err != nil {
				return err
			}
			events = append(events, ev)
			last = append(last[:0], k...)
		}
		return nil
	})
	return events, next, err
}

// ServeHTTP serves GET /api/incidents?camera=&kind=&since=&until=&state=&cursor=&limit=
// (ParseQuery) as {"incidents": [...], "next": "..."}: each incident once,
// as its latest event, newest start first; a bad parameter is a 400
// naming it.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	evs, next, err := s.Find(q)
	if errors.Is(err, errCursor) {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if errors.Is(err, errUnavailable) {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		s.log.Error("incident history read failed", "path", s.cfg.Path, "error", err)
		http.Error(w, "incident history read failed", http.StatusInternalServerError)
		return
	}
	WritePage(w, evs, next)
}

// WritePage writes a page of GET /api/incidents:
// {"incidents": [...], "next": "..."}.
func WritePage(w http.ResponseWriter, evs []incident.Event, next string) {
	if evs == nil {
		evs = []incident.Event{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct { //nolint:errcheck // the client went away
		Incidents []incident.Event `json:"incidents"`
		Next      string           `json:"next,omitempty"`
	}{evs, next})
}

// Record is an incident as the history keeps it: its latest event and,
// for a person or vehicle incident, its Frigate objects folded from every
// event it had (frigate.Incident: each tracked object's start, end,
// score, top score and box), which Frigate's event list (api) answers
// from.
type Record struct {
	Event   incident.Event
	Frigate frigate.Incident
	// Updated is when the record was last written (the engine's clock).
	Updated time.Time
}

// storedRecord is a record's JSON: the latest event, with the Frigate
// objects beside its keys (a reader of the event alone, Find, ignores
// them; records written before they existed have none).
type storedRecord struct {
	incident.Event
	Frigate *frigate.Incident `json:"frigate,omitempty"`
}

// ScanQuery selects the records Scan visits.
type ScanQuery struct {
	// Cameras and Kinds, when not nil, are the cameras and kinds visited.
	Cameras, Kinds map[string]bool
	// Since and Until bound the incident's start to [Since, Until) when
	// set.
	Since, Until time.Time
	// Want, when set, is asked before a record is decoded, with its
	// start and when it was last written: false skips it.
	Want func(started, updated time.Time) bool
	// Max bounds the index entries read (0: all).
	Max int
}

// Scan calls visit with the records q selects, newest start first, until
// visit returns false, the index is read to its start, or q.Max entries
// were read. It reads in one read transaction: visit must not block.
// Records past max_age not yet pruned are left out.
func (s *Store) Scan(q ScanQuery, visit func(*Record) bool) error {
	db := s.db.Load()
	if db == nil {
		return s.unavailable()
	}
	cutoff := s.now().Add(-s.cfg.MaxAge)
	return db.View(func(tx *bolt.Tx) error {
		inc := tx.Bucket(bucketIncidents)
		c := tx.Bucket(bucketStarted).Cursor()
		var k, v []byte
		if q.Until.IsZero() {
			k, v = c.Last()
		} else if k, _ = c.Seek(indexKey(q.Until, "")); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		var low []byte
		if !q.Since.IsZero() {
			low = indexKey(q.Since, "")
		}
		for read := 0; k != nil && (low == nil || bytes.Compare(k, low) >= 0) && (q.Max == 0 || read < q.Max); k, v = c.Prev() {
			read++
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			if (q.Cameras != nil && !q.Cameras[e.camera]) || (q.Kinds != nil && !q.Kinds[e.kind]) {
				continue
			}
			updated, started, js, err := decodeRecord(inc.Get(k[8:]))
			if err != nil {
				return err
			}
			if updated.Before(cutoff) || (q.Want != nil && !q.Want(started, updated)) {
				continue
			}
			r, err := decodeStored(js, updated)
			if err != nil {
				return err
			}
			if !visit(r) {
				return nil
			}
		}
		return nil
	})
}

// Get returns the record of the incident id, or nil when the history
// does not hold it.
func (s *Store) Get(id string) (*Record, error) {
	db := s.db.Load()
	if db == nil {
		return nil, s.unavailable()
	}
	var r *Record
	err := db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketIncidents).Get([]byte(id))
		if v == nil {
			return nil
		}
		updated, _, js, err := decodeRecord(v)
		if err != nil {
			return err
		}
		if updated.Before(s.now().Add(-s.cfg.MaxAge)) {
			return nil
		}
		r, err = decodeStored(js, updated)
		return err
	})
	return r, err
}

func decodeStored(js []byte, updated time.Time) (*Record, error) {
	var st storedRecord
	if err := json.Unmarshal(js, &st); err != nil {
		return nil, err
	}
	r := &Record{Event: st.Event, Updated: updated}
	if st.Frigate != nil {
		r.Frigate = *st.Frigate
	}
	return r, nil
}
