package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/delivery"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/history"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
	"github.com/vigil-video/vigil/sinks"
)

// noCameras is an engine without cameras: the test drives the incidents.
type noCameras struct{}

func (noCameras) Cameras() []api.CameraStatus            { return nil }
func (noCameras) Camera(string) (api.CameraStatus, bool) { return api.CameraStatus{}, false }
func (noCameras) Ready() error                           { return nil }
func (noCameras) FrigateCameras() []api.FrigateCamera    { return nil }
func (noCameras) FrigateTopicPrefix() string             { return "frigate" }
func (noCameras) Snapshot(context.Context, string, time.Duration) ([]byte, error) {
	return nil, api.ErrNoCamera
}

// TestFrigateNotificationEndToEnd follows one person incident as the
// notification blueprint does, through the real wiring (delivery's outbox
// feeding the MQTT sink on Mosquitto and the API's incident history): its
// trigger on frigate/reviews (type new), the event id it takes from
// data.detections[0] (the tracked person's event), the thumbnail it attaches from
// /api/events/<id>/thumbnail.jpg (what the integration's notifications
// proxy requests) and the same event in /api/events; then the loop that
// waits for the review's end.
func TestFrigateNotificationEndToEnd(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)

	var mu sync.Mutex
	var reviews []string
	sub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("blueprint"))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	if tok := sub.Subscribe("frigate/reviews", 0, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		reviews = append(reviews, string(m.Payload()))
		mu.Unlock()
	}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	store, err := evidence.Open(testkit.FillZeros(config.Evidence{Dir: filepath.Join(dir, "evidence")}, config.DefaultEvidence()))
	if err != nil {
		t.Fatal(err)
	}
	const id = "0193a1b2-0000-7000-8000-0000000000f1"
	jpg := []byte("\xff\xd8\xff\xe0 the person at the door \xff\xd9")
	best, err := store.Save("door", id, "best", jpg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ob := config.DefaultOutbox()
	ob.Path = filepath.Join(dir, "outbox.db")
	mq := testkit.Sink(config.SinkMQTT, "mqtt", url, func(s *config.Sink) {
		s.MQTT.FrigateCompat, s.MQTT.FrigateTopicPrefix = true, "frigate"
		s.Timeout = 2 * time.Second
	})
	d, err := delivery.New(delivery.Config{Outbox: ob, Sinks: []config.Sink{mq}}, sinks.Env{Cameras: []sink.Camera{{ID: "door"}}, Evidence: store}.Open, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := config.DefaultHistory()
	hc.Path = filepath.Join(dir, "history.db")
	hist := history.Open(hc, nil)
	defer hist.Close()
	log := api.NewIncidentLog(1000)
	live := api.NewEventHub(16, log)
	d.OnStored(func(ev incident.Event) { hist.Add(ev); log.Add(ev); live.Publish(ev) })
	d.Start()
	defer d.Close()
	defer live.Close()
	srv := api.New(api.Config{Listen: "127.0.0.1:0", Registry: prometheus.NewRegistry(), Incidents: incidentsAPI{hist}, Live: live, Evidence: store,
		Limits: config.DefaultHTTP()}, noCameras{})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	start := time.Now().Add(-2 * time.Second).Truncate(time.Second)
	inc := incident.Incident{IncidentID: id, Camera: "door", Kind: "person", StartedAt: start, FrameTime: start,
		FrameTimeSource: incident.TimeReceipt, Score: 1, Boxes: [][4]float64{{0.4, 0.3, 0.1, 0.4}}, FrameWidth: 1280, FrameHeight: 720,
		Evidence: []incident.Evidence{best}, Objects: []incident.Object{{Label: "person", Score: 0.8, Box: [4]float64{0.4, 0.3, 0.1, 0.4},
			TrackID: "0193a1b2-0000-7000-8000-0000000000f2"}}}
	if err := d.Emit(incident.New(incident.TypeStart, inc, start)); err != nil {
		t.Fatal(err)
	}
	received := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), reviews...) }
	await.Until(t, 20*time.Second, "the blueprint's trigger", func() bool { return len(received()) >= 1 })

	var trigger struct {
		Type  string `json:"type"`
		After struct {
			ID     string `json:"id"`
			Camera string `json:"camera"`
			Data   struct {
				Detections []string `json:"detections"`
			} `json:"data"`
		} `json:"after"`
	}
	if err := json.Unmarshal([]byte(received()[0]), &trigger); err != nil {
		t.Fatal(err)
	}
	if trigger.Type != "new" || trigger.After.Camera != "door" || len(trigger.After.Data.Detections) == 0 {
		t.Fatalf("trigger: %s", received()[0])
	}
	eventID := trigger.After.Data.Detections[0]
	if eventID == id {
		t.Errorf("detections[0] is the incident's id, want its tracked person's event")
	}
	var evs []struct {
		ID          string   `json:"id"`
		HasSnapshot bool     `json:"has_snapshot"`
		EndTime     *float64 `json:"end_time"`
	}
	listEvents := func() error {
		req, _ := http.NewRequest("GET", "http://"+srv.Addr()+"/api/events?cameras=door&include_thumbnails=0", nil)
		req.Header.Set("Accept", "*/*")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		return json.NewDecoder(res.Body).Decode(&evs)
	}
	await.Until(t, 20*time.Second, "the event in the history", func() bool { return listEvents() == nil && len(evs) > 0 })
	res, err := http.Get("http://" + srv.Addr() + "/api/events/" + eventID + "/thumbnail.jpg")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(b, jpg) {
		t.Errorf("thumbnail of detections[0] %s: %d %q, want the incident's snapshot", eventID, res.StatusCode, b)
	}
	if err := listEvents(); err != nil || len(evs) != 1 || evs[0].ID != eventID || !evs[0].HasSnapshot || evs[0].EndTime != nil {
		t.Errorf("/api/events: %+v (%v), want the open event %s with its snapshot", evs, err, eventID)
	}

	end := start.Add(2 * time.Second)
	inc.EndedAt, inc.FrameTime, inc.Boxes, inc.Objects = &end, end, nil, nil
	if err := d.Emit(incident.New(incident.TypeEnd, inc, end)); err != nil {
		t.Fatal(err)
	}
	// The loop: messages of the review (after.id), until type end.
	await.Until(t, 20*time.Second, "the review's end", func() bool {
		for _, p := range received()[1:] {
			var m struct {
				Type  string `json:"type"`
				After struct {
					ID string `json:"id"`
				} `json:"after"`
			}
			if json.Unmarshal([]byte(p), &m) == nil && m.After.ID == trigger.After.ID && m.Type == "end" {
				return true
			}
		}
		return false
	})
}
