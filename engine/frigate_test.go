package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
)

type discardEvents struct{}

func (discardEvents) Emit(incident.Event) error { return nil }

// TestFrigateConfigFromTheEngine: /api/config of a running engine shows
// each camera as its configuration has it (person tracked with person
// detection, its zones, motion.threshold) under the frigate_compat sink's
// topic prefix, and never the camera's URL or credentials.
func TestFrigateConfigFromTheEngine(t *testing.T) {
	const pass = "Sup3r-s3cret"
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
listen: 127.0.0.1:0
cameras:
  - id: gate
    url: rtsp://op:%s@%s/gate
    motion: {threshold: 31}
    person: {enabled: true}
    zones:
      - {name: porch, restricted: true, polygon: [[0, 0], [1, 0], [1, 1]]}
  - id: yard
    url: rtsp://%s/yard
sinks:
  - {type: mqtt, url: 'tcp://127.0.0.1:1', frigate_compat: true, frigate_topic_prefix: site1/frigate}
`, pass, closedPort(t), closedPort(t))))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{Logger: testLogger(t), Events: discardEvents{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	res, err := http.Get("http://" + e.Addr() + "/api/config")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(body), pass) || strings.Contains(string(body), "rtsp") {
		t.Errorf("/api/config shows a camera URL or password: %s", body)
	}
	var got struct {
		MQTT struct {
			TopicPrefix string `json:"topic_prefix"`
		} `json:"mqtt"`
		Cameras map[string]struct {
			Objects struct {
				Track []string `json:"track"`
			} `json:"objects"`
			Zones  map[string]any `json:"zones"`
			Motion struct {
				Threshold int `json:"threshold"`
			} `json:"motion"`
		} `json:"cameras"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	gate, yard := got.Cameras["gate"], got.Cameras["yard"]
	if got.MQTT.TopicPrefix != "site1/frigate" || len(got.Cameras) != 2 {
		t.Fatalf("topic_prefix %q, %d cameras: %s", got.MQTT.TopicPrefix, len(got.Cameras), body)
	}
	if !reflect.DeepEqual(gate.Objects.Track, []string{"person"}) || len(gate.Zones) != 1 || gate.Zones["porch"] == nil || gate.Motion.Threshold != 31 {
		t.Errorf("gate: %+v", gate)
	}
	if len(yard.Objects.Track) != 0 || len(yard.Zones) != 0 || yard.Motion.Threshold != config.DefaultMotion().Threshold {
		t.Errorf("yard (no person detection, no zone): %+v", yard)
	}
}
