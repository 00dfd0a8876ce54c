package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// IncidentLog keeps the most recent events in memory for the API. Safe for
// concurrent use.
type IncidentLog struct {
	mu   sync.Mutex
	ring []incident.Event
	next int    // index of the next write
	n    int    // events held
	seq  uint64 // sequence of the newest event
}

// NewIncidentLog returns a log of the last capacity events.
func NewIncidentLog(capacity int) *IncidentLog {
	return &IncidentLog{ring: make([]incident.Event, capacity)}
}

// Add records an event.
func (l *IncidentLog) Add(ev incident.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next] = ev
	l.next = (l.next + 1) % len(l.ring)
	l.n = min(l.n+1, len(l.ring))
	l.seq++
}

// After returns the events kept after the one with id, oldest first; ok is
// false when id is not kept (too old, or unknown).
func (l *IncidentLog) After(id string) (events []incident.Event, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.n { // oldest to newest
		ev := l.ring[(l.next-l.n+i+len(l.ring))%len(l.ring)]
		if ok {
			events = append(events, ev)
		} else if ev.ID == id {
			ok = true
		}
	}
	return events, ok
}

// Query returns up to limit events, newest first, matching camera and kind
// when set and with Time in [since, until) when set, starting after the
// opaque cursor of a previous page; next is the cursor of the following
// page, empty at the end.
func (l *IncidentLog) Query(camera, kind string, since, until time.Time, cursor string, limit int) (events []incident.Event, next string, err error) {
	var before uint64 = 1<<64 - 1
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("cursor: not one this server issued")
		}
		if before, err = strconv.ParseUint(string(b), 10, 64); err != nil {
			return nil, "", fmt.Errorf("cursor: not one this server issued")
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := 0; i < l.n; i++ {
		seq := l.seq - uint64(i) // sequence of the i-th newest
		if seq >= before {
			continue
		}
		ev := l.ring[(l.next-1-i+2*len(l.ring))%len(l.ring)]
		if (camera != "" && ev.Data.Camera != camera) || (kind != "" && ev.Data.Kind != kind) ||
			(!since.IsZero() && ev.Time.Before(since)) || (!until.IsZero() && !ev.Time.Before(until)) {
			continue
		}
		if len(events) == limit {
			return events, base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(seq+1, 10))), nil
		}
		events = append(events, ev)
	}
	return events, "", nil
}

// ServeHTTP serves GET /api/incidents?camera=&kind=&since=&until=&cursor=&limit=
// (RFC 3339 times; limit 1..1000, default 100) as
// {"incidents": [...], "next": "..."}; a bad parameter is a 400 naming it.
func (l *IncidentLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since, until time.Time
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				http.Error(w, p.name+": want an RFC 3339 time, e.g. 2026-11-22T21:00:00Z", http.StatusBadRequest)
				return
			}
			*p.dst = t
		}
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			http.Error(w, "limit: want 1 to 1000", http.StatusBadRequest)
			return
		}
		limit = n
	}
	evs, next, err := l.Query(q.Get("camera"), q.Get("kind"), since, until, q.Get("cursor"), limit)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if evs == nil {
		evs = []incident.Event{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct { //nolint:errcheck // the client went away
		Incidents []incident.Event `json:"incidents"`
		Next      string           `json:"next,omitempty"`
	}{evs, next})
}
