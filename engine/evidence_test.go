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
	"github.com/vigil-video/vigil/event"
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
			store, err := event.OpenEvidences(event.EvidenceConfig{Dir: dir, Embed: embed})
			if err != nil {
				t.Fatal(err)
			}
			col := &collector{}
			cfg := config.Config{Listen: "127.0.0.1:0", Cameras: []config.Camera{cameraConfig("moving", srv.URL("moving"))}}
			cfg.SetDefaults()
			e, err := New(cfg, Options{Logger: testLogger(t), Events: col, Evidence: store})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Start(); err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			var start event.Event
			waitUntil(t, 25*time.Second, "a motion start event", func() bool {
				for _, ev := range col.of("moving") {
					if ev.Type == event.TypeStart && ev.Data.Kind == "motion" {
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
				for _, bad := range []string{"/api/evidence/moving/..%2F..%2Fetc%2Fpasswd", "/api/evidence/../moving/x.jpg", "/api/evidence/moving/nope.jpg"} {
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

// TestEvidenceRetention: the store keeps the newest snapshots within its
// byte budget, drops those past the age limit, and indexes what it finds
// on disk when reopened.
func TestEvidenceRetention(t *testing.T) {
	dir := t.TempDir()
	jpg := bytes.Repeat([]byte{0xFF}, 1000)
	s, err := event.OpenEvidences(event.EvidenceConfig{Dir: dir, MaxBytes: 3500, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ids := []string{
		"01a20000-0000-7000-8000-000000000001", "01a20000-0000-7000-8000-000000000002",
		"01a20000-0000-7000-8000-000000000003", "01a20000-0000-7000-8000-000000000004",
	}
	for i, id := range ids {
		if _, err := s.Save("cam", id, "start", jpg, now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if n, b := s.Usage(); n != 3 || b != 3000 {
		t.Fatalf("usage %d files %d bytes, want 3 within 3500", n, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "cam", ids[0]+"-start.jpg")); !os.IsNotExist(err) {
		t.Errorf("oldest snapshot kept: %v", err)
	}
	// "best" replaces the incident's previous best.
	for range 2 {
		if _, err := s.Save("cam", ids[3], "best", jpg, now.Add(5*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.Usage(); n != 3 {
		t.Errorf("%d files after two bests, want 3", n)
	}
	// Reopened an hour and more later: everything is past max_age... as
	// files carry their mtime, age them on disk.
	old := now.Add(-2 * time.Hour)
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	s2, err := event.OpenEvidences(event.EvidenceConfig{Dir: dir, MaxBytes: 3500, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if n, b := s2.Usage(); n != 0 || b != 0 {
		t.Errorf("reopened with %d files %d bytes, want all aged out", n, b)
	}
	if _, err := s2.Save("..", ids[0], "start", jpg, now); err == nil {
		t.Error("saved under camera \"..\"")
	}
}
