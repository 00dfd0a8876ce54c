package api

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestServerLifecycle: New listens on nothing, Close before Start returns
// and Wait then reports a clean stop; after Start, a request still running
// when Close gives up (5 s) is what Wait reports.
func TestServerLifecycle(t *testing.T) {
	addr := testkit.ClosedPort(t)
	s := New(Config{Listen: addr, Registry: prometheus.NewRegistry()}, slowEngine{})
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("New listens on %s", addr)
	}
	s.Close()
	if err := s.Wait(); err != nil {
		t.Errorf("Wait after Close without Start: %v", err)
	}

	held := make(chan struct{})
	release := make(chan struct{})
	live := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(held)
		<-release
	})
	defer close(release)
	s = New(Config{Listen: "127.0.0.1:0", Registry: prometheus.NewRegistry(), Live: live, Limits: httpLimits(func(*config.HTTPConfig) {})}, slowEngine{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+s.Addr()+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	<-held
	s.Close()
	s.Close()
	if err := s.Wait(); err == nil {
		t.Error("Wait after a Close that cut a request: nil, want the shutdown's error")
	}
}
