package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

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
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, Options{ConfigPath: cfgPath, DataDir: data, Events: io.Discard, Logs: io.Discard})
		}()
		return func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not return within 20 s of its context ending")
			}
		}
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
