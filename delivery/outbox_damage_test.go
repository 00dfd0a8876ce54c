package delivery

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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

// damagedOutbox writes a real outbox holding n undelivered events (its
// only sink is down) and returns its bytes and the events' ids.
func damagedOutbox(t *testing.T, n int) ([]byte, []string) {
	t.Helper()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	path := filepath.Join(t.TempDir(), "outbox.db")
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: path}, Sinks: []config.Sink{
		testkit.Sink(config.SinkWebhook, "hook", down.URL)}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	evs := incidenttest.Events(n)
	publishAll(t, d, evs)
	await.Until(t, 20e9, "the outbox to hold every event", func() bool { c, _ := d.box.Depth(); return c == n })
	d.Close() //nolint:errcheck // events pending
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw, incidenttest.IDs(evs)
}

// openDamaged starts delivery on the outbox at path, turning a panic
// into a test failure.
func openDamaged(t *testing.T, cfg Config, log *slog.Logger) (d *Delivery, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("start panicked: %v", p)
			d, err = nil, fmt.Errorf("panic")
		}
	}()
	return testOpen(cfg, io.Discard, log)
}

// TestDamagedOutboxMovedAside: a real outbox with 300 pending events is
// damaged one page at a time (every page of the first 16, then a sample
// of the rest, each overwritten with random bytes), and a zero-length
// outbox. A start never panics; it either finds the outbox whole (the
// damage hit unused space: every event still there, in order) or reports
// it: the file (or, for one meta page, a copy) moved aside to
// <path>.damaged-<time>, an ERROR log line naming both,
// vigil_outbox_damaged_total 1, and an outbox that stores and delivers. With on_damage: refuse, the start fails with an
// error naming the file and leaves it in place.
func TestDamagedOutboxMovedAside(t *testing.T) {
	raw, ids := damagedOutbox(t, 300)
	const page = 4096
	pages := len(raw) / page
	var sample []int
	for p := range pages {
		if p < 16 || p%7 == 3 {
			sample = append(sample, p)
		}
	}
	rng := rand.New(rand.NewPCG(23, 5))
	type damage struct {
		name string
		data []byte
	}
	var cases []damage
	for _, p := range sample {
		b := bytes.Clone(raw)
		for i := p * page; i < (p+1)*page; i++ {
			b[i] = byte(rng.Uint32())
		}
		cases = append(cases, damage{fmt.Sprintf("page%d", p), b})
	}
	cases = append(cases, damage{"zero-length", nil})
	reported, whole := 0, 0
	for _, c := range cases {
		dir := t.TempDir()
		path := filepath.Join(dir, "outbox.db")
		if err := os.WriteFile(path, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "events.jsonl")
		var logs testkit.SyncBuffer
		d, err := openDamaged(t, Config{Outbox: OutboxConfig{Path: path}, Sinks: []config.Sink{testkit.Sink(config.SinkFile, "hook", file)}},
			slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Errorf("%s: start failed: %v", c.name, err)
			continue
		}
		aside, _ := filepath.Glob(path + ".damaged-*")
		if testutil.ToFloat64(d.m.damaged) == 1 {
			reported++
			if len(aside) != 1 {
				t.Errorf("%s: damage counted, but %d files moved aside", c.name, len(aside))
			}
			if !strings.Contains(logs.String(), `level=ERROR msg="outbox damaged: `) || !strings.Contains(logs.String(), "moved_to="+path+".damaged-") {
				t.Errorf("%s: no ERROR line names the damaged outbox and where it went:\n%s", c.name, logs.String())
			}
			extra := incidenttest.Events(3)
			publishAll(t, d, extra)
			await.Until(t, 20e9, "the fresh outbox to deliver", func() bool { return len(incidenttest.FileIDsSoFar(t, file)) >= 3 })
		} else {
			whole++
			if len(aside) != 0 {
				t.Errorf("%s: moved aside without being counted", c.name)
			}
			for range 100 {
				if len(incidenttest.FileIDsSoFar(t, file)) >= len(ids) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if got := strings.Join(incidenttest.Dedup(incidenttest.FileIDsSoFar(t, file)), ","); got != strings.Join(ids, ",") {
				t.Errorf("%s: damage neither reported nor harmless: %d events delivered of %d\n%s", c.name, len(incidenttest.Dedup(incidenttest.FileIDsSoFar(t, file))), len(ids), logs.String())
			}
		}
		if err := d.Close(); err != nil {
			t.Errorf("%s: close: %v", c.name, err)
		}
	}
	t.Logf("%d damages: %d reported and moved aside, %d in unused space", len(cases), reported, whole)
	if reported == 0 {
		t.Error("no damage was reported")
	}

	// on_damage: refuse.
	path := filepath.Join(t.TempDir(), "outbox.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := openDamaged(t, Config{Outbox: OutboxConfig{Path: path, OnDamage: config.DamageRefuse}}, testLog(t))
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "on_damage") {
		t.Errorf("on_damage refuse: %v, want an error naming %s and on_damage", err, path)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("on_damage refuse touched the file: %v", err)
	}
}
