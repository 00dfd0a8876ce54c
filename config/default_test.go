package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestExampleIsDefaults: the shipped example configuration writes out the
// defaults. Parsed, it equals Default() but for what it sets on purpose,
// listed here: evidence.dir, and its two cameras, each equal to
// DefaultCamera() but for the keys listed (start_spread then follows the
// camera count, as Derive sets it).
func TestExampleIsDefaults(t *testing.T) {
	got, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Evidence.Dir = "/var/lib/vigil/evidence"

	gate := DefaultCamera()
	gate.ID, gate.URL = "north-gate", "rtsp://10.0.0.21:554/Streaming/Channels/102"
	gate.Username, gate.Password = "viewer", "change-me"
	gate.Masks = []Polygon{{{0, 0}, {0.35, 0}, {0.35, 0.08}, {0, 0.08}}}
	gate.Zones = []Zone{
		{Name: "yard", Restricted: true, Polygon: Polygon{{0.5, 0.3}, {1, 0.3}, {1, 1}, {0.5, 1}}, CrowdTime: DefaultZoneCrowdTime},
		{Name: "entrance", Loiter: 2 * time.Minute, Crowd: 6, CrowdTime: 5 * time.Second, Polygon: Polygon{{0.1, 0.4}, {0.3, 0.4}, {0.3, 0.9}, {0.1, 0.9}}},
	}
	gate.Person.Enabled = true
	plaza := DefaultCamera()
	plaza.ID, plaza.URL = "plaza-east", "rtsps://10.0.0.22:322/stream1"
	want.Cameras = []Camera{gate, plaza}
	want.Derive()

	if !reflect.DeepEqual(got, want) {
		g, _ := Show(got)
		w, _ := Show(want)
		t.Errorf("example.yaml is not Default() plus what it sets:\n--- parsed\n%s\n--- want\n%s", g, w)
	}
}

// TestDefaultRuns: Default() with one camera is valid as it is, and runs
// the object network (objects.enabled defaults to true, which a zero
// Config could not say).
func TestDefaultRuns(t *testing.T) {
	cfg := Default()
	cam := DefaultCamera()
	cam.ID, cam.URL = "cam", "rtsp://127.0.0.1:8554/x"
	cfg.Cameras = []Camera{cam}
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if !cfg.Objects.Enabled || cfg.Objects.Model == "" {
		t.Errorf("Default().Objects = %+v, want enabled with a model", cfg.Objects)
	}
	empty, err := Parse([]byte("cameras: [{id: cam, url: 'rtsp://127.0.0.1:8554/x'}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(empty, cfg) {
		t.Errorf("a file with one camera differs from Default() with it:\n%+v\n%+v", empty, cfg)
	}
}

// TestShowWebhookSink is what `vigil check-config` prints for a file
// with one webhook sink: every default that runs (no zero standing for
// one) and only a webhook's keys under the sink.
func TestShowWebhookSink(t *testing.T) {
	cfg, err := Parse([]byte(`
sinks:
  - type: webhook
    url: https://ioc.example/hook
cameras:
  - {id: cam, url: "rtsp://127.0.0.1:8554/x"}
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Show(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	sinks := out[strings.Index(out, "\nsinks:") : strings.Index(out, "\nevidence:")+1]
	for _, want := range []string{"    - name: webhook\n", "      timeout: 5s\n", "      backoff_min: 500ms\n", "      backoff_max: 30s\n", "      mode: structured\n"} {
		if !strings.Contains(sinks, want) {
			t.Errorf("sinks lack %q:\n%s", want, sinks)
		}
	}
	for _, other := range []string{"topic_prefix", "client_id", "ha_", "frigate", "subject_prefix", "stream", "create_stream", "username", "password", "max_age", "max_bytes", "keep", "path"} {
		if strings.Contains(sinks, other) {
			t.Errorf("a webhook sink shows %q:\n%s", other, sinks)
		}
	}
	for _, want := range []string{
		"\noutbox:\n    path: outbox.db\n    max_bytes: 268435456\n    on_damage: move_aside\n    max_lag: 5m0s\n",
		"\nevidence:\n    dir: evidence\n    max_bytes: 1073741824\n    max_age: 168h0m0s\n",
		"      activity:\n        size_factor: 8\n        qp_rise: 3\n        wake_frames: 4\n        quiet_period: 2s\n        learn_frames: 25\n",
		"\nobjects:\n    enabled: true\n",
		"\nstart_spread: 10ms\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check-config lacks %q:\n%s", want, out)
		}
	}
	for _, zero := range []string{": 0s\n", ": 0\n", `: ""` + "\n"} {
		for line := range strings.Lines(out) {
			if strings.HasSuffix(line, zero) && !allowedZero(line) {
				t.Errorf("check-config shows a zero: %q", line)
			}
		}
	}
}

// allowedZero is a line of Show whose zero is the value that runs
// (nothing set, or a 0 that means 0).
func allowedZero(line string) bool {
	for _, k := range []string{"web_config_file:", "username:", "password:", "ca_file:", "bearer_token:", "secret:", "min_duration:", "learn_time:", "offline_grace:", "loiter:", "crowd:", "keyframe_interval:", "max_per_second:"} {
		if strings.HasPrefix(strings.TrimSpace(line), k) {
			return true
		}
	}
	return false
}

func TestMain(m *testing.M) {
	os.Unsetenv("VIGIL_MODELS") // objects.model's default follows it
	os.Exit(m.Run())
}
