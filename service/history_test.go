package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/history"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestIncidentHistoryAfterRestart: `vigil run` raises a camera_offline
// incident, is stopped (ending it), and started again on the same
// --data-dir: GET /api/incidents serves the first run's incident, once,
// ended, from history.db under the data directory.
func TestIncidentHistoryAfterRestart(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	listen := testkit.ClosedPort(t)
	cfgPath := filepath.Join(dir, "vigil.yaml")
	yaml := fmt.Sprintf(`listen: %s
cameras:
  - id: offline
    url: rtsp://%s/nothing
    backoff_min: 100ms
    backoff_max: 400ms
    offline_grace: 300ms
`, listen, testkit.ClosedPort(t))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	incidents := func(query string) []incident.Event {
		res, err := http.Get("http://" + listen + "/api/incidents?" + query)
		if err != nil {
			return nil // not listening yet
		}
		defer res.Body.Close()
		var page struct {
			Incidents []incident.Event `json:"incidents"`
		}
		if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&page) != nil {
			return nil
		}
		return page.Incidents
	}
	run := func() (stop func()) {
		return runService(t, Options{ConfigPath: cfgPath, DataDir: data, Events: io.Discard, Logs: io.Discard})
	}

	stop := run()
	var first string
	await.Until(t, 20*time.Second, "a camera_offline incident in /api/incidents", func() bool {
		evs := incidents("kind=camera_offline&state=open")
		if len(evs) > 0 {
			first = evs[0].Data.IncidentID
		}
		return first != ""
	})
	stop() // ends the open incident
	if _, err := os.Stat(filepath.Join(data, "history.db")); err != nil {
		t.Fatalf("history.db under --data-dir: %v", err)
	}

	stop = run()
	defer stop()
	var found []incident.Event
	await.Until(t, 20*time.Second, "the first run's incident after the restart", func() bool {
		found = nil
		for _, ev := range incidents("camera=offline&limit=1000") {
			if ev.Data.IncidentID == first {
				found = append(found, ev)
			}
		}
		return len(found) > 0
	})
	if len(found) != 1 || found[0].Type != incident.TypeEnd || found[0].Data.EndedAt == nil {
		t.Fatalf("the first run's incident after the restart: %d items, type %s; want it once, ended", len(found), found[0].Type)
	}
}

// TestIncidentsAPISources: the API `vigil run` builds answers GET
// /api/incidents and Frigate's GET /api/events list from the history on
// disk: an ended person incident that followed two people is one
// incident on the first and two Frigate events on the second, each with
// its end time and best score; both answer the same after the history is
// closed and opened again (a restart).
func TestIncidentsAPISources(t *testing.T) {
	hc := config.DefaultHistory()
	hc.Path = filepath.Join(t.TempDir(), "history.db")
	hist := history.Open(hc, nil)
	start := time.Now().Add(-time.Minute).UTC()
	inc := incident.Incident{IncidentID: "0193f0c2-7c1e-7000-8000-000000000001", Camera: "door", Kind: "person", StartedAt: start,
		FrameTime: start, FrameTimeSource: incident.TimeReceipt, Score: 2, Objects: []incident.Object{
			{Label: "person", Score: 0.7, Box: [4]float64{0.1, 0.1, 0.1, 0.3}, TrackID: "a"},
			{Label: "person", Score: 0.6, Box: [4]float64{0.5, 0.1, 0.1, 0.3}, TrackID: "b"}}}
	evs := []incident.Event{incident.New(incident.TypeStart, inc, start)}
	inc.Score, inc.FrameTime = 1, start.Add(time.Second)
	inc.Objects = []incident.Object{{Label: "person", Score: 0.9, Box: [4]float64{0.1, 0.1, 0.1, 0.3}, TrackID: "a"}}
	evs = append(evs, incident.New(incident.TypeUpdate, inc, start.Add(time.Second)))
	end := start.Add(2 * time.Second)
	inc.EndedAt, inc.Objects, inc.Score = &end, nil, 2
	evs = append(evs, incident.New(incident.TypeEnd, inc, end))
	for _, ev := range evs {
		hist.Add(ev)
	}
	check := func(hist *history.Store) {
		t.Helper()
		srv := httptest.NewServer(api.Routes(api.Config{Registry: prometheus.NewRegistry(), Incidents: incidentsAPI{hist}}, noCameras{}))
		defer srv.Close()
		get := func(path string, v any) {
			t.Helper()
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Accept", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if err := json.NewDecoder(res.Body).Decode(v); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		var page struct {
			Incidents []incident.Event `json:"incidents"`
		}
		await.Until(t, 20*time.Second, "the incident in the history", func() bool {
			get("/api/incidents", &page)
			return len(page.Incidents) == 1 && page.Incidents[0].Type == incident.TypeEnd
		})
		var frigate []struct {
			ID       string   `json:"id"`
			EndTime  *float64 `json:"end_time"`
			TopScore float64  `json:"top_score"`
		}
		get("/api/events?cameras=door", &frigate)
		if len(frigate) != 2 || frigate[0].EndTime == nil || frigate[1].EndTime == nil || frigate[0].ID == frigate[1].ID ||
			frigate[0].TopScore+frigate[1].TopScore != 0.9+0.6 {
			t.Errorf("Frigate's /api/events: %+v, want the two people, ended, with their best scores", frigate)
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

// runService runs Run with o until the returned stop, which fails the
// test unless Run returns nil within 20 s of its context ending.
func runService(t *testing.T, o Options) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return within 20 s of its context ending")
		}
	}
}
