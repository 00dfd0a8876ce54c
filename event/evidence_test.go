package event_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-video/vigil/event"
)

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
