package outbox

import (
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
)

func testOutbox(t *testing.T, cfg config.Outbox, sinks []string, onDrop func([]Drop, map[SinkReason]int)) *Outbox {
	t.Helper()
	o, err := Open(cfg, sinks, slog.New(slog.DiscardHandler), onDrop, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOrderCursorsAndReopen: a real outbox file keeps the events in
// order, deletes what every sink has acknowledged, and across a reopen
// keeps each sink's cursor, starts a sink added since after what is
// stored, forgets a sink that is gone, and never reuses a sequence number.
func TestOrderCursorsAndReopen(t *testing.T) {
	cfg := config.DefaultOutbox()
	cfg.Path = filepath.Join(t.TempDir(), "outbox.db")
	o := testOutbox(t, cfg, []string{"a", "b"}, nil)
	evs := incidenttest.Events(10)
	if n, kept, err := o.Append(evs, false, false); n != 10 || len(kept) != 10 || err != nil {
		t.Fatalf("Append: %d taken, %d kept, %v; want 10, 10, nil", n, len(kept), err)
	}
	recs, err := o.Next(0, 100)
	if err != nil || len(recs) != 10 {
		t.Fatalf("Next: %d records, %v; want 10", len(recs), err)
	}
	for i, r := range recs {
		var ev incident.Event
		if err := json.Unmarshal(r.JSON, &ev); err != nil || r.Seq != uint64(i+1) || ev.ID != evs[i].ID || r.Type != evs[i].Type {
			t.Fatalf("record %d: seq %d, type %s, id %s (%v); want seq %d, %s %s", i, r.Seq, r.Type, ev.ID, err, i+1, evs[i].Type, evs[i].ID)
		}
	}
	if err := o.Ack("a", 10); err != nil {
		t.Fatal(err)
	}
	if err := o.Ack("b", 4); err != nil {
		t.Fatal(err)
	}
	if n, _ := o.Depth(); n != 6 {
		t.Fatalf("%d events kept once a has all and b 4, want 6", n)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	o = testOutbox(t, cfg, []string{"b", "c"}, nil) // a gone, c added
	if c, _ := o.Cursor("c"); c != 10 {
		t.Errorf("the added sink starts after %d, want after what is stored (10)", c)
	}
	if c, _ := o.Cursor("b"); c != 4 {
		t.Errorf("b's cursor %d after a reopen, want 4", c)
	}
	if err := o.Ack("b", 10); err != nil {
		t.Fatal(err)
	}
	if n, _ := o.Depth(); n != 0 {
		t.Errorf("%d events kept once every sink has them, want 0", n)
	}
	o.Close() //nolint:errcheck

	o = testOutbox(t, cfg, []string{"b", "c"}, nil)
	defer o.Close()
	if _, _, err := o.Append(incidenttest.Events(1), false, false); err != nil {
		t.Fatal(err)
	}
	if s := o.LastSeq(); s != 11 {
		t.Errorf("an emptied outbox reopened stores at sequence %d, want 11 (never back)", s)
	}
}

// TestFullWaitsForHealthySinks: when an event does not fit in max_bytes,
// nothing a healthy sink has not taken is evicted (ErrFull: wait); once
// the sink fails, its backlog is evicted, updates first, each drop
// counted against it.
func TestFullWaitsForHealthySinks(t *testing.T) {
	evs := incidenttest.Events(12)
	one, _ := json.Marshal(evs[0])
	cfg := config.DefaultOutbox()
	cfg.Path = filepath.Join(t.TempDir(), "outbox.db")
	cfg.MaxBytes = int64(4 * (len(one) + 40))
	var drops []Drop
	perSink := map[SinkReason]int{}
	o := testOutbox(t, cfg, []string{"a"}, func(d []Drop, s map[SinkReason]int) {
		drops = append(drops, d...)
		for k, v := range s {
			perSink[k] += v
		}
	})
	defer o.Close()
	n, _, err := o.Append(evs, false, false)
	if !errors.Is(err, ErrFull) || n == 0 || n >= len(evs) {
		t.Fatalf("Append past the budget with a healthy sink: %d taken, %v; want some, then ErrFull", n, err)
	}
	if len(drops) != 0 {
		t.Fatalf("%d events evicted from a healthy sink's backlog", len(drops))
	}
	o.SetFailing("a", true)
	rest := evs[n:]
	m, _, err := o.Append(rest, false, false)
	if err != nil || m != len(rest) {
		t.Fatalf("Append with the sink failing: %d of %d taken, %v", m, len(rest), err)
	}
	if len(drops) == 0 || drops[0].Reason != "update" {
		t.Fatalf("drops %+v, want evictions, updates first", drops)
	}
	if perSink[SinkReason{Sink: "a", Reason: DropOutboxFull}] != len(drops) {
		t.Errorf("%d drops counted against the failing sink, want %d", perSink[SinkReason{Sink: "a", Reason: DropOutboxFull}], len(drops))
	}
}
