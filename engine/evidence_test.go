package engine

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
)

// TestEvidenceSnapshots: a motion incident's start event references a
// JPEG of its first frame, kept on disk and served by the API; with embed
// the image travels in the event instead.
func TestEvidenceSnapshots(t *testing.T) {
	for _, embed := range []bool{false, true} {
		name := map[bool]string{false: "files", true: "embedded"}[embed]
		t.Run(name, func(t *testing.T) {
			srv := startSim(t, sim.Camera{Path: "moving", Clip: clip(t, "motion")})
			dir := t.TempDir()
			store, err := evidence.Open(evidenceConfig(dir, embed))
			if err != nil {
				t.Fatal(err)
			}
			col := &collector{}
			cfg := testConfig(cameraConfig("moving", srv.URL("moving")))
			e, err := New(cfg, Options{Logger: testLogger(t), Events: col, Evidence: store})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Start(); err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			var start incident.Event
			await.Until(t, 25*time.Second, "a motion start event", func() bool {
				for _, ev := range col.of("moving") {
					if ev.Type == incident.TypeStart && ev.Data.Kind == "motion" {
						start = ev
						return true
					}
				}
				return false
			})
			if len(start.Data.Evidence) == 0 || start.Data.Evidence[0].Role != "start" {
				t.Fatalf("start event evidence %+v, want a start snapshot", start.Data.Evidence)
			}
			ev := start.Data.Evidence[0]
			var jpg []byte
			if embed {
				if ev.Path != "" {
					t.Errorf("embedded evidence has a path %q", ev.Path)
				}
				if jpg, err = base64.StdEncoding.DecodeString(ev.JPEGBase64); err != nil {
					t.Fatal(err)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("embed wrote %d entries to disk", len(entries))
				}
			} else {
				if want := "moving/" + start.Data.IncidentID + "-start.jpg"; ev.Path != want || ev.JPEGBase64 != "" {
					t.Fatalf("evidence %+v, want path %s", ev, want)
				}
				if _, err := os.Stat(filepath.Join(dir, ev.Path)); err != nil {
					t.Fatal(err)
				}
				res, err := http.Get("http://" + e.Addr() + "/api/evidence/" + ev.Path)
				if err != nil {
					t.Fatal(err)
				}
				jpg, _ = io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
					t.Fatalf("GET evidence: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
				}
				// Where Frigate consumers look for an event's snapshot.
				res, err = http.Get("http://" + e.Addr() + "/api/events/" + start.Data.IncidentID + "/snapshot.jpg")
				if err != nil {
					t.Fatal(err)
				}
				frig, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !bytes.HasPrefix(frig, []byte{0xFF, 0xD8}) {
					t.Errorf("GET /api/events/<id>/snapshot.jpg: %d, %d bytes", res.StatusCode, len(frig))
				}
				for _, bad := range []string{"/api/events/no-such-incident/snapshot.jpg", "/api/evidence/moving/..%2F..%2Fetc%2Fpasswd", "/api/evidence/../moving/x.jpg", "/api/evidence/moving/nope.jpg"} {
					res, err := http.Get("http://" + e.Addr() + bad)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					if res.StatusCode == 200 {
						t.Errorf("GET %s served something", bad)
					}
				}
			}
			if !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8}) || len(jpg) < 1000 {
				t.Fatalf("snapshot is not a JPEG (%d bytes)", len(jpg))
			}
		})
	}
}

// evidenceConfig is the default evidence store in dir, or embedding.
func evidenceConfig(dir string, embed bool) config.Evidence {
	c := config.DefaultEvidence()
	c.Dir, c.Embed = dir, embed
	return c
}
