package delivery

import (
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sinks"
)

// TestNewStartsNothing: New opens the outbox and the sinks but starts no
// goroutine: what is published waits in the queue, stored by nobody,
// until Start; then every OnStored hook, in the order they were given,
// sees every event in order, and the sink gets them all. Close returns
// once, and Wait and Report give its result.
func TestNewStartsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	cfg := completeDelivery(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "o.db")},
		Sinks: []config.Sink{testkit.Sink(config.SinkFile, "file", path)}})
	d, err := New(cfg, sinks.Env{Stdout: io.Discard}.Open, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var first, second []string
	d.OnStored(func(ev incident.Event) { mu.Lock(); first = append(first, ev.ID); mu.Unlock() })
	d.OnStored(func(ev incident.Event) {
		mu.Lock()
		defer mu.Unlock()
		if len(second) == len(first) {
			t.Errorf("event %s: the second hook ran before the first", ev.ID)
		}
		second = append(second, ev.ID)
	})
	evs := incidenttest.Events(12)
	publishAll(t, d, evs)
	time.Sleep(200 * time.Millisecond) // what a started writer would need to store them
	if n, _ := d.box.Depth(); n != 0 || d.box.LastSeq() != 0 {
		t.Fatalf("before Start: %d events stored (last sequence %d), want none", n, d.box.LastSeq())
	}
	if q, _ := d.queue.depth(); q != len(evs) {
		t.Fatalf("before Start: %d events queued, want %d", q, len(evs))
	}
	d.Start()
	d.Start() // a second call does nothing
	await.Until(t, 20*time.Second, "every event in the file", func() bool { return deliveredCount(d, "file") >= float64(len(evs)) })
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
	if rep := d.Report(); rep.NotStored != 0 || rep.Pending != 0 {
		t.Errorf("report %+v, want nothing lost or pending", rep)
	}
	want := incidenttest.IDs(evs)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(first, want) || !slices.Equal(second, want) {
		t.Errorf("the hooks saw %d and %d events, want both all %d in order", len(first), len(second), len(want))
	}
	if got := incidenttest.FileIDs(t, path); !slices.Equal(got, want) {
		t.Errorf("the file holds %d events, want all %d in order", len(got), len(want))
	}
}

// TestCloseUnstarted: Close on a Delivery never started stores what was
// published (it starts it first) instead of hanging or losing it.
func TestCloseUnstarted(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "o.db")
	cfg := completeDelivery(Config{Outbox: OutboxConfig{Path: dbPath}})
	d, err := New(cfg, sinks.Env{Stdout: io.Discard}.Open, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	publishAll(t, d, incidenttest.Events(5))
	done := make(chan error, 1)
	go func() { done <- d.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close of an unstarted Delivery did not return")
	}
	if rep := d.Report(); rep.NotStored != 0 {
		t.Errorf("%d events not stored, want 0", rep.NotStored)
	}
}
