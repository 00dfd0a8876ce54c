package delivery

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sink"
)

// bigEvents returns n events of about size bytes each (an embedded
// snapshot), over three cameras.
func bigEvents(n, size int) []incident.Event {
	evs := incidenttest.Events(n)
	img := base64.StdEncoding.EncodeToString(make([]byte, size*3/4))
	for i := range evs {
		evs[i].Data.Evidence = []incident.Evidence{{Role: "best", JPEGBase64: img}}
	}
	return evs
}

// TestFileSinkRotates: with max_bytes 1 MiB and keep 2, 60 events of
// about 100 KiB rotate the file (lumberjack: <name>-<time>.<ext>); every
// file holds whole records only, none over the limit; at most keep old
// files stay; and the files, oldest first, hold the newest events in
// order with none missing between them.
func TestFileSinkRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "o.db")}, Sinks: []sink.Config{
		{Name: "file", Type: "file", Path: path, MaxBytes: 1 << 20, Keep: 2},
	}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	evs := bigEvents(60, 100<<10)
	publishAll(t, d, evs)
	await.Until(t, 20*time.Second, "every event", func() bool { return deliveredCount(d, "file") >= float64(len(evs)) })
	if err := d.Close(); err != nil {
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
		got = append(got, fileIDs(t, f)...) // fails on a torn line
	}
	want := eventIDs(evs)
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
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(dir, "o.db")}, Sinks: []sink.Config{
		{Name: "file", Type: "file", Path: path, BackoffMin: 10 * time.Millisecond},
	}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	more := incidenttest.Events(3)
	publishAll(t, d, more)
	await.Until(t, 20*time.Second, "the events", func() bool { return deliveredCount(d, "file") >= 3 })
	got := fileIDs(t, path)
	want := append(eventIDs(first[:2]), eventIDs(more)...)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("file holds %v, want %v", got, want)
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
