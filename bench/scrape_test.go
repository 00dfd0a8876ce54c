package bench

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/metrics"
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

type quietPool struct{}

func (quietPool) Queued() (int, int)               { return 0, 0 }
func (quietPool) Workers() int                     { return 1 }
func (quietPool) Busy() (int, time.Duration)       { return 0, 0 }
func (quietPool) Describe(chan<- *prometheus.Desc) {}
func (quietPool) Collect(chan<- prometheus.Metric) {}

// TestScrapeHistogramSum: the engine's own inference histogram, served by
// its registry, reads as the seconds it summed (NetworkCores).
func TestScrapeHistogramSum(t *testing.T) {
	m := metrics.New(func() metrics.PoolStats { return quietPool{} }, quietPool{})
	for _, s := range []float64{0.012, 0.030, 0.5} {
		m.ObjectSeconds.Observe(s)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(m.Reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	s, err := scrapeMetrics(srv.Client(), strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.sum("vigil_objects_inference_duration_seconds"); math.Abs(got-0.542) > 1e-9 {
		t.Fatalf("inference seconds %v, want 0.542", got)
	}
}

// TestScrapeWaits: the engine's wait histogram reads, per request kind,
// as the inferences served and those within 1 s of their request (1 s
// itself counts).
func TestScrapeWaits(t *testing.T) {
	m := metrics.New(func() metrics.PoolStats { return quietPool{} }, quietPool{})
	for _, w := range []time.Duration{0, 300 * time.Millisecond, time.Second, 1200 * time.Millisecond} {
		m.Inferred("a", "first", time.Now(), w, 40*time.Millisecond)
	}
	m.Inferred("a", "recheck", time.Now(), 1900*time.Millisecond, 40*time.Millisecond)
	srv := httptest.NewServer(promhttp.HandlerFor(m.Reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	s, err := scrapeMetrics(srv.Client(), strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind      string
		n, within float64
	}{{"first", 4, 3}, {"recheck", 1, 0}, {"motion", 0, 0}} {
		if n, within := s.histogramAt("vigil_objects_wait_seconds", 1, "request", c.kind); n != c.n || within != c.within {
			t.Errorf("%s: %v served, %v within 1 s; want %v, %v", c.kind, n, within, c.n, c.within)
		}
	}
}

// TestEngineConfigObjects: the engine child's configuration, as the
// engine parses it, has the object network --objects asked for.
func TestEngineConfigObjects(t *testing.T) {
	urls := []string{"rtsp://127.0.0.1:8554/cam1"}
	for _, tc := range []struct {
		objects string
		enabled bool
		budget  float64
	}{{"", true, 0}, {"off", false, 0}, {"2.5", true, 2.5}} {
		cfg, err := config.Parse([]byte(engineConfig("127.0.0.1:9", t.TempDir(), urls, engineOptions{mode: "auto", objects: tc.objects})))
		if err != nil {
			t.Fatalf("--objects %q: %v", tc.objects, err)
		}
		if cfg.Objects.Enabled != tc.enabled || cfg.Objects.MaxPerSecond != tc.budget {
			t.Errorf("--objects %q: enabled %v, max_per_second %v; want %v, %v", tc.objects, cfg.Objects.Enabled, cfg.Objects.MaxPerSecond, tc.enabled, tc.budget)
		}
	}
	// With --person the cameras ask on motion only, unless --first-look.
	for _, look := range []bool{false, true} {
		cfg, err := config.Parse([]byte(engineConfig("127.0.0.1:9", t.TempDir(), urls, engineOptions{person: true, firstLook: look})))
		if err != nil {
			t.Fatalf("--person, first look %v: %v", look, err)
		}
		if cfg.Objects.FirstLook != look || !cfg.Cameras[0].Person.Enabled {
			t.Errorf("--person, first look %v: objects.first_look %v, person.enabled %v", look, cfg.Objects.FirstLook, cfg.Cameras[0].Person.Enabled)
		}
	}
	for _, bad := range []string{"0", "on", "5000", "-1"} {
		if err := ParseObjects(bad); err == nil {
			t.Errorf("--objects %q accepted", bad)
		}
	}
	for _, good := range []string{"", "off", "0.1", "12"} {
		if err := ParseObjects(good); err != nil {
			t.Errorf("--objects %q: %v", good, err)
		}
	}
}
