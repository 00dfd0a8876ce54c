package history

import (
	"bytes"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// FuzzQuery: any query string is parsed or refused naming a parameter;
// what is parsed, run against a real history, answers incidents that
// match every filter, at most limit, newest start first, and a cursor
// that continues without repeating one.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"", "camera=cam1&kind=person", "state=open&limit=3", "state=ended",
		"since=2026-11-22T21:03:00Z&until=2026-11-22T21:09:00Z", "limit=0", "limit=1001", "cursor=AAAAAAAAAAA",
		"cursor=%%%", "since=yesterday", "until=2026-11-22T21:05:00.5+01:00&limit=2",
	} {
		f.Add(s)
	}
	cfg := testConfig(f.TempDir())
	s := Open(cfg, nil)
	f.Cleanup(func() { s.Close() })
	var all []incident.Event
	for i := range 12 {
		all = append(all, incidentEvents(fmt.Sprintf("inc-%02d", i), fmt.Sprintf("cam%d", i%3), []string{"motion", "person"}[i%2],
			t0.Add(time.Duration(i)*time.Minute), i < 9)...)
	}
	for _, ev := range all {
		s.Add(ev)
	}
	for s.handled.Load() < int64(len(all)) {
		time.Sleep(time.Millisecond)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > MaxLimit || (q.State != "" && q.State != StateOpen && q.State != StateEnded) {
			t.Fatalf("%q parsed to %+v", raw, q)
		}
		seen := map[string]bool{}
		for page := 0; page < 20; page++ {
			evs, next, err := s.Find(q)
			if err != nil {
				return // a cursor this server did not issue
			}
			if len(evs) > q.Limit {
				t.Fatalf("%q: %d incidents for limit %d", raw, len(evs), q.Limit)
			}
			for i, ev := range evs {
				d := ev.Data
				switch {
				case seen[d.IncidentID]:
					t.Fatalf("%q: %s twice", raw, d.IncidentID)
				case q.Camera != "" && d.Camera != q.Camera, q.Kind != "" && d.Kind != q.Kind,
					q.State == StateOpen && d.EndedAt != nil, q.State == StateEnded && d.EndedAt == nil,
					!q.Since.IsZero() && d.StartedAt.Before(q.Since), !q.Until.IsZero() && !d.StartedAt.Before(q.Until):
					t.Fatalf("%q: %s (%s %s started %s ended %v) does not match", raw, d.IncidentID, d.Camera, d.Kind, d.StartedAt, d.EndedAt)
				case i > 0 && d.StartedAt.After(evs[i-1].Data.StartedAt):
					t.Fatalf("%q: not newest first", raw)
				}
				seen[d.IncidentID] = true
			}
			if next == "" {
				return
			}
			q.Cursor = next
		}
		t.Fatalf("%q: more than 20 pages of 12 incidents", raw)
	})
}

// FuzzDecode: any stored bytes decode or fail, never panic; an index
// entry that decodes encodes back to the same bytes when its flag is 0
// or 1.
func FuzzDecode(f *testing.F) {
	f.Add(encodeEntry(entry{ended: true, camera: "north-gate", kind: "person"}))
	f.Add(encodeRecord(t0, t0, []byte(`{"id":"x"}`)))
	f.Add([]byte{0, 200, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeRecord(b) //nolint:errcheck // only a panic fails
		e, err := decodeEntry(b)
		if err == nil && b[0] <= 1 && !bytes.Equal(encodeEntry(e), b) {
			t.Fatalf("entry %x decodes to %+v, which encodes to %x", b, e, encodeEntry(e))
		}
	})
}
