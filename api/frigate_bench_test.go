package api

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/history"
	"github.com/vigil-video/vigil/incident"
)

// BenchmarkFrigateEventsFromHistory: what Frigate's list costs from the
// incident history on disk, holding 10,000 person incidents of two
// tracked people each and 10,000 motion incidents (one a minute over
// a week), through the real handlers over HTTP: the default list (100
// newest), the integration's recent list (after= the last hour), the
// media browser's summary (every person and vehicle record read), and one
// event by its object id. "live": each record written when its incident
// happened (a fake clock for the history, as in operation); "at_once":
// every record written at the same time (the worst case: no record can
// be skipped unread).
func BenchmarkFrigateEventsFromHistory(b *testing.B) {
	for _, live := range []bool{true, false} {
		name := "at_once"
		if live {
			name = "live"
		}
		b.Run(name, func(b *testing.B) { benchFrigateEvents(b, live) })
	}
}

func benchFrigateEvents(b *testing.B, live bool) {
	const n = 10_000
	hc := config.DefaultHistory()
	hc.Path = filepath.Join(b.TempDir(), "history.db")
	hc.MaxAge = 30 * 24 * time.Hour
	hist := history.Open(hc, nil)
	defer hist.Close()
	end := time.Now().Truncate(time.Second)
	first := end.Add(-n * time.Minute)
	var lastID, someObject string
	for i := range n {
		start := first.Add(time.Duration(i) * time.Minute)
		if live && i%50 == 0 {
			if i > 0 {
				waitRecord(b, hist, lastID)
			}
			// The next 50 incidents are written at the end of the last.
			at := start.Add(50*time.Minute - 40*time.Second)
			hist.SetClock(func() time.Time { return at })
		}
		id := fmt.Sprintf("0193a1b2-0000-7000-8000-%012x", i)
		objs := []incident.Object{
			{Label: "person", Score: 0.8, Box: [4]float64{0.1, 0.2, 0.1, 0.3}, TrackID: fmt.Sprintf("a%d", i)},
			{Label: "person", Score: 0.6, Box: [4]float64{0.5, 0.2, 0.1, 0.3}, TrackID: fmt.Sprintf("b%d", i)},
		}
		in := incident.Incident{IncidentID: id, Camera: fmt.Sprintf("cam%d", i%20), Kind: "person", StartedAt: start, FrameTime: start,
			FrameTimeSource: incident.TimeRTCP, Score: 2, Objects: objs}
		hist.Add(incident.New(incident.TypeStart, in, start))
		in.FrameTime, in.Objects[0].Score = start.Add(5*time.Second), 0.9
		hist.Add(incident.New(incident.TypeUpdate, in, in.FrameTime))
		stop := start.Add(20 * time.Second)
		in.FrameTime, in.EndedAt, in.Objects = stop, &stop, nil
		hist.Add(incident.New(incident.TypeEnd, in, stop))
		m := incident.Incident{IncidentID: fmt.Sprintf("0193a1b2-0000-7000-9000-%012x", i), Camera: in.Camera, Kind: "motion",
			StartedAt: start, FrameTime: start, FrameTimeSource: incident.TimeRTCP, Score: 0.1}
		hist.Add(incident.New(incident.TypeStart, m, start))
		lastID = m.IncidentID
		if i == n/2 {
			someObject = frigate.EventID(in.Camera, objs[1].TrackID, start)
		}
		if i%1000 == 999 {
			waitRecord(b, hist, lastID) // the writer's queue holds 4,096
		}
	}
	waitRecord(b, hist, lastID)
	hist.SetClock(time.Now)
	st, err := os.Stat(hc.Path)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(Routes(Config{Registry: prometheus.NewRegistry(), Incidents: hist}, frigateEngine{}))
	defer srv.Close()
	for _, c := range []struct{ name, path string }{
		{"list", "/api/events"},
		{"recent", fmt.Sprintf("/api/events?after=%d&limit=50", end.Add(-time.Hour).Unix())},
		{"summary", "/api/events/summary"},
		{"one", "/api/events/" + someObject},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest("GET", srv.URL+c.path, nil)
				req.Header.Set("Accept", "*/*")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body) //nolint:errcheck
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("%s: %d", c.path, res.StatusCode)
				}
			}
			b.ReportMetric(float64(st.Size())/(1<<20), "MiB_history")
		})
	}
}

func waitRecord(b *testing.B, hist *history.Store, id string) {
	b.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if r, err := hist.Get(id); err == nil && r != nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the history did not take %s within a minute", id)
		}
	}
}
