package api

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/history"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestFrigateEventsPerTrackedObject replays the integration's event list
// and media browser requests on a history holding a person incident that
// followed three people (B left before C came) and a vehicle incident:
// one Frigate event per object, with its own label, start, end, score,
// top_score and box, newest first; the time filters and limit apply to
// the objects; one event and its snapshot (the incident's) by the
// object's id; and the same answers after the history is closed and
// opened again.
func TestFrigateEventsPerTrackedObject(t *testing.T) {
	dir := t.TempDir()
	hc := config.DefaultHistory()
	hc.Path = filepath.Join(dir, "history.db")
	hist := history.Open(hc, nil)
	store, err := evidence.Open(testkit.FillZeros(config.Evidence{Dir: filepath.Join(dir, "evidence")}, config.DefaultEvidence()))
	if err != nil {
		t.Fatal(err)
	}
	const p, v = "0193a1b2-0000-7000-8000-0000000000c1", "0193a1b2-0000-7000-8000-0000000000c2"
	jpg := []byte("\xff\xd8 the people at the door \xff\xd9")
	best, err := store.Save("door", p, "best", jpg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	obj := func(track, label string, score, x float64) incident.Object {
		return incident.Object{Label: label, Score: score, Box: [4]float64{x, 0.2, 0.1, 0.4}, TrackID: track}
	}
	mk := func(typ, id, kind string, start, sec float64, ev []incident.Evidence, objs ...incident.Object) incident.Event {
		in := incident.Incident{IncidentID: id, Camera: "door", Kind: kind, StartedAt: at(start), FrameTime: at(sec),
			FrameTimeSource: incident.TimeRTCP, Score: float64(len(objs)), Objects: objs, Evidence: ev}
		if typ == incident.TypeEnd {
			in.EndedAt, in.Score = &in.FrameTime, 2
		}
		return incident.New(typ, in, at(sec))
	}
	ev := []incident.Evidence{best}
	for _, e := range []incident.Event{
		mk(incident.TypeStart, p, "person", 10, 11, ev, obj("A", "person", 0.8, 0.1), obj("B", "person", 0.6, 0.5)),
		mk(incident.TypeUpdate, p, "person", 10, 12, ev, obj("A", "person", 0.9, 0.15)),
		mk(incident.TypeStart, v, "vehicle", 12.5, 13, nil, obj("V", "vehicle", 0.7, 0.7)),
		mk(incident.TypeUpdate, p, "person", 10, 14, ev, obj("A", "person", 0.7, 0.2), obj("C", "person", 0.5, 0.4)),
		mk(incident.TypeEnd, p, "person", 10, 16, ev),
	} {
		hist.Add(e)
	}
	awaitHistory(t, hist, p, incident.TypeEnd)
	A, B, C, V := frigate.EventID("door", "A", at(10)), frigate.EventID("door", "B", at(10)), frigate.EventID("door", "C", at(10)), frigate.EventID("door", "V", at(12.5))

	check := func(hist *history.Store) {
		t.Helper()
		srv := httptest.NewServer(Routes(Config{Registry: prometheus.NewRegistry(), Incidents: hist, Evidence: store}, frigateEngine{}))
		defer srv.Close()
		base := srv.URL
		var evs []frigateEvent
		getJSON(t, base, "api/events", url.Values{"limit": {"10"}, "include_thumbnails": {"0"}}, &evs)
		type row struct {
			id, label   string
			start       float64
			end         *float64
			score, top  float64
			x           float64
			hasSnapshot bool
		}
		f := func(s float64) *float64 { x := unixSeconds(at(s)); return &x }
		want := []row{
			{C, "person", unixSeconds(at(14)), f(16), 0.5, 0.5, 0.4, true},
			{V, "car", unixSeconds(at(12.5)), nil, 0.7, 0.7, 0.7, false},
			// A and B started together: the one the incident listed
			// later first.
			{B, "person", unixSeconds(at(10)), f(11), 0.6, 0.6, 0.5, true}, // left at its last sighting
			{A, "person", unixSeconds(at(10)), f(16), 0.7, 0.9, 0.2, true},
		}
		var got []row
		for _, e := range evs {
			got = append(got, row{e.ID, e.Label, e.StartTime, e.EndTime, e.Data.Score, e.TopScore, e.Data.Box[0], e.HasSnapshot})
			if e.TopScore != e.Data.TopScore || e.Camera != "door" {
				t.Errorf("%s: top_score %v and data.top_score %v, camera %s", e.ID, e.TopScore, e.Data.TopScore, e.Camera)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("/api/events:\n got %+v\nwant %+v", got, want)
		}
		// Filters on the objects: after C's start only C; a limit of 2 the
		// two newest; labels.
		getJSON(t, base, "api/events", url.Values{"after": {"1795381213"}}, &evs)
		if len(evs) != 1 || evs[0].ID != C {
			t.Errorf("after=13 s: %d events, want C", len(evs))
		}
		getJSON(t, base, "api/events", url.Values{"limit": {"2"}}, &evs)
		if len(evs) != 2 || evs[0].ID != C || evs[1].ID != V {
			t.Errorf("limit=2: %v, want C and V", evs)
		}
		getJSON(t, base, "api/events", url.Values{"labels": {"car"}}, &evs)
		if len(evs) != 1 || evs[0].ID != V {
			t.Errorf("labels=car: %v, want V", evs)
		}
		// One event, and its snapshot (its incident's), by the object's id.
		var one frigateEvent
		getJSON(t, base, "api/events/"+B, nil, &one)
		if one.ID != B || one.Data.Score != 0.6 {
			t.Errorf("api/events/%s: %+v", B, one)
		}
		code, _, b := integrationGet(t, base, "api/events/"+A+"/snapshot.jpg", nil)
		if code != 200 || !bytes.Equal(b, jpg) {
			t.Errorf("api/events/%s/snapshot.jpg: %d %q, want its incident's best snapshot", A, code, b)
		}
		for _, id := range []string{frigate.EventID("door", "Z", at(10)), p} {
			if code, _, _ := integrationGet(t, base, "api/events/"+id, nil); code != 404 {
				t.Errorf("api/events/%s (no such object): %d, want 404", id, code)
			}
		}
		res, err := http.Get(base + "/api/events/" + frigate.EventID("door", "Z", at(10)) + "/snapshot.jpg")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body) //nolint:errcheck
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("snapshot of no such object: %d", res.StatusCode)
		}
	}
	check(hist)
	if err := hist.Close(); err != nil {
		t.Fatal(err)
	}
	hist = history.Open(hc, nil)
	defer hist.Close()
	check(hist)
}

// TestFrigateEventOfARecordWithoutObjects: a record written before the
// history kept Frigate objects (an upgrade) is listed from its latest
// event: an ended person incident as one ended event under its id.
func TestFrigateEventOfARecordWithoutObjects(t *testing.T) {
	start := time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC)
	end := start.Add(9 * time.Second)
	rec := &history.Record{Event: incident.New(incident.TypeEnd, incident.Incident{IncidentID: "0193a1b2-0000-7000-8000-0000000000c9",
		Camera: "door", Kind: "person", StartedAt: start, FrameTime: end, EndedAt: &end, Score: 2}, end)}
	objectsOf(rec)
	if len(rec.Frigate.Objects) != 1 {
		t.Fatalf("objects %+v, want the whole incident", rec.Frigate.Objects)
	}
	e := eventOf(rec, &rec.Frigate.Objects[0])
	if e.ID != rec.Event.Data.IncidentID || e.Label != "person" || e.EndTime == nil || *e.EndTime != unixSeconds(end) || e.StartTime != unixSeconds(start) {
		t.Errorf("event %+v", e)
	}
}
