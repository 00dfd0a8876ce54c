package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestScrapeSurvivesSlowEngine: a /metrics that times out twice is retried
// and read on the third try, counted in the result; one that never answers
// marks the sample as failed and returns no data, without an error that
// would end the run.
func TestScrapeSurvivesSlowEngine(t *testing.T) {
	var calls atomic.Int32
	slowFirst := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) <= 2 {
			time.Sleep(300 * time.Millisecond) // past the client's timeout
		}
		w.Write([]byte("# TYPE vigil_camera_up gauge\nvigil_camera_up{camera=\"a\"} 1\n")) //nolint:errcheck
	}))
	defer slowFirst.Close()
	client := &http.Client{Timeout: 100 * time.Millisecond}
	var r LiveResult
	s := r.scrapeSample(context.Background(), client, strings.TrimPrefix(slowFirst.URL, "http://"), "start")
	if s == nil || s.sum("vigil_camera_up") != 1 || r.ScrapeRetries != 2 || len(r.ScrapeFailed) != 0 {
		t.Fatalf("after two slow scrapes: sample %v, retries %d, failed %v", s != nil, r.ScrapeRetries, r.ScrapeFailed)
	}

	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer dead.Close()
	if s := r.scrapeSample(context.Background(), client, strings.TrimPrefix(dead.URL, "http://"), "end"); s != nil {
		t.Fatal("a sample from an engine that never answered")
	}
	if len(r.ScrapeFailed) != 1 || r.ScrapeFailed[0] != "end" {
		t.Fatalf("failed samples %v", r.ScrapeFailed)
	}
}
