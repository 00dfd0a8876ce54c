package delivery

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestRestartAfterDrainKeepsDelivering: a run fills the outbox and its
// sinks drain it; the next run on the same outbox must deliver its new
// events to every sink (the sequence must not restart below the cursors).
func TestRestartAfterDrainKeepsDelivering(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Outbox: OutboxConfig{Path: filepath.Join(dir, "outbox.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkFile, "a", filepath.Join(dir, "a.jsonl")),
		testkit.Sink(config.SinkFile, "b", filepath.Join(dir, "b.jsonl")),
	}}
	var want []string
	for run := range 3 {
		d, err := testOpen(cfg, io.Discard, testLog(t))
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		evs := incidenttest.Events(20)
		publishAll(t, d, evs)
		want = append(want, incidenttest.IDs(evs)...)
		await.Until(t, 20*time.Second, "every sink to drain the outbox", func() bool {
			n, _ := d.box.Depth()
			return n == 0 && len(incidenttest.FileIDsSoFar(t, cfg.Sinks[0].File.Path)) >= len(want) && len(incidenttest.FileIDsSoFar(t, cfg.Sinks[1].File.Path)) >= len(want)
		})
		if err := d.Close(); err != nil {
			t.Fatalf("run %d: close: %v", run, err)
		}
		for _, s := range cfg.Sinks {
			if got := incidenttest.Dedup(incidenttest.FileIDs(t, s.File.Path)); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("run %d: sink %s has %d events, want %d in order", run, s.Name, len(got), len(want))
			}
		}
	}
}
