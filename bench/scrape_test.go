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

// TestScrapeSteps: the cameras are counted per clip and rung, by their
// index (cam001 is the first clip's); a camera the engine does not report
// is left out.
func TestScrapeSteps(t *testing.T) {
	text := "# TYPE vigil_camera_overload_step gauge\n" +
		"vigil_camera_overload_step{camera=\"cam001\"} 1\n" +
		"vigil_camera_overload_step{camera=\"cam002\"} 3\n" +
		"vigil_camera_overload_step{camera=\"cam003\"} 3\n" +
		"vigil_camera_overload_step{camera=\"cam004\"} 0\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(text)) //nolint:errcheck
	}))
	defer srv.Close()
	s, err := scrapeMetrics(srv.Client(), strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	got := s.steps([]string{"busy", "idle", "idle", "idle", "idle"})
	if got["busy"]["reduced"] != 1 || got["idle"]["sparse"] != 2 || got["idle"]["full"] != 1 || len(got["idle"]) != 2 || len(got["busy"]) != 1 {
		t.Fatalf("steps %v", got)
	}
	if f := formatSteps(got); f != "busy: reduced 1; idle: full 1, sparse 2" {
		t.Fatalf("formatSteps: %q", f)
	}
}

// TestPerClipDelta: a counter's growth is summed per clip between two
// samples; a camera absent from the first counts from zero.
func TestPerClipDelta(t *testing.T) {
	serve := func(text string) *scrape {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("# TYPE vigil_camera_wakeups_total counter\n" + text)) //nolint:errcheck
		}))
		defer srv.Close()
		s, err := scrapeMetrics(srv.Client(), strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s0 := serve("vigil_camera_wakeups_total{camera=\"cam001\"} 5\nvigil_camera_wakeups_total{camera=\"cam002\"} 1\n")
	s1 := serve("vigil_camera_wakeups_total{camera=\"cam001\"} 7\nvigil_camera_wakeups_total{camera=\"cam002\"} 4\nvigil_camera_wakeups_total{camera=\"cam003\"} 2\n")
	got := perClipDelta(s0, s1, "vigil_camera_wakeups_total", []string{"busy", "idle", "idle"})
	if len(got) != 2 || got["busy"] != 2 || got["idle"] != 5 {
		t.Fatalf("per clip: %v, want busy 2, idle 5", got)
	}
	if perClipDelta(s0, s1, "vigil_absent_total", []string{"busy"}) != nil {
		t.Fatal("a family the engine lacks gave figures")
	}
}
