package delivery

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestReadyFollowsOutboxWrites: Ready is nil while the outbox is written,
// fails naming the outbox file once its filesystem (a small tmpfs) is full
// and an event cannot be stored, and is nil again once space is back and
// the event is stored. Other goroutines call Ready throughout (run with
// -race).
func TestReadyFollowsOutboxWrites(t *testing.T) {
	disk := testkit.SmallDisk(t, 1<<20) // room for the 200 events below once the filler is gone
	box := filepath.Join(disk, "outbox.db")
	file := filepath.Join(t.TempDir(), "events.jsonl")
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: box}, Sinks: []config.Sink{
		testkit.Sink(config.SinkFile, "file", file),
	}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					d.Ready() //nolint:errcheck // concurrent readers
					calls.Add(1)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	first := incidenttest.Events(5)
	publishAll(t, d, first)
	await.Until(t, 20*time.Second, "the first events in the file", func() bool { return len(incidenttest.FileIDsSoFar(t, file)) == len(first) })
	if err := d.Ready(); err != nil {
		t.Fatalf("Ready with the outbox written: %v", err)
	}

	filler := filepath.Join(disk, "filler")
	testkit.Fill(t, filler)
	full := incidenttest.Events(200) // about 120 KiB: more than bbolt's free pages
	publishAll(t, d, full)
	await.Until(t, 20*time.Second, "Ready to fail on the full disk", func() bool { err = d.Ready(); return err != nil })
	if msg := err.Error(); !strings.HasPrefix(msg, "outbox: "+box+": ") || !strings.Contains(msg, "no space left") {
		t.Errorf("Ready on a full disk: %q, want it to name %s and the cause", msg, box)
	}
	time.Sleep(1500 * time.Millisecond) // a retry fails too
	if d.Ready() == nil {
		t.Error("Ready recovered while the disk was still full")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 20*time.Second, "Ready once space is back", func() bool { return d.Ready() == nil })
	await.Until(t, 20*time.Second, "every event in the file", func() bool {
		return len(incidenttest.Dedup(incidenttest.FileIDsSoFar(t, file))) == len(first)+len(full)
	})
	if err := d.Ready(); err != nil {
		t.Errorf("Ready after the events were stored: %v", err)
	}
	if calls.Load() == 0 {
		t.Error("no concurrent Ready calls ran")
	}
}
