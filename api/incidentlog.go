package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-video/vigil/history"
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
// (history.ParseQuery; state is the history's only) as
// {"incidents": [...], "next": "..."}, one item per event; a bad
// parameter is a 400 naming it.
func (l *IncidentLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := history.ParseQuery(r.URL.Query())
	if err == nil && q.State != "" {
		err = errors.New("state: served by the incident history only (history.path)")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	evs, next, err := l.Query(q.Camera, q.Kind, q.Since, q.Until, q.Cursor, q.Limit)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	history.WritePage(w, evs, next)
}
