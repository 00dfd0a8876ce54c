package history

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	bolt "go.etcd.io/bbolt"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

var t0 = time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC)

// incidentEvents returns the start, update and (with ended) end events of
// one incident started at start.
func incidentEvents(id, camera, kind string, start time.Time, ended bool) []incident.Event {
	inc := incident.Incident{IncidentID: id, Camera: camera, Kind: kind, StartedAt: start, FrameTime: start,
		FrameTimeSource: incident.TimeReceipt, Score: 0.2}
	evs := []incident.Event{incident.New(incident.TypeStart, inc, start)}
	inc.Score = 0.7
	evs = append(evs, incident.New(incident.TypeUpdate, inc, start.Add(time.Second)))
	if ended {
		end := start.Add(2 * time.Second)
		inc.EndedAt = &end
		evs = append(evs, incident.New(incident.TypeEnd, inc, end))
	}
	return evs
}

func testConfig(dir string) config.History {
	c := config.DefaultHistory()
	c.Path = filepath.Join(dir, c.Path)
	return c
}

func open(t *testing.T, cfg config.History, log *slog.Logger) *Store {
	t.Helper()
	s := Open(cfg, log)
	t.Cleanup(func() { s.Close() })
	return s
}

// addAll adds evs and waits until the writer has committed (or dropped)
// them.
func addAll(t *testing.T, s *Store, evs []incident.Event) {
	t.Helper()
	want := s.handled.Load() + int64(len(evs))
	for _, ev := range evs {
		s.Add(ev)
	}
	await.Until(t, 20*time.Second, "the writer to take the events", func() bool { return s.handled.Load() >= want })
}

func ids(evs []incident.Event) string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Data.IncidentID)
	}
	return strings.Join(out, ",")
}

// TestHistorySurvivesRestart: incidents stored by one Store are served,
// each once as its latest event, newest start first, by the next one
// opened on the same file, through the filters and pages of GET
// /api/incidents; an end is not replaced by an update replayed after it.
func TestHistorySurvivesRestart(t *testing.T) {
	cfg := testConfig(t.TempDir())
	s := Open(cfg, nil)
	var all []incident.Event
	for i := range 12 {
		cam := fmt.Sprintf("cam%d", i%3)
		kind := []string{"motion", "person"}[i%2]
		all = append(all, incidentEvents(fmt.Sprintf("inc-%02d", i), cam, kind, t0.Add(time.Duration(i)*time.Minute), i < 9)...)
	}
	addAll(t, s, all)
	// An update replayed after its incident's end (a redelivery) leaves the end.
	addAll(t, s, all[1:2])
	// What is queued when Close starts is written, once.
	late := incidentEvents("inc-late", "cam9", "motion", t0.Add(-time.Hour), true)
	for _, ev := range late {
		s.Add(ev)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := s.handled.Load(), int64(len(all)+1+len(late)); got != want {
		t.Errorf("the writer handled %d events, want %d", got, want)
	}
	s = open(t, cfg, nil)
	if evs, _, err := s.Find(Query{Camera: "cam9"}); err != nil || len(evs) != 1 || evs[0].Type != incident.TypeEnd {
		t.Fatalf("the incident queued at Close: %v %v", evs, err)
	}
	s.Close()

	s = open(t, cfg, nil)
	if n, _ := s.Size(); n != 13 {
		t.Fatalf("reopened history holds %d incidents, want 13", n)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	get := func(q string) (page struct {
		Incidents []incident.Event `json:"incidents"`
		Next      string           `json:"next"`
	}) {
		t.Helper()
		res, err := http.Get(srv.URL + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("GET ?%s: %d %s", q, res.StatusCode, b)
		}
		if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		return page
	}
	for _, tc := range []struct{ query, want string }{
		{"", "inc-11,inc-10,inc-09,inc-08,inc-07,inc-06,inc-05,inc-04,inc-03,inc-02,inc-01,inc-00,inc-late"},
		{"camera=cam1", "inc-10,inc-07,inc-04,inc-01"},
		{"kind=person&camera=cam1", "inc-07,inc-01"},
		{"state=open", "inc-11,inc-10,inc-09"},
		{"state=ended&camera=cam0", "inc-06,inc-03,inc-00"},
		{"since=" + t0.Add(3*time.Minute).Format(time.RFC3339) + "&until=" + t0.Add(6*time.Minute).Format(time.RFC3339), "inc-05,inc-04,inc-03"},
	} {
		if got := ids(get(tc.query).Incidents); got != tc.want {
			t.Errorf("?%s: %s, want %s", tc.query, got, tc.want)
		}
	}
	page := get("")
	for _, ev := range page.Incidents[:12] {
		n := ev.Data.IncidentID[len(ev.Data.IncidentID)-2:]
		wantType := incident.TypeEnd
		if n >= "09" {
			wantType = incident.TypeUpdate
		}
		if ev.Type != wantType || ev.Data.Score != 0.7 {
			t.Errorf("%s: %s score %g, want its latest event: %s score 0.7", ev.Data.IncidentID, ev.Type, ev.Data.Score, wantType)
		}
	}
	// Pages of 5 with since: every incident once, then the end; a cursor
	// outlives a restart.
	var paged []incident.Event
	q := "limit=5&since=" + t0.Add(time.Minute).Format(time.RFC3339)
	p := get(q)
	paged = append(paged, p.Incidents...)
	s.Close()
	s2 := open(t, cfg, nil)
	srv.Config.Handler = s2
	for p.Next != "" {
		p = get(q + "&cursor=" + p.Next)
		paged = append(paged, p.Incidents...)
	}
	if got, want := ids(paged), "inc-11,inc-10,inc-09,inc-08,inc-07,inc-06,inc-05,inc-04,inc-03,inc-02,inc-01"; got != want {
		t.Errorf("paged: %s, want %s", got, want)
	}
	for q, name := range map[string]string{"limit=0": "limit", "state=closed": "state", "since=yesterday": "since", "cursor=!!": "cursor"} {
		res, err := http.Get(srv.URL + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.HasPrefix(string(b), name+":") {
			t.Errorf("GET ?%s: %d %q, want 400 naming %s", q, res.StatusCode, b, name)
		}
	}
}

// TestHistoryAgeBound: an incident not written for max_age is left out of
// the answers at once and removed from the file at the next write,
// counted; a long incident written recently stays although it started
// long ago.
func TestHistoryAgeBound(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.MaxAge = time.Hour
	s := open(t, cfg, nil)
	now := t0
	s.SetClock(func() time.Time { return now })
	addAll(t, s, incidentEvents("old", "cam0", "motion", t0, true))
	addAll(t, s, incidentEvents("long", "cam0", "loitering", t0, false))
	now = t0.Add(50 * time.Minute)
	addAll(t, s, incidentEvents("long", "cam0", "loitering", t0, false)[1:]) // still going
	addAll(t, s, incidentEvents("new", "cam1", "motion", now, true))
	now = t0.Add(90 * time.Minute) // "old" was last written at t0
	evs, _, err := s.Find(Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(evs); got != "new,long" {
		t.Fatalf("after max_age: %s, want new,long", got)
	}
	if n, _ := s.Size(); n != 3 {
		t.Fatalf("%d incidents before the next write, want 3", n)
	}
	s.write(nil) // what the writer's ticker does
	if n, _ := s.Size(); n != 2 {
		t.Fatalf("%d incidents after the prune, want 2", n)
	}
	if v := testutil.ToFloat64(s.m.evicted.WithLabelValues("age")); v != 1 {
		t.Errorf("vigil_history_evicted_total{reason=age} %g, want 1", v)
	}
	s.Close()
	cfg.MaxAge = 100 * 24 * time.Hour // reopened at the wall clock's now
	s = open(t, cfg, nil)
	if evs, _, _ := s.Find(Query{}); ids(evs) != "new,long" {
		t.Errorf("reopened: %s, want new,long", ids(evs))
	}
}

// TestHistorySizeBound: thousands of incidents into a 64 KiB budget: the
// newest stay, the oldest go (counted), the bytes held stay within the
// budget, and so does the file, whose pages bbolt reuses.
func TestHistorySizeBound(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.MaxBytes = 64 << 10
	s := open(t, cfg, nil)
	const n = 3000
	for i := 0; i < n; i += 300 {
		var evs []incident.Event
		for j := i; j < i+300; j++ {
			evs = append(evs, incidentEvents(fmt.Sprintf("inc-%04d", j), "cam0", "motion", t0.Add(time.Duration(j)*time.Second), true)...)
		}
		addAll(t, s, evs)
	}
	if v := testutil.ToFloat64(s.m.dropped.WithLabelValues(DropQueueFull)); v != 0 {
		t.Fatalf("%g events dropped", v)
	}
	count, bytes := s.Size()
	if bytes > cfg.MaxBytes || count < 10 || count >= n {
		t.Fatalf("%d incidents, %d bytes held; want within %d bytes, some kept", count, bytes, cfg.MaxBytes)
	}
	evs, _, err := s.Find(Query{Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != count || evs[0].Data.IncidentID != fmt.Sprintf("inc-%04d", n-1) || evs[count-1].Data.IncidentID != fmt.Sprintf("inc-%04d", n-count) {
		t.Fatalf("kept %d incidents from %s to %s; want the newest %d", len(evs), evs[len(evs)-1].Data.IncidentID, evs[0].Data.IncidentID, count)
	}
	if v := testutil.ToFloat64(s.m.evicted.WithLabelValues("size")); int(v) != n-count {
		t.Errorf("vigil_history_evicted_total{reason=size} %g, want %d", v, n-count)
	}
	st, err := os.Stat(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 1<<20 {
		t.Errorf("history file %d bytes for a %d-byte budget", st.Size(), cfg.MaxBytes)
	}
	t.Logf("%d incidents kept in %d bytes; file %d bytes", count, bytes, st.Size())
	s.Close()
	s = open(t, cfg, nil)
	if c2, b2 := s.Size(); c2 != count || b2 != bytes {
		t.Errorf("reopened: %d incidents %d bytes, was %d %d", c2, b2, count, bytes)
	}
}

// TestHistoryDamagedFileMovedAside: a history file that is not a bbolt
// file, or whose record is cut short, is moved aside at start with an
// error logged and counted, and an empty history works in its place. A
// file that cannot be opened for another reason is an error naming
// history.path, never moved aside.
func TestHistoryDamagedFileMovedAside(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, path string){
		"garbage": func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 4096)), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"damaged page": func(t *testing.T, path string) {
			c := config.DefaultHistory()
			c.Path = path
			s := Open(c, nil)
			var evs []incident.Event
			for i := range 300 {
				evs = append(evs, incidentEvents(fmt.Sprintf("inc-%d", i), "cam0", "motion", t0.Add(time.Duration(i)*time.Second), true)...)
			}
			addAll(t, s, evs)
			s.Close()
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			for off := int64(2 * 4096); off < st.Size(); off += 4096 { // every page but the meta pages
				if _, err := f.WriteAt([]byte(strings.Repeat("\xff", 64)), off); err != nil {
					t.Fatal(err)
				}
			}
		},
		"short record": func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error {
				b, _ := tx.CreateBucketIfNotExists(bucketIncidents)
				tx.CreateBucketIfNotExists(bucketStarted) //nolint:errcheck
				return b.Put([]byte("inc-1"), []byte{1, 2, 3})
			}); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			damage(t, cfg.Path)
			var logs testkit.SyncBuffer
			s := open(t, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			aside, _ := filepath.Glob(cfg.Path + ".damaged-*")
			if len(aside) != 1 {
				t.Fatalf("moved aside: %v, want one file", aside)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "incident history damaged") ||
				!strings.Contains(logs.String(), aside[0]) {
				t.Errorf("log does not say the history was damaged and where it went:\n%s", logs.String())
			}
			if v := testutil.ToFloat64(s.m.damaged); v != 1 {
				t.Errorf("vigil_history_damaged_total %g, want 1", v)
			}
			addAll(t, s, incidentEvents("after", "cam0", "motion", t0, false))
			if evs, _, err := s.Find(Query{}); err != nil || ids(evs) != "after" {
				t.Errorf("the fresh history: %s %v", ids(evs), err)
			}
		})
	}
	t.Run("not a damage", func(t *testing.T) {
		cfg := testConfig(filepath.Join(t.TempDir(), "missing-dir"))
		var logs testkit.SyncBuffer
		s := open(t, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if !strings.Contains(logs.String(), "incident history unavailable") || !strings.Contains(logs.String(), "history.path "+cfg.Path) {
			t.Errorf("the log does not say the history is unavailable, naming history.path:\n%s", logs.String())
		}
		if v := testutil.ToFloat64(s.m.available); v != 0 {
			t.Errorf("vigil_history_available %g, want 0", v)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/api/incidents", nil))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), cfg.Path) {
			t.Errorf("GET /api/incidents: %d %q, want 503 naming the file", rec.Code, rec.Body.String())
		}
		addAll(t, s, incidentEvents("lost", "cam0", "motion", t0, false))
		if v := testutil.ToFloat64(s.m.dropped.WithLabelValues(DropUnavailable)); v != 2 {
			t.Errorf("vigil_history_events_dropped_total{reason=unavailable} %g, want 2", v)
		}
		if aside, _ := filepath.Glob(cfg.Path + ".damaged-*"); len(aside) != 0 {
			t.Fatalf("moved aside: %v", aside)
		}
		s.open() // the writer's next try, a minute later: still missing, not logged again
		if n := strings.Count(logs.String(), "incident history unavailable"); n != 1 {
			t.Errorf("%d error lines for one unavailable history, want 1", n)
		}
		// The directory appears: the next try opens it.
		if err := os.Mkdir(filepath.Dir(cfg.Path), 0o750); err != nil {
			t.Fatal(err)
		}
		s.open()
		if !strings.Contains(logs.String(), "incident history open again") {
			t.Errorf("no log line when the history opens:\n%s", logs.String())
		}
		addAll(t, s, incidentEvents("kept", "cam0", "motion", t0, false))
		if evs, _, err := s.Find(Query{}); err != nil || ids(evs) != "kept" || testutil.ToFloat64(s.m.available) != 1 {
			t.Errorf("after the directory appeared: %s %v", ids(evs), err)
		}
	})
}

// TestHistoryStartOutsideNanoseconds: incidents whose start an int64 of
// Unix nanoseconds cannot hold (a zero time, year 2300) are stored,
// folded and reopened like any other, the earlier sorting last; a query
// bound out there is refused (FuzzQuery found until=0000-01-01T00:00:00Z
// answering every incident).
func TestHistoryStartOutsideNanoseconds(t *testing.T) {
	cfg := testConfig(t.TempDir())
	s := open(t, cfg, nil)
	for _, start := range []time.Time{{}, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		evs := incidentEvents("inc-"+start.Format("2006"), "cam0", "motion", start, true)
		for _, ev := range evs {
			addAll(t, s, []incident.Event{ev}) // one transaction each: each rewrites the record
		}
	}
	addAll(t, s, incidentEvents("inc-now", "cam0", "motion", t0, false))
	s.Close()
	s = open(t, cfg, nil) // reads every record against its index entry
	if n, _ := s.Size(); n != 3 {
		t.Fatalf("%d incidents, want 3", n)
	}
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{}, "inc-2300,inc-now,inc-0001"},
		{Query{Since: t0}, "inc-2300,inc-now"},
		{Query{State: StateEnded}, "inc-2300,inc-0001"},
	} {
		evs, _, err := s.Find(tc.q)
		if err != nil || ids(evs) != tc.want {
			t.Errorf("%+v: %s %v, want %s", tc.q, ids(evs), err, tc.want)
		}
	}
	// A query bound out there is refused.
	for _, raw := range []string{"until=0000-01-01T00:00:00Z", "since=1969-12-31T23:59:59Z", "since=2400-01-01T00:00:00Z"} {
		v, _ := url.ParseQuery(raw)
		if _, err := ParseQuery(v); err == nil || !strings.Contains(err.Error(), "1970") {
			t.Errorf("%s: %v, want an error naming the range", raw, err)
		}
	}
}
