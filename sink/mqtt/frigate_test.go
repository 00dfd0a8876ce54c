package mqtt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
)

func TestPixelBoxAndRegion(t *testing.T) {
	for _, c := range []struct {
		box        [4]float64
		w, h       int
		want, reg  [4]int
		wantReason string
	}{
		{[4]float64{0.25, 0.5, 0.1, 0.4}, 1280, 720, [4]int{320, 360, 448, 648}, [4]int{96, 144, 672, 720}, "2x the 288-px side, moved up into the frame"},
		{[4]float64{0, 0, 0.01, 0.01}, 1920, 1080, [4]int{0, 0, 19, 11}, [4]int{0, 0, 320, 320}, "at least 320 px, moved into the corner"},
		{[4]float64{0.9, 0.9, 0.2, 0.2}, 640, 360, [4]int{576, 324, 640, 360}, [4]int{320, 40, 640, 360}, "clipped to the frame"},
		{[4]float64{0, 0, 1, 1}, 200, 100, [4]int{0, 0, 200, 100}, [4]int{50, 0, 150, 100}, "a frame smaller than 320: its short side, centred"},
	} {
		got := pixelBox(c.box, c.w, c.h)
		if got != c.want {
			t.Errorf("pixelBox(%v, %dx%d) = %v, want %v", c.box, c.w, c.h, got, c.want)
		}
		if reg := frigateRegion(got, c.w, c.h); reg != c.reg {
			t.Errorf("frigateRegion(%v, %dx%d) = %v, want %v (%s)", got, c.w, c.h, reg, c.reg, c.wantReason)
		}
	}
}

// message is one MQTT message as a subscriber got it.
type message struct {
	topic    string
	payload  []byte
	retained bool
}

// recorder subscribes to everything on a broker and keeps what arrives.
type recorder struct {
	mu   sync.Mutex
	msgs []message
	c    paho.Client
}

func subscribeAll(t *testing.T, url, id, filter string) *recorder {
	t.Helper()
	r := &recorder{}
	r.c = paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetOrderMatters(true))
	if tok := r.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	tok := r.c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		r.mu.Lock()
		r.msgs = append(r.msgs, message{m.Topic(), slices.Clone(m.Payload()), m.Retained()})
		r.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { r.c.Disconnect(100) })
	return r
}

// on returns the payloads seen on a topic, in order.
func (r *recorder) on(topic string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if m.topic == topic {
			out = append(out, string(m.payload))
		}
	}
	return out
}

func (r *recorder) last(topic string) (message, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.msgs) - 1; i >= 0; i-- {
		if r.msgs[i].topic == topic {
			return r.msgs[i], true
		}
	}
	return message{}, false
}

// deliverAll hands evs to s in order, each retried until the broker has
// it, as delivery does.
func deliverAll(t *testing.T, s *Sink, evs []incident.Event) {
	t.Helper()
	for _, ev := range evs {
		js, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		await.Until(t, 20*time.Second, "event "+ev.ID+" delivered", func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return s.Deliver(ctx, js, &ev) == nil
		})
	}
}

// TestFrigateAndHomeAssistantOnMosquitto runs the mqtt sink with
// frigate_compat and ha_discovery against Debian's Mosquitto and checks
// what a Frigate consumer and Home Assistant read: frigate/events
// messages valid against Frigate's documented payload (testdata/frigate),
// with pixel boxes, a running top_score, before = the previous after and
// has_snapshot once there is evidence; the per-camera and per-zone counts;
// motion ON/OFF; the retained snapshot; and retained discovery
// configurations whose state topics carry the incidents' states.
func TestFrigateAndHomeAssistantOnMosquitto(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	all := subscribeAll(t, url, "test-all", "#")

	store, err := evidence.Open(testkit.FillZeros(config.Evidence{Dir: filepath.Join(dir, "evidence")}, config.DefaultEvidence()))
	if err != nil {
		t.Fatal(err)
	}
	personID := "0193a1b2-0000-7000-8000-0000000000aa"
	jpgStart := []byte("\xff\xd8\xff\xe0 start snapshot \xff\xd9")
	jpgBest := []byte("\xff\xd8\xff\xe0 best snapshot, a better one \xff\xd9")
	evStart, err := store.Save("gate", personID, "start", jpgStart, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	c := testkit.Sink(config.SinkMQTT, "mqtt", url, func(s *config.Sink) {
		m := s.MQTT
		m.FrigateCompat, m.FrigateTopicPrefix, m.HADiscovery, m.HANodeID = true, "frigate", true, "site1"
		s.Timeout, s.BackoffMin = 2*time.Second, 50*time.Millisecond
	})
	s, err := New(sink.CommonOf(c), *c.MQTT, cams("gate", "yard.2"), store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The configured cameras are announced before any event.
	await.Until(t, 20*time.Second, "the discovery configurations", func() bool {
		return len(all.on("homeassistant/binary_sensor/site1/"+haID("yard.2")+"_online/config")) > 0 &&
			len(all.on("homeassistant/binary_sensor/site1/gate_tamper/config")) > 0
	})

	t0 := time.Date(2026, 11, 22, 21, 4, 4, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	person := func(typ string, s float64, people float64, boxes [][4]float64, ev []incident.Evidence) incident.Event {
		in := incident.Incident{IncidentID: personID, Camera: "gate", Kind: "person", StartedAt: at(0), FrameTime: at(s),
			FrameTimeSource: incident.TimeRTCP, Score: people, Boxes: boxes, FrameWidth: 1280, FrameHeight: 720, Evidence: ev}
		if typ == incident.TypeEnd {
			in.EndedAt = &in.FrameTime
		}
		return incident.New(typ, in, at(s))
	}
	simple := func(typ, camera, kind, cause, zone string, id string, s, score float64) incident.Event {
		in := incident.Incident{IncidentID: id, Camera: camera, Kind: kind, Cause: cause, Zone: zone, StartedAt: at(0), FrameTime: at(s),
			FrameTimeSource: incident.TimeReceipt, Score: score}
		if typ == incident.TypeEnd {
			in.EndedAt = &in.FrameTime
		}
		return incident.New(typ, in, at(s))
	}
	evs := []incident.Event{
		simple(incident.TypeStart, "gate", "motion", "", "", "m1", 0.5, 0.03),
		person(incident.TypeStart, 1, 2, [][4]float64{{0.25, 0.5, 0.1, 0.4}, {0.6, 0.4, 0.05, 0.3}}, []incident.Evidence{evStart}),
		simple(incident.TypeUpdate, "gate", "motion", "", "", "m1", 1.5, 0.04),
		simple(incident.TypeStart, "gate", "crowd", "", "square", "c1", 2, 4),
		simple(incident.TypeStart, "yard.2", "tamper", "covered", "", "t1", 2.5, 0.9),
		simple(incident.TypeStart, "yard.2", "camera_offline", "stalled", "", "o1", 3, 1),
		simple(incident.TypeStart, "yard.2", "vehicle", "", "", "v1", 3.5, 1),
	}
	deliverAll(t, s, evs)
	// A better snapshot replaces "best" before the update.
	evBest, err := store.Save("gate", personID, "best", jpgBest, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	more := []incident.Event{
		person(incident.TypeUpdate, 4, 3, [][4]float64{{0.3, 0.45, 0.12, 0.5}}, []incident.Evidence{evStart, evBest}),
		simple(incident.TypeEnd, "yard.2", "camera_offline", "stalled", "", "o1", 5, 1),
		simple(incident.TypeEnd, "yard.2", "vehicle", "", "", "v1", 5.2, 2),
		simple(incident.TypeEnd, "gate", "crowd", "", "square", "c1", 5.5, 7),
		person(incident.TypeEnd, 6, 3, nil, []incident.Evidence{evStart, evBest}),
		simple(incident.TypeEnd, "gate", "motion", "", "", "m1", 7, 0.05),
	}
	deliverAll(t, s, more)
	await.Until(t, 20*time.Second, "the last motion OFF", func() bool { return len(all.on("frigate/gate/motion")) >= 2 })

	t.Run("frigate/events", func(t *testing.T) {
		raw, err := os.ReadFile("testdata/frigate/events.schema.json")
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		c := jsonschema.NewCompiler()
		c.AddResource("https://vigil.dev/test/frigate-events", doc) //nolint:errcheck
		schema := c.MustCompile("https://vigil.dev/test/frigate-events")
		got := all.on("frigate/events")
		if len(got) != 5 {
			t.Fatalf("%d frigate/events messages, want the person's new, update, end and the vehicle's new, end (only people and vehicles are Frigate objects):\n%s", len(got), strings.Join(got, "\n"))
		}
		var msgs, cars []frigatePayload
		for i, p := range got {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(p))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Errorf("message %d does not match Frigate's documented payload: %v\n%s", i, err, p)
			}
			var m frigatePayload
			if err := json.Unmarshal([]byte(p), &m); err != nil {
				t.Fatal(err)
			}
			if m.After.ID == "v1" {
				cars = append(cars, m)
				continue
			}
			msgs = append(msgs, m)
		}
		if len(cars) != 2 || cars[0].Type != "new" || cars[1].Type != "end" || cars[0].After.Label != "car" || cars[1].After.Camera != "yard.2" {
			t.Errorf("the vehicle (no object network: the incident is the object): %+v", cars)
		}
		if len(msgs) != 3 {
			t.Fatalf("%d messages of the person", len(msgs))
		}
		types := []string{msgs[0].Type, msgs[1].Type, msgs[2].Type}
		if !reflect.DeepEqual(types, []string{"new", "update", "end"}) {
			t.Errorf("types %v", types)
		}
		n, u, e := msgs[0].After, msgs[1].After, msgs[2].After
		for _, a := range []*frigateDetails{n, u, e} {
			if a.ID != personID || a.Camera != "gate" || a.Label != "person" || a.StartTime != float64(t0.Unix()) {
				t.Errorf("id %s camera %s label %s start %v", a.ID, a.Camera, a.Label, a.StartTime)
			}
		}
		if n.Box != [4]int{320, 360, 448, 648} || n.Area != 128*288 || n.Region != [4]int{96, 144, 672, 720} {
			t.Errorf("new: box %v area %d region %v, want the largest person in pixels of 1280x720", n.Box, n.Area, n.Region)
		}
		if u.Box != [4]int{384, 324, 538, 684} {
			t.Errorf("update: box %v", u.Box)
		}
		if e.Box != u.Box || e.EndTime == nil || *e.EndTime != float64(at(6).UnixNano())/1e9 || len(e.CurrentZones) != 0 {
			t.Errorf("end: box %v (the last known), end_time %v", e.Box, e.EndTime)
		}
		if n.FrameTime != float64(at(1).Unix()) || u.FrameTime != float64(at(4).Unix()) {
			t.Errorf("frame_time %v %v", n.FrameTime, u.FrameTime)
		}
		// before is the previous message's after.
		if !reflect.DeepEqual(msgs[1].Before, n) || !reflect.DeepEqual(msgs[2].Before, u) {
			t.Errorf("before is not the previous after:\n%+v\n%+v", msgs[1].Before, n)
		}
		if !reflect.DeepEqual(msgs[0].Before, n) {
			t.Errorf("new: before %+v, want the object as created (= after)", msgs[0].Before)
		}
		for _, a := range []*frigateDetails{n, u, e} {
			if !a.HasSnapshot || a.Snapshot == nil || a.TopScore < a.Score || !a.Active || a.Stationary {
				t.Errorf("has_snapshot %v snapshot %v top_score %v score %v active %v", a.HasSnapshot, a.Snapshot, a.TopScore, a.Score, a.Active)
			}
		}
	})

	t.Run("counts, motion, snapshot, availability", func(t *testing.T) {
		for topic, want := range map[string][]string{
			"frigate/gate/motion":        {"ON", "OFF"},
			"frigate/gate/person":        {"2", "3", "0"},
			"frigate/gate/all":           {"2", "3", "0"},
			"frigate/gate/person/active": {"2", "3", "0"},
			"frigate/square/person":      {"4", "0"},
			"frigate/square/all":         {"4", "0"},
		} {
			if got := all.on(topic); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %q, want %q", topic, got, want)
			}
		}
		for topic, want := range map[string][]string{
			"frigate/yard.2/car":           {"1", "0"},
			"frigate/yard.2/car/active":    {"1", "0"},
			"frigate/yard.2/review_status": {"DETECTION", "NONE"},
		} {
			if got := all.on(topic); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %q, want %q", topic, got, want)
			}
		}
		// Nothing else: tamper, camera_offline and the crowd incident itself
		// are no Frigate objects.
		all.mu.Lock()
		for _, m := range all.msgs {
			if strings.HasPrefix(m.topic, "frigate/") && !regexp.MustCompile(`^frigate/(events|reviews|available|gate/motion|(gate|yard\.2)/review_status|(gate|square)/(person|all)(/active)?|yard\.2/car(/active)?|gate/person/snapshot|(gate|yard\.2)/[a-z_]+/state)$`).MatchString(m.topic) {
				t.Errorf("unexpected Frigate topic %s", m.topic)
			}
		}
		all.mu.Unlock()
		late := subscribeAll(t, url, "late-frigate", "frigate/#")
		await.Until(t, 20*time.Second, "the retained snapshot", func() bool { _, ok := late.last("frigate/gate/person/snapshot"); return ok })
		snap, _ := late.last("frigate/gate/person/snapshot")
		if !snap.retained || !bytes.Equal(snap.payload, jpgBest) {
			t.Errorf("snapshot retained=%v %q, want the best snapshot retained", snap.retained, snap.payload)
		}
		await.Until(t, 20*time.Second, "the retained availability", func() bool { _, ok := late.last("frigate/available"); return ok })
		if m, _ := late.last("frigate/available"); string(m.payload) != "online" {
			t.Errorf("frigate/available %q", m.payload)
		}
		if got := late.on("frigate/gate/motion"); len(got) != 0 {
			t.Errorf("motion is retained: %q (Frigate does not retain it)", got)
		}
	})

	t.Run("home assistant discovery", func(t *testing.T) {
		late := subscribeAll(t, url, "late-ha", "homeassistant/binary_sensor/#")
		topic := regexp.MustCompile(`^homeassistant/binary_sensor/site1/([a-zA-Z0-9_-]+)_(motion|person|vehicle|tamper|intrusion|loitering|crowd|analysis_stalled|online)/config$`)
		classes := map[string]string{"motion": "motion", "person": "occupancy", "vehicle": "occupancy", "tamper": "tamper", "online": "connectivity",
			"intrusion": "occupancy", "loitering": "occupancy", "crowd": "occupancy", "analysis_stalled": "problem"}
		await.Until(t, 20*time.Second, "18 retained configurations", func() bool { late.mu.Lock(); defer late.mu.Unlock(); return len(late.msgs) >= 18 })
		time.Sleep(200 * time.Millisecond)
		late.mu.Lock()
		msgs := slices.Clone(late.msgs)
		late.mu.Unlock()
		if len(msgs) != 18 {
			t.Fatalf("%d retained discovery messages, want 2 cameras x 9 sensors", len(msgs))
		}
		ids := map[string]bool{}
		for _, m := range msgs {
			sm := topic.FindStringSubmatch(m.topic)
			if sm == nil || !m.retained {
				t.Errorf("discovery topic %s (retained %v)", m.topic, m.retained)
				continue
			}
			var cfg haDiscovery
			dec := json.NewDecoder(bytes.NewReader(m.payload))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cfg); err != nil {
				t.Fatalf("%s: %v", m.topic, err)
			}
			cam := map[string]string{"gate": "gate", haID("yard.2"): "yard.2"}[sm[1]]
			if cfg.DeviceClass != classes[sm[2]] || cfg.StateTopic != "vigil/"+cam+"/"+sm[2]+"/state" || cfg.PayloadOn != "ON" ||
				cfg.PayloadOff != "OFF" || cfg.AvailabilityTopic != "vigil/available" || cfg.Device.Name != cam ||
				len(cfg.Device.Identifiers) != 1 || cfg.Origin.Name != "vigil" || cfg.Name == "" {
				t.Errorf("%s: %s", m.topic, m.payload)
			}
			if ids[cfg.UniqueID] {
				t.Errorf("unique_id %s twice", cfg.UniqueID)
			}
			ids[cfg.UniqueID] = true
		}
		for topic, want := range map[string][]string{
			"vigil/gate/motion/state":    {"OFF", "ON", "OFF"},
			"vigil/gate/person/state":    {"OFF", "ON", "OFF"},
			"vigil/yard.2/tamper/state":  {"OFF", "ON"},
			"vigil/yard.2/vehicle/state": {"OFF", "ON", "OFF"},
			"vigil/yard.2/online/state":  {"ON", "OFF", "ON"},
		} {
			if got := all.on(topic); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %q, want %q", topic, got, want)
			}
		}
		states := subscribeAll(t, url, "late-states", "vigil/+/+/state")
		await.Until(t, 20*time.Second, "retained states", func() bool { _, ok := states.last("vigil/yard.2/tamper/state"); return ok })
		if m, _ := states.last("vigil/yard.2/tamper/state"); !m.retained || string(m.payload) != "ON" {
			t.Errorf("tamper state retained=%v %q", m.retained, m.payload)
		}

		// A camera removed by a reload is withdrawn: its configurations
		// are emptied, so Home Assistant removes its sensors.
		s.SetCameras(cams("gate"))
		await.Until(t, 20*time.Second, "yard.2 withdrawn", func() bool {
			// Its image goes last.
			got := all.on("homeassistant/image/site1/" + haID("yard.2") + "_snapshot/config")
			return len(got) > 1 && got[len(got)-1] == ""
		})
		after := subscribeAll(t, url, "after-reload", "homeassistant/#")
		// The retained messages come after the subscription: wait for
		// them, then a while for any more than should be.
		await.Until(t, 20*time.Second, "10 retained configurations", func() bool {
			after.mu.Lock()
			defer after.mu.Unlock()
			return len(after.msgs) >= 10
		})
		time.Sleep(300 * time.Millisecond)
		after.mu.Lock()
		defer after.mu.Unlock()
		for _, m := range after.msgs {
			if strings.Contains(m.topic, "yard_2") {
				t.Errorf("%s still retained after the camera was removed", m.topic)
			}
		}
		if len(after.msgs) != 10 {
			t.Errorf("%d retained configurations after the reload, want gate's 9 sensors and its image", len(after.msgs))
		}
	})
}

// TestFrigateTopScoreIsARunningMaximum: a frame with no one found keeps
// the incident's best score as top_score, and before is the previous
// after.
func TestFrigateTopScoreIsARunningMaximum(t *testing.T) {
	var s frigateState
	mk := func(typ string, people float64) *incident.Event {
		ev := incident.New(typ, incident.Incident{IncidentID: "p", Camera: "c", Kind: "person", StartedAt: time.Unix(100, 0), FrameTime: time.Unix(101, 0),
			Score: people, Boxes: [][4]float64{{0.1, 0.1, 0.1, 0.1}}, FrameWidth: 100, FrameHeight: 100}, time.Now())
		return &ev
	}
	first := one(t, &s, mk(incident.TypeStart, 2))
	second := one(t, &s, mk(incident.TypeUpdate, 0))
	if second.After.Score != 0 || second.After.TopScore != 1 || second.Before.Score != 1 {
		t.Errorf("score %v top_score %v before.score %v, want 0, 1 and 1", second.After.Score, second.After.TopScore, second.Before.Score)
	}
	if second.Before != first.After {
		t.Error("before is not the previous after")
	}
	if _, _, ok := s.update(mk(incident.TypeStart, 1)); !ok {
		t.Error("person not mapped")
	}
	ev := mk(incident.TypeStart, 1)
	ev.Data.Kind = "loitering"
	if _, _, ok := s.update(ev); ok {
		t.Error("loitering mapped to a Frigate object")
	}
}

// cams returns the cameras ids, their kinds unknown (every kind).
func cams(ids ...string) []sink.Camera {
	out := make([]sink.Camera, len(ids))
	for i, id := range ids {
		out[i] = sink.Camera{ID: id}
	}
	return out
}

// one applies ev and returns its one <frigate>/events message.
func one(t *testing.T, s *frigateState, ev *incident.Event) frigatePayload {
	t.Helper()
	ps, _, ok := s.update(ev)
	if !ok || len(ps) != 1 {
		t.Fatalf("%s: %d messages (%v), want 1", ev.Type, len(ps), ok)
	}
	return ps[0]
}

// TestFrigateScoreAndBoxFromTheNetwork: with the object network, score,
// top_score and box are those of its best-scoring person, not the people
// count and the largest box.
func TestFrigateScoreAndBoxFromTheNetwork(t *testing.T) {
	var s frigateState
	mk := func(typ string, objs ...incident.Object) *incident.Event {
		ev := incident.New(typ, incident.Incident{IncidentID: "n", Camera: "c", Kind: "person", StartedAt: time.Unix(100, 0), FrameTime: time.Unix(101, 0),
			Score: float64(len(objs)), Boxes: [][4]float64{{0.5, 0.5, 0.4, 0.4}, {0.1, 0.1, 0.1, 0.2}}, FrameWidth: 200, FrameHeight: 100,
			Objects: objs}, time.Now())
		return &ev
	}
	big := incident.Object{Label: "person", Score: 0.55, Box: [4]float64{0.5, 0.5, 0.4, 0.4}}
	best := incident.Object{Label: "person", Score: 0.9, Box: [4]float64{0.1, 0.1, 0.1, 0.2}}
	car := incident.Object{Label: "vehicle", Score: 0.99, Box: [4]float64{0, 0, 0.1, 0.1}}
	p := one(t, &s, mk(incident.TypeStart, big, best, car))
	if p.After.Label != "person" || p.After.Score != 0.9 || p.After.TopScore != 0.9 {
		t.Errorf("label %q score %v top_score %v, want person 0.9 0.9 (the best person, not the vehicle)", p.After.Label, p.After.Score, p.After.TopScore)
	}
	if want := [4]int{20, 10, 40, 30}; p.After.Box != want {
		t.Errorf("box %v, want the best person's %v", p.After.Box, want)
	}
	p = one(t, &s, mk(incident.TypeUpdate, big))
	if p.After.Score != 0.55 || p.After.TopScore != 0.9 {
		t.Errorf("score %v top_score %v, want 0.55 and the running 0.9", p.After.Score, p.After.TopScore)
	}
	// The end carries no objects and the most people seen as score (the
	// engine's end): score and top_score stay the last and the best seen.
	end := mk(incident.TypeEnd)
	end.Data.Score, end.Data.Boxes = 2, nil
	end.Data.EndedAt = &end.Data.FrameTime
	p = one(t, &s, end)
	if p.Type != "end" || p.After.Score != 0.55 || p.After.TopScore != 0.9 || p.After.Box != p.Before.Box {
		t.Errorf("end: score %v top_score %v box %v, want 0.55, 0.9 and the last box %v", p.After.Score, p.After.TopScore, p.After.Box, p.Before.Box)
	}
}
