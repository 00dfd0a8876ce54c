package api

import (
	"bufio"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/config"
)

// TestCloseEndsLiveStreams: a client of the live stream (an open console)
// does not hold the server's Close for its 5 s grace (after which Wait
// would report the shutdown's error): Close ends the stream and Wait
// reports a clean stop.
func TestCloseEndsLiveStreams(t *testing.T) {
	hub := NewEventHub(4, nil)
	s := New(Config{Listen: "127.0.0.1:0", Registry: prometheus.NewRegistry(), Live: hub, Limits: httpLimits(func(*config.HTTPConfig) {})}, slowEngine{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/api/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
		}
		res.Body.Close()
	}()
	s.Close()
	if err := s.Wait(); err != nil {
		t.Errorf("Wait after Close with a live client: %v, want a clean stop", err)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Error("the client's stream did not end")
	}
}
