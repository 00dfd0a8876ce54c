package history

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/delivery"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sinks"
)

// deliveryFeeding starts a real delivery with a file sink (on another
// disk) feeding s through OnStored, as `vigil run` does; it returns the
// sink's file.
func deliveryFeeding(t *testing.T, s *Store) (*delivery.Delivery, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "events.jsonl")
	ob := config.DefaultOutbox()
	ob.Path = filepath.Join(t.TempDir(), "outbox.db")
	d, err := delivery.New(delivery.Config{Outbox: ob, Sinks: []config.Sink{testkit.Sink(config.SinkFile, "file", file)}},
		sinks.Env{Stdout: io.Discard}.Open, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.OnStored(s.Add)
	d.Start()
	t.Cleanup(func() { d.Close() })
	return d, file
}

// publishDelivered publishes evs and waits for the sink to have them all.
func publishDelivered(t *testing.T, d *delivery.Delivery, file string, evs []incident.Event) {
	t.Helper()
	before := len(incidenttest.FileIDsSoFar(t, file))
	for _, ev := range evs {
		if err := d.Publish(ev); err != nil {
			t.Fatal(err)
		}
	}
	await.Until(t, 60*time.Second, "every event at the sink", func() bool {
		return len(incidenttest.FileIDsSoFar(t, file)) >= before+len(evs)
	})
}

// TestHistoryFullDiskSparesDelivery: the history's disk (a small tmpfs)
// fills up under a real delivery feeding it. Every event reaches the
// sink; the failed history writes are counted and logged once; once
// space is back, new incidents are in the history.
func TestHistoryFullDiskSparesDelivery(t *testing.T) {
	disk := testkit.SmallDisk(t, 256<<10)
	cfg := testConfig(disk)
	var logs testkit.SyncBuffer
	s := open(t, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	d, file := deliveryFeeding(t, s)
	filler := filepath.Join(disk, "filler")
	testkit.Fill(t, filler)
	publishDelivered(t, d, file, incidenttest.Events(600)) // some 400 KiB of history: more than the disk holds
	await.Until(t, 20*time.Second, "a failed history write", func() bool { return testutil.ToFloat64(s.m.writeErrors) > 0 })
	if got := strings.Count(logs.String(), "incident history write failed"); got != 1 {
		t.Errorf("%d log lines about the failed writes, want 1 until a write succeeds:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "path="+cfg.Path) {
		t.Errorf("the log line is not an error naming the file:\n%s", logs.String())
	}
	if v := testutil.ToFloat64(s.m.dropped.WithLabelValues(DropWriteFailed)); v == 0 {
		t.Error("vigil_history_events_dropped_total{reason=write_failed} is 0")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	publishDelivered(t, d, file, incidentEvents("after-the-failure", "cam0", "motion", time.Now(), true))
	await.Until(t, 20*time.Second, "the history to take new incidents", func() bool {
		got, _, err := s.Find(Query{Camera: "cam0", State: StateEnded, Limit: 1})
		return err == nil && len(got) == 1 && got[0].Data.IncidentID == "after-the-failure" && got[0].Type == incident.TypeEnd
	})
	if !strings.Contains(logs.String(), "incident history writes succeed again") {
		t.Errorf("no log line about the recovery:\n%s", logs.String())
	}
}

// TestHistoryReadOnlyDiskSparesDelivery: the engine starts with the
// history's disk mounted read-only (a tmpfs remounted so: even root
// cannot write it). The history is unavailable (logged, gauge 0, 503,
// events counted as dropped) while a real delivery feeding it delivers
// everything; once the disk is writable, the next try opens the history
// with what it held before.
func TestHistoryReadOnlyDiskSparesDelivery(t *testing.T) {
	disk := testkit.SmallDisk(t, 1<<20)
	cfg := testConfig(disk)
	s := Open(cfg, nil)
	addAll(t, s, incidentEvents("before", "cam0", "motion", time.Now(), true))
	s.Close()
	testkit.ReadOnly(t, disk, true)

	var logs testkit.SyncBuffer
	s = open(t, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "read-only file system") {
		t.Errorf("the log does not say the history's disk is read-only:\n%s", logs.String())
	}
	if v := testutil.ToFloat64(s.m.available); v != 0 {
		t.Errorf("vigil_history_available %g, want 0", v)
	}
	d, file := deliveryFeeding(t, s)
	evs := incidenttest.Events(60)
	publishDelivered(t, d, file, evs)
	await.Until(t, 20*time.Second, "the events counted as dropped", func() bool {
		return testutil.ToFloat64(s.m.dropped.WithLabelValues(DropUnavailable)) == float64(len(evs))
	})

	testkit.ReadOnly(t, disk, false)
	s.open() // what the writer does every minute
	publishDelivered(t, d, file, incidentEvents("after", "cam1", "motion", time.Now(), false))
	await.Until(t, 20*time.Second, "the history to hold the old and the new incident", func() bool {
		got, _, err := s.Find(Query{})
		return err == nil && ids(got) == "after,before"
	})
}
