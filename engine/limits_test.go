package engine

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

// limitDoc is a configuration of one camera "a" at url, with extra engine
// keys before cameras and extra camera keys (indented for the camera).
func limitDoc(url, engineKeys, cameraKeys string) string {
	return fmt.Sprintf("listen: 127.0.0.1:0\n%scameras:\n  - id: a\n    url: %s\n%s", engineKeys, url, cameraKeys)
}

// extremes are the smallest and largest valid values of every numeric key
// the engine owns: each must load, start and reload without harm.
var extremes = []struct{ engine, camera string }{
	{"workers: 1\n", ""}, {"workers: 1024\n", ""},
	{"queue_memory_mb: 1\n", ""}, {"queue_memory_mb: 16384\n", ""},
	{"start_spread: 0s\n", ""}, {"start_spread: 5m\n", ""},
	{"", "    queue_frames: 1\n"}, {"", "    queue_frames: 100000\n"},
	{"", "    queue_bytes: 65536\n"}, {"", "    queue_bytes: 1073741824\n"},
	{"", "    stall_timeout: 100ms\n"}, {"", "    stall_timeout: 10m\n"},
	{"", "    offline_grace: 0s\n"}, {"", "    offline_grace: 24h\n"},
	{"", "    backoff_min: 1ms\n    backoff_max: 1ms\n"}, {"", "    backoff_min: 1h\n    backoff_max: 1h\n"},
	{"", "    analysis_width: 16\n"}, {"", "    analysis_width: 1920\n"},
	{"", "    analysis_fps: 0.001\n"}, {"", "    analysis_fps: 60\n"},
}

// invalids are out-of-range values (the ones of issue 13 first); each is
// an error naming its key, never a silent default.
var invalids = []struct{ engine, camera, key string }{
	{"", "    queue_frames: 2000000000\n", "cameras[0] (id \"a\").queue_frames"},
	{"workers: 100000000\n", "", "workers"},
	{"queue_memory_mb: 99999999999999\n", "", "queue_memory_mb"},
	{"workers: -5\n", "", "workers"},
	{"start_spread: 87600h\n", "", "start_spread"},
	{"queue_memory_mb: -1\n", "", "queue_memory_mb"},
	{"start_spread: -1s\n", "", "start_spread"},
	{"", "    queue_frames: 0\n", "queue_frames"},
	{"", "    queue_frames: 100001\n", "queue_frames"},
	{"", "    queue_bytes: 65535\n", "queue_bytes"},
	{"", "    queue_bytes: 1073741825\n", "queue_bytes"},
	{"", "    stall_timeout: 99ms\n", "stall_timeout"},
	{"", "    stall_timeout: 11m\n", "stall_timeout"},
	{"", "    offline_grace: -1s\n", "offline_grace"},
	{"", "    offline_grace: 25h\n", "offline_grace"},
	{"", "    backoff_min: 0s\n", "backoff_min"},
	{"", "    backoff_min: 2h\n    backoff_max: 2h\n", "backoff_min"},
	{"", "    backoff_min: 1s\n    backoff_max: 2h\n", "backoff_max"},
	{"", "    backoff_min: 2s\n    backoff_max: 1s\n", "backoff_max"},
	{"", "    analysis_width: 15\n", "analysis_width"},
	{"", "    analysis_width: 1921\n", "analysis_width"},
	{"", "    analysis_fps: 0\n", "analysis_fps"},
	{"", "    analysis_fps: .nan\n", "analysis_fps"},
	{"", "    analysis_fps: 61\n", "analysis_fps"},
}

// TestConfigRangesNameTheKey: every extreme-but-valid value loads; every
// out-of-range value is an error naming its key; a URL port out of
// 1..65535 is an error naming the camera.
func TestConfigRangesNameTheKey(t *testing.T) {
	for _, x := range extremes {
		if _, err := config.Parse([]byte(limitDoc("rtsp://h:65535/x", x.engine, x.camera))); err != nil {
			t.Errorf("%q%q: %v", x.engine, x.camera, err)
		}
	}
	for _, x := range invalids {
		_, err := config.Parse([]byte(limitDoc("rtsp://h/x", x.engine, x.camera)))
		if err == nil || !strings.Contains(err.Error(), x.key+":") {
			t.Errorf("%q%q: error %v, want one naming %s", x.engine, x.camera, err, x.key)
		}
	}
	for _, port := range []string{"0", "65536", "99999"} {
		_, err := config.Parse([]byte(limitDoc("rtsp://admin:pw@h:"+port+"/x", "", "")))
		if want := `cameras[0] (id "a").url: port "` + port + `"`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("port %s: error %v, want %q", port, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("port %s: error %q shows the password", port, err)
		}
	}
	// Zero still means the documented default where it is documented so.
	cfg, err := config.Parse([]byte(limitDoc("rtsp://h/x", "workers: 0\nqueue_memory_mb: 0\nstart_spread: 0s\n", "")))
	if err != nil || cfg.Workers < 1 || cfg.QueueMemoryMB != 256 || cfg.StartSpread != 10*time.Millisecond {
		t.Errorf("zeros: %v, workers %d, queue_memory_mb %d, start_spread %s", err, cfg.Workers, cfg.QueueMemoryMB, cfg.StartSpread)
	}
}

// TestReloadAtLimits reloads a running engine with each extreme-but-valid
// value (each is applied and the engine keeps serving) and with each
// invalid value (refused with the key named; the running camera is not
// touched), as watchConfig does: parse, validate, Apply.
func TestReloadAtLimits(t *testing.T) {
	url := "rtsp://" + closedPort(t) + "/x"
	e, _, _ := startEngine(t, cameraConfig("a", url))
	camOf := func() *camera {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.cameras["a"]
	}
	reload := func(doc string) error {
		cfg, err := config.Parse([]byte(doc))
		if err != nil {
			return err
		}
		_, err = e.Apply(cfg)
		return err
	}
	for _, x := range extremes {
		if err := reload(limitDoc(url, x.engine, x.camera)); err != nil {
			t.Fatalf("reload %q%q: %v", x.engine, x.camera, err)
		}
		httpGet(t, "http://"+e.Addr()+"/livez")
		if camOf() == nil {
			t.Fatalf("reload %q%q: camera a is gone", x.engine, x.camera)
		}
	}
	running := camOf()
	for _, x := range invalids {
		err := reload(limitDoc(url, x.engine, x.camera))
		if err == nil || !strings.Contains(err.Error(), x.key+":") {
			t.Errorf("reload %q%q: error %v, want one naming %s", x.engine, x.camera, err, x.key)
		}
		if camOf() != running {
			t.Fatalf("reload %q%q: the running camera was touched", x.engine, x.camera)
		}
	}
	httpGet(t, "http://"+e.Addr()+"/livez")
}

// TestReloadAtMaximumsHeapBounded: an engine started with the largest
// workers and queue_memory_mb, then reloaded to 32 cameras with the largest
// queue_frames and queue_bytes, keeps its Go heap small: nothing is sized
// up front by those keys (queue_frames used to reserve every slot).
func TestReloadAtMaximumsHeapBounded(t *testing.T) {
	url := "rtsp://" + closedPort(t) + "/x"
	cfg, err := config.Parse([]byte(limitDoc(url, "workers: 1024\nqueue_memory_mb: 16384\n", "    queue_frames: 100000\n    queue_bytes: 1073741824\n")))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var b strings.Builder
	b.WriteString("listen: 127.0.0.1:0\nworkers: 1024\nqueue_memory_mb: 16384\ncameras:\n")
	for i := range 32 {
		fmt.Fprintf(&b, "  - {id: c%d, url: '%s', queue_frames: 100000, queue_bytes: 1073741824, analysis_width: 1920}\n", i, url)
	}
	next, err := config.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(next); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	const bound = 64 << 20
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > bound {
		t.Fatalf("heap grew by %d MiB after the reload at the maximums, want under %d MiB", grew>>20, bound>>20)
	}
	httpGet(t, "http://"+e.Addr()+"/livez")
}

// TestReloadRefusesRestartOnlyKeys: a reload changing sinks, outbox or
// evidence is refused with the key named, and nothing of it is applied,
// not even its camera changes.
func TestReloadRefusesRestartOnlyKeys(t *testing.T) {
	url := "rtsp://" + closedPort(t) + "/x"
	base, err := config.Parse([]byte(limitDoc(url, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(base, Options{Logger: testLogger(t), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	running := e.cameras["a"]
	for _, tc := range []struct{ key, yaml string }{
		{"sinks", "sinks: [{type: file, path: /tmp/vigil-events.jsonl}]\n"},
		{"outbox", "outbox: {max_bytes: 1048576}\n"},
		{"evidence", "evidence: {embed: true}\n"},
	} {
		cfg, err := config.Parse([]byte(limitDoc(url, tc.yaml, "    analysis_fps: 2\n")))
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Apply(cfg)
		if !errors.Is(err, ErrNeedsRestart) || !strings.HasPrefix(err.Error(), tc.key+": changes need a restart") {
			t.Errorf("reload changing %s: error %v, want %q", tc.key, err, tc.key+": changes need a restart")
		}
		e.mu.Lock()
		c := e.cameras["a"]
		e.mu.Unlock()
		if c != running {
			t.Errorf("reload changing %s: the camera was restarted", tc.key)
		}
	}
	// The same file without those changes applies.
	cfg, _ := config.Parse([]byte(limitDoc(url, "", "    analysis_fps: 2\n")))
	if res, err := e.Apply(cfg); err != nil || len(res.Restarted) != 1 {
		t.Errorf("reload changing a camera only: %+v, %v", res, err)
	}
}
