package mqtt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
)

// TestHAIDInjective: camera ids that differ only where Home Assistant
// refuses a character ("gate.1", "gate_1") get different ids, an id that
// fits is kept, and the mapping does not change between runs.
func TestHAIDInjective(t *testing.T) {
	ids := []string{"gate.1", "gate_1", "gate-1", "gate1", "gate..1", "gate._1", "gate_.1", "gate__1", "a.b", "a_b", "a.b_"}
	seen := map[string]string{}
	fits := regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	for _, id := range ids {
		h := haID(id)
		if !fits.MatchString(h) {
			t.Errorf("haID(%q) = %q does not fit a discovery topic level", id, h)
		}
		if other, ok := seen[h]; ok {
			t.Errorf("haID(%q) = haID(%q) = %q", id, other, h)
		}
		seen[h] = id
	}
	for _, id := range []string{"gate", "gate_1", "yard-2", "vigil-mqtt"} {
		if h := haID(id); h != id {
			t.Errorf("haID(%q) = %q, want it kept (earlier versions' ids)", id, h)
		}
	}
	// Stable across restarts and engines: a fixed value, not a salt.
	if h := haID("gate.1"); h != "gate_1_4c8a4737" {
		t.Errorf("haID(gate.1) = %q, want gate_1_4c8a4737", h)
	}
}

// TestTwoEnginesOneBroker: two engines started from the same file (the
// same sink, two cluster node ids) stay connected to one Mosquitto side by
// side, which a shared client id would not let them (the broker drops the
// older session, which reconnects and drops the other, and so on: their
// availability flaps), and announce the same cameras to Home Assistant
// with the same unique_id, on the same discovery topic.
func TestTwoEnginesOneBroker(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	all := subscribeAll(t, url, "test-all", "#")

	engine := func(node string) config.Sink {
		cfg, err := config.Parse([]byte(fmt.Sprintf(`
cluster: {nats_url: 'nats://127.0.0.1:4222', node_id: %s}
sinks:
  - {type: mqtt, url: '%s', ha_discovery: true, timeout: 2s}
`, node, url)))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Sinks[0]
	}
	a, b := engine("node-a"), engine("node-b")
	if a.MQTT.ClientID == b.MQTT.ClientID || a.MQTT.ClientID != "vigil-mqtt-node-a" {
		t.Fatalf("client ids %q and %q, want vigil-mqtt-node-a and one of its own for node-b", a.MQTT.ClientID, b.MQTT.ClientID)
	}
	ids := []string{"gate.1", "gate_1"}
	var engines []*Sink
	for _, c := range []config.Sink{a, b} {
		s, err := New(sink.CommonOf(c), *c.MQTT, cams(ids...), nil)
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, s)
	}
	closed := 0
	defer func() {
		for _, s := range engines[closed:] {
			s.Close()
		}
	}()
	// configs returns the discovery configurations of a camera's motion
	// sensor seen on any node id's topic, by topic.
	configs := func(cam string) map[string][]string {
		re := regexp.MustCompile(`^homeassistant/binary_sensor/[^/]+/` + haID(cam) + `_motion/config$`)
		all.mu.Lock()
		defer all.mu.Unlock()
		out := map[string][]string{}
		for _, m := range all.msgs {
			if re.MatchString(m.topic) {
				out[m.topic] = append(out[m.topic], string(m.payload))
			}
		}
		return out
	}
	count := func(cam string) (n int) {
		for _, ps := range configs(cam) {
			n += len(ps)
		}
		return n
	}
	await.Until(t, 20*time.Second, "both engines' discovery configurations", func() bool {
		return count("gate.1") >= 2 && count("gate_1") >= 2
	})
	// Side by side for a while: paho reconnects within a second of a
	// takeover, so sessions taking each other over would announce again
	// and again.
	time.Sleep(6 * time.Second)
	if got := all.on("vigil/available"); len(got) != 2 || got[0] != "online" || got[1] != "online" {
		t.Errorf("vigil/available %q, want one online per engine (no session taken over)", got)
	}
	uid := map[string]string{}
	for _, cam := range ids {
		byTopic := configs(cam)
		if len(byTopic) != 1 {
			t.Errorf("%s: configurations on %d topics, want one shared by the engines: %v", cam, len(byTopic), byTopic)
		}
		for topic, got := range byTopic {
			if topic != "homeassistant/binary_sensor/vigil-mqtt/"+haID(cam)+"_motion/config" {
				t.Errorf("%s: discovery topic %s, want it under ha_node_id vigil-mqtt", cam, topic)
			}
			if len(got) != 2 {
				t.Errorf("%s: %d configurations, want one per engine (announced once per connection)", topic, len(got))
			}
			for _, p := range got {
				var d haDiscovery
				if err := json.Unmarshal([]byte(p), &d); err != nil {
					t.Fatalf("%s: %v", topic, err)
				}
				if uid[cam] != "" && d.UniqueID != uid[cam] {
					t.Errorf("%s: unique_id %q and %q from the two engines, want one", cam, uid[cam], d.UniqueID)
				}
				uid[cam] = d.UniqueID
			}
		}
	}
	if uid["gate.1"] == uid["gate_1"] {
		t.Errorf("gate.1 and gate_1 share unique_id %q", uid["gate.1"])
	}

	// One engine stops: the other puts its "online" back over the
	// "offline" it left, so Home Assistant's entities stay available.
	engines[0].Close()
	closed++
	await.Until(t, 20*time.Second, "the running engine's online again", func() bool {
		got := all.on("vigil/available")
		return len(got) >= 4 && got[len(got)-1] == "online"
	})
	late := subscribeAll(t, url, "late-available", "vigil/available")
	await.Until(t, 20*time.Second, "the retained availability", func() bool { _, ok := late.last("vigil/available"); return ok })
	if m, _ := late.last("vigil/available"); string(m.payload) != "online" || !m.retained {
		t.Errorf("vigil/available retained=%v %q with one engine running, want online", m.retained, m.payload)
	}
	// The last one stops: offline.
	engines[1].Close()
	closed++
	await.Until(t, 20*time.Second, "offline once no engine runs", func() bool {
		m, _ := all.last("vigil/available")
		return string(m.payload) == "offline"
	})
	time.Sleep(500 * time.Millisecond)
	if got := all.on("vigil/available"); got[len(got)-1] != "offline" {
		t.Errorf("vigil/available %q, want offline last", got)
	}
}

// TestCameraMovedBetweenEngines: a camera that moved from one engine to
// another (a cluster node taking it over) and that the former engine
// withdraws late, after the new one announced it, is announced again by
// the new one: its Home Assistant entities come back under the same
// unique_id instead of staying removed.
func TestCameraMovedBetweenEngines(t *testing.T) {
	defer func(d time.Duration) { reannounce = d }(reannounce)
	reannounce = 2 * time.Second
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	all := subscribeAll(t, url, "test-all", "#")
	var engines []*Sink
	for _, node := range []string{"node-a", "node-b"} {
		c := testkit.Sink(config.SinkMQTT, "mqtt", url, func(s *config.Sink) {
			s.MQTT.HADiscovery, s.MQTT.ClientID, s.Timeout = true, "vigil-mqtt-"+node, 2*time.Second
		})
		s, err := New(sink.CommonOf(c), *c.MQTT, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		engines = append(engines, s)
	}
	topic := "homeassistant/binary_sensor/vigil-mqtt/gate_motion/config"
	last := func() string {
		m, _ := all.last(topic)
		return string(m.payload)
	}
	engines[0].SetCameras(cams("gate"))
	await.Until(t, 20*time.Second, "node-a's announcement", func() bool { return last() != "" })
	first := last()
	// node-b takes the camera, then node-a's withdrawal arrives.
	engines[1].SetCameras(cams("gate"))
	await.Until(t, 20*time.Second, "node-b's announcement", func() bool { return len(all.on(topic)) >= 2 })
	// node-b announces every reannounce: it may announce again right after
	// the withdrawal, so the withdrawal is looked for among the messages
	// since, not as the last one.
	n := len(all.on(topic))
	engines[0].SetCameras(nil)
	await.Until(t, 20*time.Second, "node-a's withdrawal", func() bool { return slices.Contains(all.on(topic)[n:], "") })
	await.Until(t, 20*time.Second, "node-b's announcement again", func() bool { return last() != "" })
	if got := last(); got != first {
		t.Errorf("configuration %s, want the same as before the move %s", got, first)
	}
}

// TestHAEveryKindAndSnapshot: on Mosquitto, each camera gets a binary
// sensor for intrusion, loitering, crowd and analysis_stalled (retained
// discovery configurations, with the camera's device and availability),
// whose state goes ON at the start of an incident of that kind and OFF at
// its end, and an image entity whose image_topic receives, retained, the
// JPEG of an incident with evidence.
func TestHAEveryKindAndSnapshot(t *testing.T) {
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
	c := testkit.Sink(config.SinkMQTT, "mqtt", url, func(s *config.Sink) {
		s.MQTT.HADiscovery, s.MQTT.HANodeID = true, "site1"
		s.Timeout, s.BackoffMin = 2*time.Second, 50*time.Millisecond
	})
	s, err := New(sink.CommonOf(c), *c.MQTT, cams("gate"), store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	kinds := map[string]string{"intrusion": "occupancy", "loitering": "occupancy", "crowd": "occupancy", "analysis_stalled": "problem"}
	imageCfg := "homeassistant/image/site1/gate_snapshot/config"
	await.Until(t, 20*time.Second, "the discovery configurations", func() bool {
		for k := range kinds {
			if _, ok := all.last("homeassistant/binary_sensor/site1/gate_" + k + "/config"); !ok {
				return false
			}
		}
		_, ok := all.last(imageCfg)
		return ok
	})
	// A late subscriber reads them retained.
	ha := subscribeAll(t, url, "late-ha", "homeassistant/#")
	await.Until(t, 20*time.Second, "the retained configurations", func() bool {
		for k := range kinds {
			if _, ok := ha.last("homeassistant/binary_sensor/site1/gate_" + k + "/config"); !ok {
				return false
			}
		}
		_, ok := ha.last(imageCfg)
		return ok
	})
	for k, class := range kinds {
		m, _ := ha.last("homeassistant/binary_sensor/site1/gate_" + k + "/config")
		var d haDiscovery
		if err := json.Unmarshal(m.payload, &d); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !m.retained || d.UniqueID != "vigil_site1_gate_"+k || d.DeviceClass != class || d.StateTopic != "vigil/gate/"+k+"/state" ||
			d.AvailabilityTopic != "vigil/available" || d.Device.Identifiers[0] != "vigil_site1_gate" {
			t.Errorf("%s: retained=%v %+v", k, m.retained, d)
		}
	}
	m, _ := ha.last(imageCfg)
	var img map[string]any
	if err := json.Unmarshal(m.payload, &img); err != nil {
		t.Fatal(err)
	}
	if !m.retained || img["image_topic"] != "vigil/gate/snapshot" || img["content_type"] != "image/jpeg" ||
		img["unique_id"] != "vigil_site1_gate_snapshot" || img["availability_topic"] != "vigil/available" {
		t.Errorf("image config retained=%v %v", m.retained, img)
	}

	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	ev := func(typ, kind, id string, s float64, evd []incident.Evidence) incident.Event {
		in := incident.Incident{IncidentID: id, Camera: "gate", Kind: kind, Zone: "yard", StartedAt: t0,
			FrameTime: t0.Add(time.Duration(s) * time.Second), FrameTimeSource: incident.TimeReceipt, Evidence: evd}
		if typ == incident.TypeEnd {
			in.EndedAt = &in.FrameTime
		}
		return incident.New(typ, in, in.FrameTime)
	}
	state := func(k string) string {
		m, _ := all.last("vigil/gate/" + k + "/state")
		return string(m.payload)
	}
	for k := range kinds {
		id := "0193a1b2-0000-7000-8000-0000000000" + fmt.Sprintf("%02x", len(k))
		deliverAll(t, s, []incident.Event{ev(incident.TypeStart, k, id, 1, nil)})
		await.Until(t, 20*time.Second, k+" ON", func() bool { return state(k) == "ON" })
		for other := range kinds {
			if other != k && state(other) != "OFF" {
				t.Errorf("%s is %q while only %s is open", other, state(other), k)
			}
		}
		deliverAll(t, s, []incident.Event{ev(incident.TypeEnd, k, id, 2, nil)})
		await.Until(t, 20*time.Second, k+" OFF", func() bool { return state(k) == "OFF" })
	}

	jpg := []byte("\xff\xd8\xff\xe0 intrusion snapshot \xff\xd9")
	id := "0193a1b2-0000-7000-8000-0000000000ff"
	saved, err := store.Save("gate", id, "start", jpg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	deliverAll(t, s, []incident.Event{ev(incident.TypeStart, "intrusion", id, 3, []incident.Evidence{saved})})
	late := subscribeAll(t, url, "late-image", "vigil/gate/snapshot")
	await.Until(t, 20*time.Second, "the retained snapshot on the image topic", func() bool {
		_, ok := late.last("vigil/gate/snapshot")
		return ok
	})
	if m, _ := late.last("vigil/gate/snapshot"); !m.retained || !bytes.Equal(m.payload, jpg) {
		t.Errorf("image topic retained=%v %q, want the incident's JPEG retained", m.retained, m.payload)
	}
}

// TestHAOnlyKindsACameraCanRaise: on Mosquitto, a camera is announced with
// a sensor only for the incident kinds its configuration can raise (a
// late subscriber finds no retained configuration for the others, even
// one an earlier version or configuration had announced); a
// reconfiguration that takes a kind away empties its configuration and
// state, one that adds a kind announces it; unique_ids do not change; a
// camera whose kinds are unknown keeps every sensor.
func TestHAOnlyKindsACameraCanRaise(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	c := testkit.Sink(config.SinkMQTT, "mqtt", url, func(s *config.Sink) {
		s.MQTT.HADiscovery, s.MQTT.HANodeID = true, "site1"
		s.Timeout, s.BackoffMin = 2*time.Second, 50*time.Millisecond
	})
	cfgTopic := func(cam, key string) string {
		return "homeassistant/binary_sensor/site1/" + cam + "_" + key + "/config"
	}
	// An earlier run announced every sensor of gate (kinds unknown).
	old, err := New(sink.CommonOf(c), *c.MQTT, cams("gate"), nil)
	if err != nil {
		t.Fatal(err)
	}
	all := subscribeAll(t, url, "test-all", "#")
	await.Until(t, 20*time.Second, "every sensor announced", func() bool {
		for _, sn := range haSensors {
			if m, ok := all.last(cfgTopic("gate", sn.key)); !ok || len(m.payload) == 0 {
				return false
			}
		}
		return true
	})
	old.Close()

	base := []string{"motion", "camera_offline", "analysis_stalled"}
	s, err := New(sink.CommonOf(c), *c.MQTT, []sink.Camera{
		{ID: "gate", Kinds: append(slices.Clone(base), "person", "intrusion")},
		{ID: "yard", Kinds: nil},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// retained returns the sensors with a retained configuration of cam,
	// as a late subscriber (Home Assistant starting) reads them.
	retained := func(name string, cam string, want []string) {
		t.Helper()
		late := subscribeAll(t, url, name, "homeassistant/binary_sensor/site1/+/config")
		defer late.c.Disconnect(100)
		var got []string
		await.Until(t, 20*time.Second, name+": "+strings.Join(want, ", "), func() bool {
			got = nil
			for _, sn := range haSensors {
				// Retained when it subscribed, or published since.
				if m, ok := late.last(cfgTopic(cam, sn.key)); ok && len(m.payload) > 0 {
					got = append(got, sn.key)
				}
			}
			return slices.Equal(got, want)
		})
	}
	retained("late-1", "gate", []string{"motion", "person", "intrusion", "analysis_stalled", "online"})
	retained("late-2", "yard", []string{"motion", "person", "vehicle", "tamper", "intrusion", "loitering", "crowd", "analysis_stalled", "online"})
	m, _ := all.last(cfgTopic("gate", "person"))
	var d haDiscovery
	if err := json.Unmarshal(m.payload, &d); err != nil || d.UniqueID != "vigil_site1_gate_person" {
		t.Errorf("person: %v %+v", err, d)
	}
	// A state of a kind the camera cannot raise is not published.
	ev := incident.New(incident.TypeStart, incident.Incident{IncidentID: "0193a1b2-0000-7000-8000-0000000000d1", Camera: "gate", Kind: "tamper",
		Cause: "covered", StartedAt: time.Now(), FrameTime: time.Now(), FrameTimeSource: incident.TimeReceipt, Score: 1}, time.Now())
	motion := ev
	motion.ID, motion.Data.IncidentID, motion.Data.Kind, motion.Data.Cause = "m", "0193a1b2-0000-7000-8000-0000000000d2", "motion", ""
	deliverAll(t, s, []incident.Event{ev, motion})
	// The broker keeps one client's order: once motion's state is here,
	// tamper's would be too.
	await.Until(t, 20*time.Second, "motion ON", func() bool { m, _ := all.last("vigil/gate/motion/state"); return string(m.payload) == "ON" })
	if slices.Contains(all.on("vigil/gate/tamper/state"), "ON") {
		t.Errorf("tamper's state published ON before gate could raise it: %q", all.on("vigil/gate/tamper/state"))
	}

	// The reconfiguration: no more people on gate, a loitering zone and
	// tamper detection instead.
	s.SetCameras([]sink.Camera{{ID: "gate", Kinds: append(slices.Clone(base), "intrusion", "loitering", "tamper")}, {ID: "yard"}})
	retained("late-3", "gate", []string{"motion", "tamper", "intrusion", "loitering", "analysis_stalled", "online"})
	await.Until(t, 20*time.Second, "person's state emptied, tamper's ON (its incident is open)", func() bool {
		p, ok := all.last("vigil/gate/person/state")
		tm, _ := all.last("vigil/gate/tamper/state")
		return ok && len(p.payload) == 0 && string(tm.payload) == "ON"
	})
}
