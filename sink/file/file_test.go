package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
)

// TestFileSinkRotates: with max_bytes 1 MiB and keep 2, 60 events of
// about 100 KiB rotate the file (lumberjack: <name>-<time>.<ext>); every
// file holds whole records only, none over the limit; at most keep old
// files stay; and the files, oldest first, hold the newest events in
// order with none missing between them.
func TestFileSinkRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	c := testkit.Sink(config.SinkFile, "file", path, func(s *config.Sink) { s.File.MaxBytes, s.File.Keep = 1<<20, 2 })
	s, err := New(sink.CommonOf(c), *c.File)
	if err != nil {
		t.Fatal(err)
	}
	evs := incidenttest.BigEvents(60, 100<<10)
	deliverAll(t, s, evs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var backups []string
	await.Until(t, 20*time.Second, "old files beyond keep removed", func() bool {
		backups, _ = filepath.Glob(filepath.Join(dir, "events-*.jsonl"))
		return len(backups) == 2
	})
	slices.Sort(backups) // the names carry the time
	var got []string
	for _, f := range append(backups, path) {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 1<<20 {
			t.Errorf("%s: %d bytes, over max_bytes", f, st.Size())
		}
		got = append(got, incidenttest.FileIDs(t, f)...) // fails on a torn line
	}
	want := incidenttest.IDs(evs)
	if len(got) == 0 || len(got) >= len(want) || strings.Join(got, ",") != strings.Join(want[len(want)-len(got):], ",") {
		t.Errorf("the files hold %d events, want the newest ones in order, none missing", len(got))
	}
}

// TestFileSinkCutsATornTail: a crash in the middle of a write left a
// partial last line; the next run cuts it before writing, so every line is
// one whole event.
func TestFileSinkCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	first := incidenttest.Events(3)
	var body []byte
	for _, ev := range first[:2] {
		body = append(append(body, mustJSON(t, ev)...), '\n')
	}
	body = append(body, mustJSON(t, first[2])[:40]...) // torn
	if err := os.WriteFile(path, body, 0o640); err != nil {
		t.Fatal(err)
	}
	c := testkit.Sink(config.SinkFile, "file", path)
	s, err := New(sink.CommonOf(c), *c.File)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	more := incidenttest.Events(3)
	deliverAll(t, s, more)
	got := incidenttest.FileIDs(t, path)
	want := append(incidenttest.IDs(first[:2]), incidenttest.IDs(more)...)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("file holds %v, want %v", got, want)
	}
}

// deliverAll delivers evs in order, as delivery does; a failure fails
// the test.
func deliverAll(t *testing.T, s *Sink, evs []incident.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := s.Deliver(context.Background(), mustJSON(t, ev), &ev); err != nil {
			t.Fatal(err)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
