package delivery

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestFullOutboxKeepsHealthySinkWhole: a small outbox budget, a healthy
// file sink and a dead webhook (a closed port), a burst of events much
// larger than the budget. The file sink gets every event, in order; the
// dead sink's lost backlog is counted against it alone (every event is
// either still stored for it or counted as dropped for it) and logged; the
// budget holds.
func TestFullOutboxKeepsHealthySinkWhole(t *testing.T) {
	dir := t.TempDir()
	one, _ := json.Marshal(incidenttest.Events(1)[0])
	budget := int64(20 * (len(one) + 40))
	file := filepath.Join(dir, "events.jsonl")
	var logs testkit.SyncBuffer
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(dir, "o.db"), MaxBytes: budget}, Sinks: []config.Sink{
		testkit.Sink(config.SinkFile, "file", file),
		testkit.Sink(config.SinkWebhook, "hook", fmt.Sprintf("http://127.0.0.1:%d/hook", testkit.FreePort(t)), testkit.Backoff(10*time.Millisecond, 50*time.Millisecond)),
	}}, io.Discard, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const n = 400
	evs := incidenttest.Events(n)
	publishAll(t, d, evs)
	await.Until(t, 20*time.Second, "the file sink to get every event", func() bool { return len(incidenttest.FileIDsSoFar(t, file)) >= n })

	if got, want := strings.Join(incidenttest.Dedup(incidenttest.FileIDsSoFar(t, file)), ","), strings.Join(incidenttest.IDs(evs), ","); got != want {
		t.Errorf("the healthy file sink lost events: %d of %d, in order: %v", len(incidenttest.Dedup(incidenttest.FileIDsSoFar(t, file))), n, got == want)
	}
	if v := testutil.ToFloat64(d.m.sinkDropped.WithLabelValues("file", "outbox_full")); v != 0 {
		t.Errorf("%g events counted as dropped for the healthy file sink", v)
	}
	dropped := testutil.ToFloat64(d.m.sinkDropped.WithLabelValues("hook", "outbox_full"))
	stored, bytes := d.box.Depth()
	if dropped == 0 {
		t.Error("the dead sink's drops are not counted")
	}
	if int(dropped)+stored != n {
		t.Errorf("dead sink: %g dropped + %d still stored = %d, want every one of the %d events accounted for", dropped, stored, int(dropped)+stored, n)
	}
	if bytes > budget {
		t.Errorf("outbox holds %d bytes, budget %d", bytes, budget)
	}
	if !strings.Contains(logs.String(), `msg="outbox full: failing sink lost undelivered events" sink=hook`) {
		t.Errorf("no log line names the sink that lost events:\n%s", logs.String())
	}
}
