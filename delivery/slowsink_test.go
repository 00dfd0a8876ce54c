package delivery

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/outbox"
)

// incidentsOf returns n incidents on cameras cam0..cam9, each a start,
// updates updates and an end, interleaved as analysis emits them.
func incidentsOf(n, updates int) []incident.Event {
	var out []incident.Event
	for step := 0; step < updates+2; step++ {
		for i := range n {
			typ := incident.TypeUpdate
			switch step {
			case 0:
				typ = incident.TypeStart
			case updates + 1:
				typ = incident.TypeEnd
			}
			cam := fmt.Sprintf("cam%d", i%10)
			out = append(out, incident.New(typ, incident.Incident{IncidentID: fmt.Sprintf("inc-%d", i), Camera: cam, Kind: "motion",
				FrameTimeSource: incident.TimeReceipt, StartedAt: time.Now(), FrameTime: time.Now(), Score: 0.5}, time.Now()))
		}
	}
	return out
}

// hangingHook is a real webhook receiver whose handler blocks until
// released (or the client gives up); once released it answers at once
// and records what it got.
type hangingHook struct {
	srv      *httptest.Server
	release  chan struct{}
	inFlight atomic.Int32
	mu       sync.Mutex
	got      []string
}

func newHangingHook(t *testing.T) *hangingHook {
	h := &hangingHook{release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev incident.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.inFlight.Add(1)
		defer h.inFlight.Add(-1)
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		}
		h.mu.Lock()
		h.got = append(h.got, ev.ID)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hangingHook) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return incidenttest.Dedup(h.got)
}

// TestSlowSinkNeverBlocksAnalysis: a healthy webhook that hangs on its
// first event (its handler blocks on a channel the test holds; the sink's
// timeout is an hour, so it is slow, not failing), a small outbox and a
// small queue. Publishing 50 incidents (850 events) returns while the
// handler is still blocked; nothing the healthy sink has not taken is
// evicted (while publishing, nor at shutdown); what gives way is update
// events, each counted per sink and reason and logged; Ready turns not
// ready naming the sink once it lags past outbox.max_lag; Shutdown returns
// while the webhook still hangs; the next run on the same outbox delivers
// every start and end, and every event is either delivered or counted as
// dropped, in order per camera.
func TestSlowSinkNeverBlocksAnalysis(t *testing.T) {
	hook := newHangingHook(t)
	path := filepath.Join(t.TempDir(), "outbox.db")
	evs := incidentsOf(50, 15)
	one, _ := json.Marshal(evs[0])
	budget := int64(40 * (len(one) + 40))
	hookSink := testkit.Sink(config.SinkWebhook, "hook", hook.srv.URL, func(s *config.Sink) { s.Timeout, s.BackoffMin = time.Hour, 10*time.Millisecond })
	var logs testkit.SyncBuffer
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: path, MaxBytes: budget, MaxLag: time.Second},
		Sinks: []config.Sink{hookSink}, queueEvents: 128}, io.Discard, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close() //nolint:errcheck
		}
	}()
	if err := d.Publish(evs[0]); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 20*time.Second, "the webhook to hold the first event", func() bool { return hook.inFlight.Load() == 1 })

	published := make(chan struct{})
	go func() {
		defer close(published)
		for _, ev := range evs[1:] {
			if err := d.Publish(ev); err != nil {
				t.Errorf("Publish: %v", err)
			}
		}
	}()
	select {
	case <-published:
	case <-time.After(60 * time.Second):
		t.Fatal("Publish blocked on the slow sink")
	}
	if n := hook.inFlight.Load(); n != 1 || len(hook.ids()) != 0 {
		t.Fatalf("the webhook is no longer held (%d in flight, %d answered): Publish was not tested against a blocked sink", n, len(hook.ids()))
	}

	// Ready names the sink once it is past max_lag, before the queue in
	// front of the outbox (which may be waiting on it: CI once saw
	// "events wait 1s to be stored" while the sink held everything).
	var msg string
	await.Until(t, 20*time.Second, "Ready to name the lagging sink", func() bool {
		err := d.Ready()
		if err != nil {
			msg = err.Error()
		}
		return err != nil && strings.Contains(msg, "sink hook")
	})
	if !strings.Contains(msg, "outbox.max_lag") {
		t.Errorf("Ready: %q, want it to name the sink and outbox.max_lag", msg)
	}
	noEvictions := func(when string) {
		t.Helper()
		for _, reason := range []string{"update", "oldest"} {
			if v := testutil.ToFloat64(d.m.dropped.WithLabelValues(reason)); v != 0 {
				t.Errorf("%s: %g events evicted (%s) from a healthy sink's backlog", when, v, reason)
			}
		}
		if v := testutil.ToFloat64(d.m.sinkDropped.WithLabelValues("hook", outbox.DropOutboxFull)); v != 0 {
			t.Errorf("%s: %g events evicted before the healthy sink had them", when, v)
		}
	}
	noEvictions("while publishing")
	dropped := func() float64 {
		return testutil.ToFloat64(d.m.dropped.WithLabelValues(outbox.DropOverflow)) + testutil.ToFloat64(d.m.dropped.WithLabelValues(outbox.DropQueueFull))
	}
	perSink := testutil.ToFloat64(d.m.sinkDropped.WithLabelValues("hook", outbox.DropOverflow)) +
		testutil.ToFloat64(d.m.sinkDropped.WithLabelValues("hook", outbox.DropQueueFull))
	if dropped() == 0 || perSink != dropped() {
		t.Errorf("drops: %g counted, %g against the sink; want some, each counted against it", dropped(), perSink)
	}

	err = d.Close()
	rep := d.Report()
	closed = true
	if err != nil {
		t.Errorf("Close: %v", err)
	}
	t.Logf("shutdown took %s with the webhook hanging; %d pending, %g dropped", rep.Took, rep.Pending, dropped())
	if rep.Took > 20*time.Second {
		t.Errorf("shutdown took %s with the webhook hanging, want its ~10 s bound", rep.Took)
	}
	if len(hook.ids()) != 0 {
		t.Errorf("the webhook answered during the test (%d answered)", len(hook.ids()))
	}
	if rep.NotStored != 0 || rep.Pending == 0 {
		t.Errorf("shutdown: %d not stored, %d pending; want everything queued stored for the next run", rep.NotStored, rep.Pending)
	}
	noEvictions("at shutdown")
	if !strings.Contains(logs.String(), "not stored") || !strings.Contains(logs.String(), "sink=hook") {
		t.Errorf("no log line counts the dropped events:\n%s", logs.String())
	}

	// The next run, with the webhook answering.
	close(hook.release)
	d2, err := testOpen(Config{Outbox: OutboxConfig{Path: path, MaxBytes: budget}, Sinks: []config.Sink{hookSink}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	want := len(evs) - int(dropped())
	await.Until(t, 60*time.Second, "the next run to deliver what was kept", func() bool { return len(hook.ids()) >= want })
	got := hook.ids()
	if len(got) != want {
		t.Errorf("%d events delivered + %g dropped, want all %d accounted for", len(got), dropped(), len(evs))
	}
	delivered := map[string]bool{}
	for _, id := range got {
		delivered[id] = true
	}
	for _, ev := range evs {
		if ev.Type != incident.TypeUpdate && !delivered[ev.ID] {
			t.Errorf("a %s event was lost", ev.Type)
		}
	}
	// In order per camera: the delivered ids are a subsequence of what
	// was published.
	pos := map[string]int{}
	for i, ev := range evs {
		pos[ev.ID] = i
	}
	last := map[string]int{}
	for _, id := range got {
		i := pos[id]
		cam := evs[i].Data.Camera
		if p, ok := last[cam]; ok && i < p {
			t.Errorf("camera %s: events out of order", cam)
			break
		}
		last[cam] = i
	}
}

// TestShutdownBoundedWhenSinkIgnoresContext: the stdout sink writes to a
// real pipe nobody reads (a wedged `vigil run | consumer`), so its write
// blocks in the kernel and no context can stop it. Publish still returns,
// Shutdown returns within its bound, says which sink it left behind, and
// what the sink had not acknowledged stays in the outbox: the next run
// delivers it.
func TestShutdownBoundedWhenSinkIgnoresContext(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	path := filepath.Join(t.TempDir(), "outbox.db")
	var logs testkit.SyncBuffer
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: path}}, pw, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	evs := incidentsOf(40, 8) // 400 events of about 600 bytes: more than the pipe holds
	publishAll(t, d, evs)
	await.Until(t, 20*time.Second, "the pipe to fill", func() bool { n, _ := d.box.Depth(); q, _ := d.queue.depth(); return n > 0 && q == 0 })
	err = d.Close()
	rep := d.Report()
	if err != nil {
		t.Errorf("Close: %v", err)
	}
	t.Logf("shutdown took %s with the sink wedged in a write; %d pending", rep.Took, rep.Pending)
	if rep.Took > 20*time.Second {
		t.Errorf("shutdown took %s, want its ~10 s bound", rep.Took)
	}
	if rep.Pending == 0 || rep.NotStored != 0 {
		t.Errorf("shutdown: %d pending, %d not stored; want the backlog kept", rep.Pending, rep.NotStored)
	}
	if !strings.Contains(logs.String(), `msg="sinks did not stop within the shutdown bound; left behind"`) {
		t.Errorf("no log line says a sink was left behind:\n%s", logs.String())
	}

	// Unwedge the old sink (its write completes into the void), then the
	// next run delivers the backlog.
	go io.Copy(io.Discard, pr) //nolint:errcheck
	file := filepath.Join(t.TempDir(), "events.jsonl")
	d2, err := testOpen(Config{Outbox: OutboxConfig{Path: path}, Sinks: []config.Sink{testkit.Sink(config.SinkFile, "stdout", file)}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	await.Until(t, 20*time.Second, "the next run to deliver the backlog", func() bool { return len(incidenttest.FileIDsSoFar(t, file)) >= rep.Pending })
}

// TestHandoffCountsHeldBatch: the batch the outbox writer has taken but
// not stored (it waits for room) still counts as queued, for readiness,
// the queue gauge and shedding.
func TestHandoffCountsHeldBatch(t *testing.T) {
	h := newHandoff(8)
	t0 := time.Unix(100, 0)
	for i := range 5 {
		h.put(incident.Event{Type: incident.TypeStart}, t0.Add(time.Duration(i)*time.Second))
	}
	batch, _ := h.take(nil, 8)
	if len(batch) != 5 {
		t.Fatalf("took %d, want 5", len(batch))
	}
	if n, at := h.depth(); n != 5 || !at.Equal(t0) {
		t.Errorf("while held: depth %d since %v, want 5 since %v", n, at, t0)
	}
	if !h.filling() {
		t.Error("5 of 8 held: not filling")
	}
	h.stored()
	if n, _ := h.depth(); n != 0 || h.filling() {
		t.Errorf("after stored: depth %d, filling %v", n, h.filling())
	}
}

// TestUnencodableEventDropped: an event JSON cannot encode (a NaN score)
// is dropped and counted; the events after it are delivered (it used to
// fail its whole batch, retried every second for ever).
func TestUnencodableEventDropped(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "events.jsonl")
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(dir, "o.db")},
		Sinks: []config.Sink{testkit.Sink(config.SinkFile, "file", file)}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	evs := incidenttest.Events(6)
	evs[3].Data.Score = math.NaN()
	publishAll(t, d, evs)
	want := append(incidenttest.IDs(evs[:3]), incidenttest.IDs(evs[4:])...)
	await.Until(t, 20*time.Second, "the events after the unencodable one", func() bool { return len(incidenttest.FileIDsSoFar(t, file)) >= len(want) })
	if got := incidenttest.FileIDsSoFar(t, file); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("file sink got %v, want %v", got, want)
	}
	if v := testutil.ToFloat64(d.m.sinkDropped.WithLabelValues("file", outbox.DropUnencodable)); v != 1 {
		t.Errorf("%g unencodable events counted for the file sink, want 1", v)
	}
}
