package delivery

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sink"
)

// fileIDs returns the event ids of a file sink's JSON lines, in file order;
// a line that is not one whole event fails the test.
func fileIDs(t *testing.T, path string) []string {
	t.Helper()
	return readIDs(t, path, false)
}

// fileIDsSoFar is fileIDs for a file a sink may be writing now: a last line
// not ended yet is not read (a line is torn only when more follows it).
func fileIDsSoFar(t *testing.T, path string) []string {
	t.Helper()
	return readIDs(t, path, true)
}

func readIDs(t *testing.T, path string, soFar bool) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); soFar {
		b = b[:i+1]
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var ev incident.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.ID == "" {
			t.Fatalf("%s line %d is not one whole event (%v): %.200q", path, n, err, sc.Text())
		}
		ids = append(ids, ev.ID)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// dedup keeps the first occurrence of every id (delivery is at least once).
func dedup(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func eventIDs(evs []incident.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// TestRestartAfterDrainKeepsDelivering: a run fills the outbox and its
// sinks drain it; the next run on the same outbox must deliver its new
// events to every sink (the sequence must not restart below the cursors).
func TestRestartAfterDrainKeepsDelivering(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Outbox: OutboxConfig{Path: filepath.Join(dir, "outbox.db")}, Sinks: []sink.Config{
		{Name: "a", Type: "file", Path: filepath.Join(dir, "a.jsonl")},
		{Name: "b", Type: "file", Path: filepath.Join(dir, "b.jsonl")},
	}}
	var want []string
	for run := range 3 {
		d, err := testOpen(cfg, io.Discard, testLog(t))
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		evs := incidenttest.Events(20)
		publishAll(t, d, evs)
		want = append(want, eventIDs(evs)...)
		await.Until(t, 20*time.Second, "every sink to drain the outbox", func() bool {
			n, _ := d.box.Depth()
			return n == 0 && len(fileIDsSoFar(t, cfg.Sinks[0].Path)) >= len(want) && len(fileIDsSoFar(t, cfg.Sinks[1].Path)) >= len(want)
		})
		if err := d.Close(); err != nil {
			t.Fatalf("run %d: close: %v", run, err)
		}
		for _, s := range cfg.Sinks {
			if got := dedup(fileIDs(t, s.Path)); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("run %d: sink %s has %d events, want %d in order", run, s.Name, len(got), len(want))
			}
		}
	}
}
