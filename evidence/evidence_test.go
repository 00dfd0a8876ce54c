package evidence_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/evidence"
)

// TestEvidenceRetention: the store keeps the newest snapshots within its
// byte budget, drops those past the age limit, and indexes what it finds
// on disk when reopened.
func TestEvidenceRetention(t *testing.T) {
	dir := t.TempDir()
	jpg := bytes.Repeat([]byte{0xFF}, 1000)
	s, err := evidence.Open(config.Evidence{Dir: dir, MaxBytes: 3500, MaxAge: time.Hour})
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
	s2, err := evidence.Open(config.Evidence{Dir: dir, MaxBytes: 3500, MaxAge: time.Hour})
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

// TestEvidenceWritesRefuseLinks: links planted in the evidence directory
// never take a snapshot write outside it. A camera directory that is a
// link to a directory outside (or inside) makes Save fail and writes
// nothing there; a snapshot name planted as a link to a file outside is
// replaced by the new snapshot, the file it pointed to is left as it was;
// the budget's removals do not follow a camera directory swapped for a
// link either.
func TestEvidenceWritesRefuseLinks(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	s, err := evidence.Open(config.Evidence{Dir: dir, MaxBytes: 2500})
	if err != nil {
		t.Fatal(err)
	}
	const (
		id1 = "01a20000-0000-7000-8000-000000000001"
		id2 = "01a20000-0000-7000-8000-000000000002"
		id3 = "01a20000-0000-7000-8000-000000000003"
	)
	jpg := bytes.Repeat([]byte{0xFF}, 1000)
	if _, err := s.Save("real", id1, "start", jpg, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "in")); err != nil {
		t.Fatal(err)
	}
	for _, camera := range []string{"out", "in"} {
		if _, err := s.Save(camera, id2, "start", jpg, time.Now()); err == nil {
			t.Errorf("Save through the camera directory link %q succeeded", camera)
		} else if !strings.Contains(err.Error(), camera+"/"+id2+"-start.jpg") {
			t.Errorf("Save through %q: error %q does not name the snapshot", camera, err)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("%d entries written outside the evidence directory: %v", len(entries), entries)
	}
	if _, err := os.Lstat(filepath.Join(dir, "real", id2+"-start.jpg")); !os.IsNotExist(err) {
		t.Errorf("a write through the inside link landed in real/: %v", err)
	}

	// A snapshot name planted as a link to a file outside.
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "real", id3+"-best.jpg")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save("real", id3, "best", jpg, time.Now()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Errorf("the file a planted link pointed to was overwritten: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "real", id3+"-best.jpg")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the planted link was not replaced by a regular file: %v %v", fi, err)
	}

	// The budget removes real/<id1>; were real/ a link outside, the
	// removal must not follow it.
	if err := os.WriteFile(filepath.Join(outside, id1+"-start.jpg"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "real"), filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "real")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save("cam", id2, "start", jpg, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(outside, id1+"-start.jpg")); err != nil {
		t.Errorf("the budget removed a file outside through a link: %v", err)
	}
}
