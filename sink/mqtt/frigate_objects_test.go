package mqtt

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
)

// trackedEvents are a person incident on door that follows three people
// (A and B at the start, B gone and C come by the second update) and a
// vehicle incident (V) meanwhile.
func trackedEvents(t0 time.Time) []incident.Event {
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	obj := func(track, label string, score float64, x float64) incident.Object {
		return incident.Object{Label: label, Score: score, Box: [4]float64{x, 0.2, 0.1, 0.4}, TrackID: track}
	}
	ev := func(typ, id, kind string, start, sec float64, objs ...incident.Object) incident.Event {
		in := incident.Incident{IncidentID: id, Camera: "door", Kind: kind, StartedAt: at(start), FrameTime: at(sec),
			FrameTimeSource: incident.TimeRTCP, Score: float64(len(objs)), FrameWidth: 1000, FrameHeight: 500, Objects: objs}
		for _, o := range objs {
			in.Boxes = append(in.Boxes, o.Box)
		}
		if typ == incident.TypeEnd {
			in.EndedAt, in.Score = &in.FrameTime, 2
		}
		return incident.New(typ, in, at(sec))
	}
	const p, v = "0193a1b2-0000-7000-8000-0000000000b1", "0193a1b2-0000-7000-8000-0000000000b2"
	return []incident.Event{
		ev(incident.TypeStart, p, "person", 0, 1, obj("A", "person", 0.8, 0.1), obj("B", "person", 0.6, 0.5), obj("V", "vehicle", 0.9, 0.7)),
		ev(incident.TypeUpdate, p, "person", 0, 2, obj("A", "person", 0.9, 0.15)),
		ev(incident.TypeStart, v, "vehicle", 1.5, 2.5, obj("V", "vehicle", 0.7, 0.7)),
		ev(incident.TypeUpdate, p, "person", 0, 3, obj("A", "person", 0.7, 0.2), obj("C", "person", 0.5, 0.4)),
		ev(incident.TypeEnd, v, "vehicle", 1.5, 3.5),
		ev(incident.TypeEnd, p, "person", 0, 4),
	}
}

// TestFrigateOneEventPerTrackedObject replays a subscriber of
// frigate/events and frigate/reviews (the blueprint's) on Mosquitto: each
// person and vehicle followed is its own Frigate event, with its own
// label, score, top_score and box, new when it appears, ended when the
// incident no longer carries it or ends, its scores unchanged at the end;
// the review lists every object's event id and label; the ids are
// Frigate's form, derived from camera, track and incident start, so a
// second engine given the same events names them the same.
func TestFrigateOneEventPerTrackedObject(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	rec := subscribeAll(t, url, "frigate-consumer", "frigate/#")

	c := testkit.Sink(config.SinkMQTT, "mqtt", url, func(s *config.Sink) {
		s.MQTT.FrigateCompat, s.MQTT.FrigateTopicPrefix = true, "frigate"
		s.Timeout = 2 * time.Second
	})
	s, err := New(sink.CommonOf(c), *c.MQTT, cams("door"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 22, 21, 4, 4, 250_000_000, time.UTC)
	deliverAll(t, s, trackedEvents(t0))
	await.Until(t, 20*time.Second, "the review's end", func() bool {
		return strings.Contains(strings.Join(rec.on("frigate/reviews"), ""), `"type":"end"`)
	})
	time.Sleep(200 * time.Millisecond)

	id := func(track string, start float64) string {
		return frigate.EventID("door", track, t0.Add(time.Duration(start*float64(time.Second))))
	}
	A, B, C, V := id("A", 0), id("B", 0), id("C", 0), id("V", 1.5)
	if !strings.HasPrefix(A, "1795381444.250000-") || A == B || len(map[string]bool{A: true, B: true, C: true, V: true}) != 4 {
		t.Errorf("ids %s %s %s %s: want Frigate's <start>-<6 chars>, one per object", A, B, C, V)
	}
	type step struct {
		typ, id, label string
		score, top     float64
		x1             int
		ended          bool
	}
	want := []step{
		{"new", A, "person", 0.8, 0.8, 100, false},
		{"new", B, "person", 0.6, 0.6, 500, false},
		{"update", A, "person", 0.9, 0.9, 150, false},
		{"end", B, "person", 0.6, 0.6, 500, true}, // gone from the update: its scores kept
		{"new", V, "car", 0.7, 0.7, 700, false},
		{"update", A, "person", 0.7, 0.9, 200, false},
		{"new", C, "person", 0.5, 0.5, 400, false},
		{"end", V, "car", 0.7, 0.7, 700, true},
		{"end", A, "person", 0.7, 0.9, 200, true},
		{"end", C, "person", 0.5, 0.5, 400, true},
	}
	got := rec.on("frigate/events")
	if len(got) != len(want) {
		t.Fatalf("%d frigate/events messages, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	last := map[string]*frigateDetails{}
	for i, raw := range got {
		var m frigatePayload
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		w, a := want[i], m.After
		if m.Type != w.typ || a.ID != w.id || a.Label != w.label || a.Score != w.score || a.TopScore != w.top || a.Box[0] != w.x1 ||
			(a.EndTime != nil) != w.ended || a.Camera != "door" {
			t.Errorf("message %d: %s %s %s score %v top %v box %v end %v, want %+v", i, m.Type, a.ID, a.Label, a.Score, a.TopScore, a.Box, a.EndTime, w)
		}
		if prev := last[a.ID]; prev != nil && !reflect.DeepEqual(m.Before, prev) {
			t.Errorf("message %d: before is not the object's previous after", i)
		}
		last[a.ID] = a
	}
	if e := last[B].EndTime; e == nil || *e != unixSeconds(t0.Add(time.Second)) {
		t.Errorf("B's end_time %v, want its last sighting", e)
	}

	// The review: one segment, every object's event id and label.
	var reviews []frigateReview
	for _, raw := range rec.on("frigate/reviews") {
		var r frigateReview
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatal(err)
		}
		reviews = append(reviews, r)
	}
	if len(reviews) < 3 || reviews[0].Type != "new" || reviews[len(reviews)-1].Type != "end" {
		t.Fatalf("reviews %+v", reviews)
	}
	if d := reviews[0].After.Data; !reflect.DeepEqual(d.Detections, []string{A, B}) || !reflect.DeepEqual(d.Objects, []string{"person"}) {
		t.Errorf("new review: detections %v objects %v, want A and B, person", d.Detections, d.Objects)
	}
	if d := reviews[len(reviews)-1].After.Data; !reflect.DeepEqual(d.Detections, []string{A, B, V, C}) || !reflect.DeepEqual(d.Objects, []string{"person", "car"}) {
		t.Errorf("ended review: detections %v objects %v, want A, B, V, C and person, car", d.Detections, d.Objects)
	}
	for _, r := range reviews[1 : len(reviews)-1] {
		if r.Type != "update" {
			t.Errorf("review %s in between", r.Type)
		}
	}

	// Another engine given the same events publishes the same ids.
	var other frigateState
	var ids []string
	for _, ev := range trackedEvents(t0) {
		msgs, _, _ := other.update(&ev)
		for _, m := range msgs {
			ids = append(ids, m.After.ID)
		}
	}
	var first []string
	for _, w := range want {
		first = append(first, w.id)
	}
	if !reflect.DeepEqual(ids, first) {
		t.Errorf("another engine's ids %v, want %v", ids, first)
	}
}
