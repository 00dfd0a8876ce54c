package delivery

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
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

// TestFileSinkFullDiskWritesWholeRecords: the file sink's filesystem fills
// up mid-stream. While it is full, every line of the file is one whole
// event (a partial write is cut off); once space is back, every event is
// in the file exactly once, in order.
func TestFileSinkFullDiskWritesWholeRecords(t *testing.T) {
	disk := testkit.SmallDisk(t, 64<<10)
	file := filepath.Join(disk, "events.jsonl")
	filler := filepath.Join(disk, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 40<<10)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "o.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkFile, "file", file, testkit.Backoff(10*time.Millisecond, 50*time.Millisecond)),
	}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	evs := incidenttest.Events(100) // about 60 KiB of JSON lines: more than the disk has left
	publishAll(t, d, evs)
	await.Until(t, 20*time.Second, "the full disk to fail writes", func() bool { return testutil.ToFloat64(d.m.retried.WithLabelValues("file")) >= 5 })
	// Each retry writes part of a record and cuts it off again, so a single
	// look can fall between the two: wait for the file to end with a whole
	// record. Not cut, it never does.
	await.Until(t, 5*time.Second, "the file to end with a whole record", func() bool {
		b, err := os.ReadFile(file)
		return err == nil && strings.HasSuffix(string(b), "\n")
	})
	during := incidenttest.FileIDsSoFar(t, file) // fails on a torn or concatenated line
	if len(during) == 0 || len(during) >= len(evs) {
		t.Fatalf("%d events written before the disk filled up; the test needs some, not all", len(during))
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 20*time.Second, "every event once space is back", func() bool { return deliveredCount(d, "file") >= float64(len(evs)) })
	got := incidenttest.FileIDs(t, file)
	if strings.Join(got, ",") != strings.Join(incidenttest.IDs(evs), ",") {
		t.Fatalf("the file holds %d records, want the %d events exactly once, in order", len(got), len(evs))
	}
}

// TestOutboxFullDiskShutdownIsBounded: the outbox's filesystem is full, so
// published events cannot be stored. Close returns within 10 s, logs and
// returns how many events were not stored, and every event is either in
// the healthy file sink or counted as not stored. With space back, the
// same outbox opens and delivers again.
func TestOutboxFullDiskShutdownIsBounded(t *testing.T) {
	disk := testkit.SmallDisk(t, 256<<10)
	file := filepath.Join(t.TempDir(), "events.jsonl")
	cfg := Config{Outbox: OutboxConfig{Path: filepath.Join(disk, "outbox.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkFile, "file", file),
	}}
	var logs testkit.SyncBuffer
	d, err := testOpen(cfg, io.Discard, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(disk, "filler")
	testkit.Fill(t, filler)
	const n = 200
	evs := incidenttest.Events(n)
	publishAll(t, d, evs)
	await.Until(t, 20*time.Second, "the outbox write to fail", func() bool { return strings.Contains(logs.String(), "outbox write failed") })

	start := time.Now()
	type result struct {
		rep ShutdownReport
		err error
	}
	done := make(chan result, 1)
	go func() { err := d.Close(); done <- result{d.Report(), err} }()
	var res result
	select {
	case res = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return within 20 s with the outbox's disk full")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Close took %s with the disk full, want at most 10 s", took)
	}
	if !errors.Is(res.err, ErrEventsLost) || !strings.Contains(res.err.Error(), fmt.Sprint(res.rep.NotStored)) {
		t.Errorf("Close returned %v, want ErrEventsLost naming %d events", res.err, res.rep.NotStored)
	}
	delivered := len(incidenttest.Dedup(incidenttest.FileIDs(t, file)))
	if res.rep.NotStored == 0 || res.rep.NotStored+delivered < n || res.rep.NotStored > n {
		t.Errorf("not stored %d + delivered %d: want every one of %d events accounted for, some not stored", res.rep.NotStored, delivered, n)
	}
	if want := fmt.Sprintf("not_stored=%d", res.rep.NotStored); !strings.Contains(logs.String(), want) {
		t.Errorf("the log does not say %s:\n%s", want, logs.String())
	}
	if v := testutil.ToFloat64(d.m.notStored); int(v) != res.rep.NotStored {
		t.Errorf("vigil_outbox_events_not_stored_total %g, report %d", v, res.rep.NotStored)
	}

	// Space back: the outbox opens and keeps delivering.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	d, err = testOpen(cfg, io.Discard, testLog(t))
	if err != nil {
		t.Fatalf("reopen after the full disk: %v", err)
	}
	defer d.Close()
	more := incidenttest.Events(5)
	publishAll(t, d, more)
	await.Until(t, 20*time.Second, "new events after the full disk", func() bool {
		got := map[string]bool{}
		for _, id := range incidenttest.FileIDsSoFar(t, file) { // the sink is writing
			got[id] = true
		}
		for _, ev := range more {
			if !got[ev.ID] {
				return false
			}
		}
		return true
	})
}

// TestFileSinkFullDiskAtRotation: the disk fills up right after a
// rotation, so the first record of the new file is written part-way. The
// cut goes back to the new file's whole records (none), not to the old
// file's size; once space is back, the new file holds the rest, whole and
// in order.
func TestFileSinkFullDiskAtRotation(t *testing.T) {
	// 272 pages: the first file's 10 records of ~100 KiB fill all but
	// about 80 KiB, less than one record.
	disk := testkit.SmallDisk(t, 272*4096)
	file := filepath.Join(disk, "events.jsonl")
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "o.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkFile, "file", file, testkit.Backoff(10*time.Millisecond, 50*time.Millisecond), func(s *config.Sink) {
			s.File.MaxBytes, s.File.Keep = 1<<20, 3
		}),
	}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	evs := incidenttest.BigEvents(14, 100<<10)
	publishAll(t, d, evs)
	await.Until(t, 20*time.Second, "the full disk to fail writes", func() bool { return testutil.ToFloat64(d.m.retried.WithLabelValues("file")) >= 5 })
	backups, _ := filepath.Glob(filepath.Join(disk, "events-*.jsonl"))
	if len(backups) != 1 {
		t.Fatalf("%d rotated files, want 1", len(backups))
	}
	old := incidenttest.FileIDs(t, backups[0])
	if strings.Join(old, ",") != strings.Join(incidenttest.IDs(evs[:len(old)]), ",") {
		t.Fatal("the rotated file does not hold the first events in order")
	}
	// Each retry writes part of the record and cuts it off again, so a
	// single look can fall between the two: wait for the file to be empty.
	// Cut back to the old file's size, it never is.
	await.Until(t, 5*time.Second, "the new file to hold nothing while its first record does not fit", func() bool {
		st, err := os.Stat(file)
		return err == nil && st.Size() == 0
	})
	if err := os.Remove(backups[0]); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 20*time.Second, "every event once space is back", func() bool { return deliveredCount(d, "file") >= float64(len(evs)) })
	if got := incidenttest.FileIDs(t, file); strings.Join(got, ",") != strings.Join(incidenttest.IDs(evs[len(old):]), ",") {
		t.Fatalf("the new file holds %d records, want the %d after the rotation, in order", len(got), len(evs)-len(old))
	}
}
