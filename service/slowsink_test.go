package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestReadyzFollowsDeliveryLag: `vigil run` (Run) with a real webhook
// whose handler hangs (a healthy but stuck receiver: the sink's timeout
// is an hour) and camera_offline incidents to deliver. /readyz, over real
// HTTP, turns 503 naming the sink once its oldest untaken event is older
// than outbox.max_lag; the API keeps answering; Run returns within the
// shutdown bound while the webhook still hangs, and the next run delivers
// what was left in the outbox: every incident of the first run, its start
// and the end its shutdown emitted.
func TestReadyzFollowsDeliveryLag(t *testing.T) {
	var hang atomic.Bool
	hang.Store(true)
	var got atomic.Int32
	var mu sync.Mutex
	var evs []incident.Event
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev incident.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if hang.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
		got.Add(1)
	}))
	defer hook.Close()
	defer close(release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "vigil.yaml")
	var cams strings.Builder
	for i := range 5 {
		fmt.Fprintf(&cams, "  - {id: off%d, url: 'rtsp://%s/x', backoff_min: 100ms, backoff_max: 200ms, offline_grace: 300ms}\n", i, testkit.ClosedPort(t))
	}
	yaml := fmt.Sprintf("listen: %s\nstart_spread: 1ms\noutbox: {path: %s, max_lag: 1s}\nevidence: {dir: %s}\n"+
		"sinks:\n  - {name: hook, type: webhook, url: '%s', timeout: 1h}\ncameras:\n%s",
		listen, filepath.Join(dir, "outbox.db"), filepath.Join(dir, "evidence"), hook.URL, cams.String())
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() (context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Run(ctx, Options{ConfigPath: cfgPath, Events: io.Discard, Logs: io.Discard}) }()
		return cancel, done
	}
	get := func(path string) (int, string) {
		res, err := http.Get("http://" + listen + path)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	cancel, done := run()
	defer cancel()
	await.Until(t, 30*time.Second, "/readyz to report the lagging sink", func() bool {
		code, body := get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "sink hook") && strings.Contains(body, "outbox.max_lag")
	})
	if code, _ := get("/api/cameras"); code != http.StatusOK {
		t.Errorf("GET /api/cameras: %d while the sink lags", code)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30 s while the webhook hung")
	}
	t.Logf("Run returned %s after its context ended, the webhook hanging", time.Since(start).Round(time.Millisecond))
	if got.Load() != 0 {
		t.Fatalf("the hanging webhook answered %d events", got.Load())
	}

	// The next run, the webhook answering: what the first left is
	// delivered, the ends its shutdown emitted included.
	hang.Store(false)
	cancel, done = run()
	defer cancel()
	first := func() (starts, ends map[string]bool) {
		mu.Lock()
		defer mu.Unlock()
		starts, ends = map[string]bool{}, map[string]bool{}
		for _, ev := range evs {
			if ev.Type == incident.TypeStart && ev.Time.Before(start) {
				starts[ev.Data.IncidentID] = true
			}
		}
		for _, ev := range evs {
			if ev.Type == incident.TypeEnd && starts[ev.Data.IncidentID] {
				ends[ev.Data.IncidentID] = true
			}
		}
		return starts, ends
	}
	await.Until(t, 30*time.Second, "the first run's incidents delivered, each started and ended", func() bool {
		starts, ends := first()
		return len(starts) == 5 && len(ends) == 5
	})
	await.Until(t, 30*time.Second, "/readyz ok", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })
	cancel()
	<-done
}
