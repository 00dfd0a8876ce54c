package engine

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-video/vigil/api"
)

// TestReadyz: /readyz is 503 "starting" until Start has finished, 200
// while running, 503 naming the outbox while Options.Ready fails, and 503
// "shutting down" once Close has begun; /livez stays 200 throughout.
func TestReadyz(t *testing.T) {
	var mu sync.Mutex
	var outboxErr error
	cfg := testConfig(cameraConfig("cam", "rtsp://"+closedPort(t)+"/x"))
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}, Ready: func() error {
		mu.Lock()
		defer mu.Unlock()
		return outboxErr
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The engine's routes served on loopback before Start and after Close
	// (its own listener exists only in between).
	outside := httptest.NewServer(api.Routes(api.Config{Registry: e.Registry()}, e))
	defer outside.Close()
	expect := func(base, path string, code int, body string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != code || !strings.Contains(string(b), body) {
			t.Errorf("GET %s: %d %q, want %d %q", path, res.StatusCode, b, code, body)
		}
	}
	expect(outside.URL, "/readyz", 503, "not ready: starting")
	expect(outside.URL, "/livez", 200, "ok")
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	running := "http://" + e.Addr()
	expect(running, "/readyz", 200, "ok")
	mu.Lock()
	outboxErr = errors.New("outbox: /var/lib/vigil/outbox.db: 0 bytes free on its filesystem")
	mu.Unlock()
	expect(running, "/readyz", 503, "not ready: outbox: /var/lib/vigil/outbox.db: 0 bytes free")
	expect(running, "/livez", 200, "ok")
	mu.Lock()
	outboxErr = nil
	mu.Unlock()
	expect(running, "/readyz", 200, "ok")
	e.Close()
	expect(outside.URL, "/readyz", 503, "not ready: shutting down")
}
