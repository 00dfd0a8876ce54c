package delivery

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink/webhook"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// receiver records event ids in arrival order.
type receiver struct {
	mu  sync.Mutex
	ids []string
	cam map[string][]string
}

func newReceiver() *receiver { return &receiver{cam: map[string][]string{}} }

func (r *receiver) add(ev incident.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, ev.ID)
	r.cam[ev.Data.Camera] = append(r.cam[ev.Data.Camera], ev.ID)
}

// check waits until every event arrived, then asserts each camera's order.
func (r *receiver) check(t *testing.T, evs []incident.Event, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		got := map[string]bool{}
		for _, id := range r.ids {
			got[id] = true
		}
		r.mu.Unlock()
		missing := 0
		for _, ev := range evs {
			if !got[ev.ID] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events never arrived", missing, len(evs))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	want := map[string][]string{}
	for _, ev := range evs {
		want[ev.Data.Camera] = append(want[ev.Data.Camera], ev.ID)
	}
	for cam, ids := range want {
		// Duplicates are allowed (at least once); order is not negotiable.
		var dedup []string
		seen := map[string]bool{}
		for _, id := range r.cam[cam] {
			if !seen[id] {
				seen[id] = true
				dedup = append(dedup, id)
			}
		}
		if strings.Join(dedup, ",") != strings.Join(ids, ",") {
			t.Errorf("camera %s: events out of order", cam)
		}
	}
}

func publishAll(t *testing.T, d *Delivery, evs []incident.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := d.Publish(ev); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWebhookOutageLosesNothing: the receiver fails while events are
// produced, then recovers: every event arrives, in order per camera, signed.
func TestWebhookOutageLosesNothing(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	rec := newReceiver()
	var badSig, refused atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if down.Load() {
			refused.Add(1)
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if err := webhook.Verify(testSecret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			badSig.Add(1)
		}
		if r.Header.Get("Content-Type") != "application/cloudevents+json" || r.Header.Get("Authorization") != "Bearer tok-123" {
			http.Error(w, "bad headers", http.StatusBadRequest)
			return
		}
		var ev incident.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec.add(ev)
	}))
	defer srv.Close()
	cfg := Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "outbox.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkWebhook, "hook", srv.URL, testkit.Backoff(20*time.Millisecond, 100*time.Millisecond), func(s *config.Sink) {
			s.Webhook.Secret, s.Webhook.BearerToken = testSecret, "tok-123"
		}),
	}}
	d, err := testOpen(cfg, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var stored atomic.Int32
	d.OnStored(func(incident.Event) { stored.Add(1) })
	evs := incidenttest.Events(30)
	publishAll(t, d, evs)
	// Every event stored, and the sink refused three times since: a sink
	// that took a refusal for an answer would have let three go.
	await.Until(t, 20*time.Second, "every event stored", func() bool { return stored.Load() == 30 })
	after := refused.Load()
	await.Until(t, 20*time.Second, "three refusals", func() bool { return refused.Load() >= after+3 })
	if n, _ := d.box.Depth(); n != 30 {
		t.Errorf("outbox holds %d events while the receiver is down, want 30", n)
	}
	down.Store(false)
	rec.check(t, evs, 20*time.Second)
	if badSig.Load() != 0 {
		t.Errorf("%d requests failed signature verification", badSig.Load())
	}
	if v := testutil.ToFloat64(d.m.retried.WithLabelValues("hook")); v < 1 {
		t.Errorf("retries not counted: %g", v)
	}
	await.Until(t, 20*time.Second, "the outbox to empty", func() bool { n, _ := d.box.Depth(); return n == 0 })
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.Collectors()...)
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("metrics lint: %v %v", err, problems)
	}
}

// TestCrashLosesNothing: a process publishes events while its sink is down
// and is killed with SIGKILL; a new process on the same outbox delivers
// every event, in order.
func TestCrashLosesNothing(t *testing.T) {
	if os.Getenv("VIGIL_OUTBOX_CHILD") != "" {
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "outbox.db")
	dead := fmt.Sprintf("http://127.0.0.1:%d/hook", testkit.FreePort(t))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "VIGIL_OUTBOX_CHILD="+path, "VIGIL_OUTBOX_URL="+dead)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "published "); ok {
			ids = append(ids, id)
		}
		if line == "all published" {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
	cmd.Wait()                          //nolint:errcheck // killed
	if len(ids) != 25 {
		t.Fatalf("child published %d events", len(ids))
	}

	rec := newReceiver()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev incident.Event
		json.NewDecoder(r.Body).Decode(&ev) //nolint:errcheck
		rec.add(ev)
	}))
	defer srv.Close()
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: path}, Sinks: []config.Sink{
		testkit.Sink(config.SinkWebhook, "hook", srv.URL, func(s *config.Sink) { s.BackoffMin = 20 * time.Millisecond }),
	}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	await.Until(t, 20*time.Second, "every event after the restart", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.ids) >= len(ids)
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if strings.Join(rec.ids[:len(ids)], ",") != strings.Join(ids, ",") {
		t.Fatalf("after the crash: got %v\nwant %v", rec.ids, ids)
	}
}

// TestCrashChild is the process TestCrashLosesNothing kills.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("VIGIL_OUTBOX_CHILD")
	if path == "" {
		t.Skip("helper process")
	}
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: path}, Sinks: []config.Sink{
		testkit.Sink(config.SinkWebhook, "hook", os.Getenv("VIGIL_OUTBOX_URL"), func(s *config.Sink) { s.BackoffMin = 20 * time.Millisecond }),
	}}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := incidenttest.Events(25)
	for _, ev := range evs {
		d.Publish(ev) //nolint:errcheck
	}
	await.Until(t, 20*time.Second, "the outbox to hold every event", func() bool { n, _ := d.box.Depth(); return n == len(evs) })
	for _, ev := range evs {
		fmt.Println("published", ev.ID)
	}
	fmt.Println("all published")
	time.Sleep(time.Minute) // killed before this ends
}

// TestOutboxBudgetDropsUpdatesFirst: with the sink down and the outbox
// full, the oldest update events go first, then the oldest events.
func TestOutboxBudgetDropsUpdatesFirst(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	dead := down.URL
	one, _ := json.Marshal(incidenttest.Events(1)[0])
	rec := len(one) + 40 // record overhead: type, time
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "o.db"), MaxBytes: int64(10 * rec)},
		Sinks: []config.Sink{testkit.Sink(config.SinkWebhook, "hook", dead, func(s *config.Sink) { s.BackoffMin = time.Hour })}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	evs := incidenttest.Events(20) // 3 starts, 14 updates, 3 ends
	publishAll(t, d, evs)
	await.Until(t, 20*time.Second, "the writes", func() bool {
		return testutil.ToFloat64(d.m.dropped.WithLabelValues("update"))+testutil.ToFloat64(d.m.dropped.WithLabelValues("oldest")) >= 10
	})
	recs, err := d.box.Next(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]int{}
	for _, r := range recs {
		kept[r.Type]++
	}
	if kept[incident.TypeStart] != 3 || kept[incident.TypeEnd] != 3 {
		t.Errorf("kept %v: starts and ends must survive while updates can be dropped", kept)
	}
	if v := testutil.ToFloat64(d.m.dropped.WithLabelValues("oldest")); v != 0 {
		t.Errorf("%g non-update events dropped while updates remained", v)
	}
	// Only starts and ends left to drop: now the oldest go.
	more := incidenttest.Events(20)
	for i := range more {
		more[i].Type = incident.TypeStart
	}
	publishAll(t, d, more[:12])
	await.Until(t, 20*time.Second, "oldest drops", func() bool { return testutil.ToFloat64(d.m.dropped.WithLabelValues("oldest")) > 0 })
}
