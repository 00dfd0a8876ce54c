package mqtt

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
)

// blueprintReview is what SgtBatten's "Frigate Camera Notifications"
// blueprint (Frigate_Camera_Notifications/Stable.yaml) reads of a
// <frigate>/reviews message, read as it does: from the JSON, by key.
// trigger: value_json['type'] == 'new' on its mqtt_topic (default
// frigate/reviews); then camera, severity, data.objects, data.sub_labels,
// data.zones (before and after), data.detections[0] (the event whose
// thumbnail.jpg and snapshot.jpg it attaches, through the integration's
// notifications proxy: /api/events/<id>/thumbnail.jpg), start_time
// (before and after, through timestamp_custom and as_datetime); then it
// waits for messages whose value_json['after']['id'] is the review's,
// until value_json['type'] == 'end'.
func blueprintReview(t *testing.T, payload string) (typ, id, camera, severity string, objects, zones, beforeZones, detections []string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		t.Fatalf("%v: %s", err, payload)
	}
	str := func(v any, what string) string {
		s, ok := v.(string)
		if !ok {
			t.Errorf("%s: %v (%T), want a string: %s", what, v, v, payload)
		}
		return s
	}
	list := func(v any, what string) []string {
		l, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %v (%T), want a list: %s", what, v, v, payload)
		}
		out := []string{}
		for _, e := range l {
			out = append(out, str(e, what+"[]"))
		}
		return out
	}
	obj := func(v any, what string) map[string]any {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v (%T), want an object: %s", what, v, v, payload)
		}
		return o
	}
	after, before := obj(m["after"], "after"), obj(m["before"], "before")
	ad, bd := obj(after["data"], "after.data"), obj(before["data"], "before.data")
	for _, side := range []map[string]any{after, before} {
		if _, ok := side["start_time"].(float64); !ok {
			t.Errorf("start_time %v, want a number of seconds", side["start_time"])
		}
	}
	list(ad["sub_labels"], "after.data.sub_labels")
	return str(m["type"], "type"), str(after["id"], "after.id"), str(after["camera"], "after.camera"), str(after["severity"], "after.severity"),
		list(ad["objects"], "after.data.objects"), list(ad["zones"], "after.data.zones"), list(bd["zones"], "before.data.zones"),
		list(ad["detections"], "after.data.detections")
}

// TestFrigateReviewsForTheBlueprint replays the notification blueprint's
// subscription on Mosquitto: one review segment per camera, opened by its
// first person ("new", the blueprint's trigger), updated when a zone rule
// fires (severity alert, the zone entered) and a second person joins, ended
// when the last person leaves; review_status follows it, as the Home
// Assistant integration's review status sensor reads it.
func TestFrigateReviewsForTheBlueprint(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	reviews := subscribeAll(t, url, "blueprint", "frigate/reviews") // the blueprint's default mqtt_topic
	status := subscribeAll(t, url, "review-status", "frigate/+/review_status")

	c := testkit.Sink(config.SinkMQTT, "mqtt", url, func(s *config.Sink) {
		s.MQTT.FrigateCompat, s.MQTT.FrigateTopicPrefix = true, "frigate"
		s.Timeout = 2 * time.Second
	})
	s, err := New(sink.CommonOf(c), *c.MQTT, cams("door", "yard"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	t0 := time.Date(2026, 11, 22, 21, 4, 4, 0, time.UTC)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	ev := func(typ, camera, kind, zone, id string, start, sec float64) incident.Event {
		in := incident.Incident{IncidentID: id, Camera: camera, Kind: kind, Zone: zone, StartedAt: at(start), FrameTime: at(sec),
			FrameTimeSource: incident.TimeReceipt, Score: 1}
		if typ == incident.TypeEnd {
			in.EndedAt = &in.FrameTime
		}
		return incident.New(typ, in, at(sec))
	}
	deliverAll(t, s, []incident.Event{
		ev(incident.TypeStart, "door", "person", "", "p1", 1, 1),
		ev(incident.TypeStart, "yard", "motion", "", "m1", 1.5, 1.5), // no review
		ev(incident.TypeStart, "door", "loitering", "porch", "l1", 2, 2),
		ev(incident.TypeStart, "door", "person", "", "p2", 3, 3),
		ev(incident.TypeUpdate, "door", "person", "", "p1", 1, 3.5), // nothing new
		ev(incident.TypeEnd, "door", "person", "", "p1", 1, 4),      // p2 still there
		ev(incident.TypeEnd, "door", "loitering", "porch", "l1", 2, 4.5),
		ev(incident.TypeEnd, "door", "person", "", "p2", 3, 5),
	})
	await.Until(t, 20*time.Second, "the review's end", func() bool { return len(reviews.on("frigate/reviews")) >= 4 })
	time.Sleep(200 * time.Millisecond)

	got := reviews.on("frigate/reviews")
	if len(got) != 4 {
		t.Fatalf("%d reviews messages, want new, update (alert), update (second person), end:\n%q", len(got), got)
	}
	// The trigger.
	typ, id, camera, severity, objects, zones, _, detections := blueprintReview(t, got[0])
	if typ != "new" || camera != "door" || severity != "detection" || !reflect.DeepEqual(objects, []string{"person"}) ||
		len(zones) != 0 || !reflect.DeepEqual(detections, []string{"p1"}) {
		t.Errorf("trigger: type %s camera %s severity %s objects %v zones %v detections %v", typ, camera, severity, objects, zones, detections)
	}
	// The blueprint's loop: the messages of its review, until the end.
	wantSev := []string{"detection", "alert", "alert", "alert"}
	wantTypes := []string{"new", "update", "update", "end"}
	var prevZones []string
	for i, p := range got {
		typ, rid, _, sev, _, zones, before, _ := blueprintReview(t, p)
		if rid != id || typ != wantTypes[i] || sev != wantSev[i] {
			t.Errorf("message %d: review %s type %s severity %s, want %s %s %s", i, rid, typ, sev, id, wantTypes[i], wantSev[i])
		}
		if i > 0 && !reflect.DeepEqual(before, prevZones) {
			t.Errorf("message %d: before.data.zones %v, want the previous after's %v", i, before, prevZones)
		}
		prevZones = zones
	}
	if _, _, _, _, _, zones, _, det := blueprintReview(t, got[2]); !reflect.DeepEqual(zones, []string{"porch"}) || !reflect.DeepEqual(det, []string{"p1", "p2"}) {
		t.Errorf("second update: zones %v detections %v, want [porch] and both people", zones, det)
	}
	var end frigateReview
	if err := json.Unmarshal([]byte(got[3]), &end); err != nil {
		t.Fatal(err)
	}
	if end.After.EndTime == nil || *end.After.EndTime != unixSeconds(at(5)) || end.Before.EndTime != nil || end.After.StartTime != unixSeconds(at(1)) {
		t.Errorf("end: start %v end %v (before's %v), want %v and %v", end.After.StartTime, end.After.EndTime, end.Before.EndTime, unixSeconds(at(1)), unixSeconds(at(5)))
	}
	if st := status.on("frigate/door/review_status"); !reflect.DeepEqual(st, []string{"DETECTION", "ALERT", "ALERT", "NONE"}) {
		t.Errorf("frigate/door/review_status %q", st)
	}
	if st := status.on("frigate/yard/review_status"); len(st) != 0 {
		t.Errorf("yard's motion made a review: %q", st)
	}
}

// TestFrigateReviewEndAfterRestart: a person's end delivered by a sink
// that did not see its start (the engine restarted in between) still
// ends the segment the start opened: same id.
func TestFrigateReviewEndAfterRestart(t *testing.T) {
	start := incident.New(incident.TypeStart, incident.Incident{IncidentID: "p", Camera: "c", Kind: "person", StartedAt: time.Unix(100, 0), FrameTime: time.Unix(100, 0)}, time.Unix(100, 0))
	endAt := time.Unix(130, 0)
	end := incident.New(incident.TypeEnd, incident.Incident{IncidentID: "p", Camera: "c", Kind: "person", StartedAt: time.Unix(100, 0), FrameTime: endAt, EndedAt: &endAt}, endAt)
	var before, after reviewState
	n, _, _ := before.update(&start, []string{"p"})
	e, st, ok := after.update(&end, []string{"p"})
	if !ok || e.Type != "end" || e.After.ID != n.After.ID || st != "NONE" || e.After.EndTime == nil || *e.After.EndTime != 130 {
		t.Errorf("end after a restart: %v %+v %q, want the end of %s", ok, e.After, st, n.After.ID)
	}
	if len(after.cams) != 0 {
		t.Errorf("state left after the end: %v", after.cams)
	}
}

// cutProxy relays TCP connections to a broker until cut, which drops
// them without a word: to the broker, a client that went away.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, port int) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := testkit.Dial(port)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }() //nolint:errcheck
			go func() { io.Copy(c, b); c.Close() }() //nolint:errcheck
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) url() string { return "tcp://" + p.ln.Addr().String() }

func (p *cutProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestFrigateAvailableLastWill: an engine that goes away without a word
// (killed, its network lost) leaves "offline" on frigate/available, as
// Frigate's last will does, not a stale "online"; another engine on the
// same prefix puts its "online" back; the last one's Close leaves
// "offline".
func TestFrigateAvailableLastWill(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	all := subscribeAll(t, url, "ha", "+/available")
	proxy := newCutProxy(t, port)

	mk := func(name, addr string) *Sink {
		c := testkit.Sink(config.SinkMQTT, name, addr, func(s *config.Sink) {
			s.MQTT.FrigateCompat, s.MQTT.FrigateTopicPrefix = true, "frigate"
			s.Timeout = 2 * time.Second
		})
		s, err := New(sink.CommonOf(c), *c.MQTT, cams("door"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	killed := mk("a", proxy.url())
	defer killed.Close()
	await.Until(t, 20*time.Second, "frigate/available online", func() bool {
		m, _ := all.last("frigate/available")
		return string(m.payload) == "online"
	})
	proxy.cut()
	await.Until(t, 20*time.Second, "the last will on frigate/available", func() bool {
		m, _ := all.last("frigate/available")
		return string(m.payload) == "offline"
	})
	late := subscribeAll(t, url, "late", "frigate/available")
	await.Until(t, 20*time.Second, "the retained availability", func() bool { _, ok := late.last("frigate/available"); return ok })
	if m, _ := late.last("frigate/available"); !m.retained || string(m.payload) != "offline" {
		t.Errorf("frigate/available retained=%v %q after the engine went away, want offline", m.retained, m.payload)
	}

	// Two engines: one goes away, the other stays online.
	running := mk("b", url)
	await.Until(t, 20*time.Second, "the second engine online", func() bool {
		m, _ := all.last("frigate/available")
		return string(m.payload) == "online"
	})
	onlines := func() (n int) {
		for _, p := range all.on("frigate/available") {
			if p == "online" {
				n++
			}
		}
		return n
	}
	before := onlines()
	other := mk("c", url)
	// Its online comes after its cameras' states: wait for it, not a
	// while.
	await.Until(t, 20*time.Second, "the third engine online", func() bool {
		return other.frigateAvail.client.IsConnectionOpen() && onlines() > before
	})
	n := len(all.on("frigate/available"))
	other.Close()
	await.Until(t, 20*time.Second, "online back after the other's offline", func() bool {
		got := all.on("frigate/available")[n:]
		return len(got) >= 2 && got[0] == "offline" && got[len(got)-1] == "online"
	})
	running.Close()
	await.Until(t, 20*time.Second, "offline at the last Close", func() bool {
		m, _ := all.last("frigate/available")
		return string(m.payload) == "offline"
	})
}

// TestFrigateCameraStates: the retained per-camera states Frigate
// publishes at start, which the integration's switches (detect, motion,
// snapshots, recordings, improve_contrast, review_alerts,
// review_detections, audio, ptz_autotracker) and camera entity (enabled)
// show, for the configured cameras and one added by a reload.
func TestFrigateCameraStates(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	c := testkit.Sink(config.SinkMQTT, "mqtt", url, func(s *config.Sink) {
		s.MQTT.FrigateCompat, s.MQTT.FrigateTopicPrefix = true, "frigate"
		s.Timeout = 2 * time.Second
	})
	s, err := New(sink.CommonOf(c), *c.MQTT, cams("door"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]string{"enabled": "ON", "detect": "ON", "motion": "ON", "snapshots": "OFF", "recordings": "OFF",
		"improve_contrast": "OFF", "review_alerts": "ON", "review_detections": "ON", "audio": "OFF", "ptz_autotracker": "OFF"}
	all := subscribeAll(t, url, "all", "frigate/+/+/state")
	check := func(cam string) {
		t.Helper()
		await.Until(t, 20*time.Second, cam+"'s states", func() bool {
			for sw := range want {
				if len(all.on("frigate/"+cam+"/"+sw+"/state")) == 0 {
					return false
				}
			}
			return true
		})
		late := subscribeAll(t, url, "late-"+cam, "frigate/"+cam+"/+/state")
		await.Until(t, 20*time.Second, cam+"'s retained states", func() bool {
			late.mu.Lock()
			defer late.mu.Unlock()
			return len(late.msgs) >= len(want)
		})
		for sw, v := range want {
			m, ok := late.last("frigate/" + cam + "/" + sw + "/state")
			if !ok || !m.retained || string(m.payload) != v {
				t.Errorf("frigate/%s/%s/state: retained=%v %q, want %s retained", cam, sw, m.retained, m.payload, v)
			}
		}
	}
	check("door")
	s.SetCameras(cams("door", "yard"))
	check("yard")
}
