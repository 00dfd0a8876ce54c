package delivery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// logLines returns the JSON log lines with the message msg, per sink.
func logLines(t *testing.T, logs string, msg string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			s, _ := m["sink"].(string)
			out[s] = append(out[s], m)
		}
	}
	return out
}

// TestSinkFailureLoggedOncePerInterval: a sink that is down, one that
// refuses every event and one that fails every event once each log one
// ERROR line per sink, not one per event or attempt; the flapping one
// logs its recovery once.
func TestSinkFailureLoggedOncePerInterval(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer refuse.Close()
	var mu sync.Mutex
	seen := map[string]bool{}
	flap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev incident.Event
		json.NewDecoder(r.Body).Decode(&ev) //nolint:errcheck
		mu.Lock()
		defer mu.Unlock()
		if !seen[ev.ID] {
			seen[ev.ID] = true
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	defer flap.Close()
	fast := testkit.Backoff(5*time.Millisecond, 10*time.Millisecond)
	var logs testkit.SyncBuffer
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "o.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkWebhook, "down", fmt.Sprintf("http://127.0.0.1:%d/", testkit.FreePort(t)), fast),
		testkit.Sink(config.SinkWebhook, "refuses", refuse.URL, fast),
		testkit.Sink(config.SinkWebhook, "flaps", flap.URL, fast),
	}}, io.Discard, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	publishAll(t, d, incidenttest.Events(n))
	await.Until(t, 20*time.Second, "every event refused, every event through the flapping sink, the dead one retried", func() bool {
		return counterValue(d.m.failed.WithLabelValues("refuses")) >= n && deliveredCount(d, "flaps") >= n &&
			testutil.ToFloat64(d.m.retried.WithLabelValues("down")) >= 3*n
	})
	d.Close()
	errs := logLines(t, logs.String(), "sink delivery failing")
	for _, sink := range []string{"down", "refuses", "flaps"} {
		if len(errs[sink]) != 1 {
			t.Errorf("sink %s: %d ERROR lines, want 1 for the interval:\n%s", sink, len(errs[sink]), logs.String())
			continue
		}
		if errs[sink][0]["level"] != "ERROR" {
			t.Errorf("sink %s: level %v", sink, errs[sink][0]["level"])
		}
	}
	if got := logLines(t, logs.String(), "sink delivering again"); len(got["flaps"]) != 1 || len(got["refuses"]) != 0 {
		t.Errorf("recoveries logged: flaps %d, refuses %d; want 1 and 0", len(got["flaps"]), len(got["refuses"]))
	}
}

// TestFailLogSummarizesTheInterval: the next line after an interval
// counts the failures it did not log.
func TestFailLogSummarizesTheInterval(t *testing.T) {
	var logs testkit.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil)).With("sink", "s")
	var f failLog
	ev := incidenttest.Events(1)[0]
	t0 := time.Now()
	for i := range 30 {
		f.failed(log, &ev, errors.New("down"), i%3 == 0, time.Second, t0.Add(time.Duration(i)*time.Second))
	}
	lines := logLines(t, logs.String(), "sink delivery failing")["s"]
	if len(lines) != 1 {
		t.Fatalf("%d lines in 30 s, want 1", len(lines))
	}
	f.failed(log, &ev, errors.New("down"), false, time.Second, t0.Add(sinkLogInterval))
	lines = logLines(t, logs.String(), "sink delivery failing")["s"]
	if len(lines) != 2 {
		t.Fatalf("%d lines after the interval, want 2", len(lines))
	}
	// 29 suppressed (9 refused of them) plus this one.
	if lines[1]["failed_attempts"] != float64(20+1) || lines[1]["refused_events"] != float64(9) {
		t.Errorf("second line counts %v attempts and %v refused, want 21 and 9", lines[1]["failed_attempts"], lines[1]["refused_events"])
	}
}
