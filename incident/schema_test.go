package incident_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
)

const (
	dataSchemaFile  = "../schema/incident-v1.json"
	eventSchemaFile = "../schema/incident-event-v1.json"
	eventSchemaURL  = "https://vigil.dev/schema/incident-event/v1"
)

// engineKinds are the incident kinds vigil raises (analyze's Kind*,
// health's KindCameraOffline, KindAnalysisStalled, cluster's
// KindClusterDegraded); each must have its rule in the schema.
var engineKinds = []string{"motion", "intrusion", "person", "vehicle", "crowd", "loitering", "tamper", "camera_offline", "analysis_stalled", "cluster_degraded"}

// clusterKinds are the kinds only a cluster node raises: the replay (one
// engine) has none of them; EveryKind has them.
var clusterKinds = []string{"cluster_degraded"}

// networkKinds are the kinds only the object network raises: the replay
// (gen runs the engine without the network) has none of them; EveryKind
// has them.
var networkKinds = []string{"vehicle"}

// compileSchemas compiles the published data and envelope schemas with
// formats asserted. strict also forbids fields the data schema does not
// name: the published schema leaves data open (version 1 gains fields, and
// consumers ignore what they do not know), but the engine must not emit an
// undocumented field.
func compileSchemas(t *testing.T, strict bool) (data, envelope *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	docs := map[string]any{}
	for _, f := range []string{dataSchemaFile, eventSchemaFile} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		docs[f] = doc
	}
	d := docs[dataSchemaFile].(map[string]any)
	if d["$id"] != incident.DataSchema {
		t.Fatalf("%s: $id %v, but events carry dataschema %s", dataSchemaFile, d["$id"], incident.DataSchema)
	}
	if strict {
		d["additionalProperties"] = false
		ev := d["properties"].(map[string]any)["evidence"].(map[string]any)["items"].(map[string]any)
		ev["additionalProperties"] = false
		obj := d["properties"].(map[string]any)["objects"].(map[string]any)["items"].(map[string]any)
		obj["additionalProperties"] = false
	}
	for f, doc := range docs {
		id := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var err error
	if data, err = c.Compile(incident.DataSchema); err != nil {
		t.Fatalf("%s: %v", dataSchemaFile, err)
	}
	if envelope, err = c.Compile(eventSchemaURL); err != nil {
		t.Fatalf("%s: %v", eventSchemaFile, err)
	}
	return data, envelope
}

// instance turns a value into what the validator reads (numbers as
// json.Number, so that 2 is an integer and 2.5 is not).
func instance(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestEventsMatchThePublishedSchema validates events of every kind and
// cause, and the real events of the scored replay, against the published
// JSON Schemas with a real validator; and checks that the schemas reject
// what they must.
func TestEventsMatchThePublishedSchema(t *testing.T) {
	data, envelope := compileSchemas(t, true)
	check := func(t *testing.T, ev incident.Event) {
		t.Helper()
		if err := envelope.Validate(instance(t, ev)); err != nil {
			b, _ := json.Marshal(ev)
			t.Errorf("%s %s/%s event:\n%v\n%s", ev.Type, ev.Data.Kind, ev.Data.Cause, err, b)
		}
		if err := data.Validate(instance(t, ev.Data)); err != nil {
			t.Errorf("%s %s data: %v", ev.Type, ev.Data.Kind, err)
		}
	}

	t.Run("every kind", func(t *testing.T) {
		seen := map[string]bool{}
		for _, ev := range incidenttest.EveryKind() {
			seen[ev.Data.Kind] = true
			check(t, ev)
		}
		for _, k := range engineKinds {
			if !seen[k] {
				t.Errorf("no %s event was built", k)
			}
		}
	})

	t.Run("replayed through the engine", func(t *testing.T) {
		// Real events: incident/testdata/replay/gen ran the shipped scenarios
		// and health faults through the simulator and the engine.
		f, err := os.Open("testdata/replay/events.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		seen := map[string]int{}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev incident.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatal(err)
			}
			seen[ev.Data.Kind]++
			// The stored line as written, not re-encoded: what consumers got.
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := envelope.Validate(inst); err != nil {
				t.Errorf("replayed %s %s event:\n%v\n%s", ev.Type, ev.Data.Kind, err, sc.Bytes())
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		for _, k := range engineKinds {
			if seen[k] == 0 && !slices.Contains(networkKinds, k) && !slices.Contains(clusterKinds, k) {
				t.Errorf("the replay has no %s event (regenerate it: go run ./incident/testdata/replay/gen)", k)
			}
		}
	})

	t.Run("every kind has its rule", func(t *testing.T) {
		raw, _ := os.ReadFile(dataSchemaFile)
		for _, k := range engineKinds {
			if !bytes.Contains(raw, []byte(`"`+k+`"`)) {
				t.Errorf("%s: no rule names kind %s", dataSchemaFile, k)
			}
		}
	})

	// Each case breaks one valid event; the published (open) schema must
	// reject it.
	_, pubEnvelope := compileSchemas(t, false)
	base := func(kind string) incident.Event {
		for _, ev := range incidenttest.EveryKind() {
			if ev.Data.Kind == kind && ev.Type == incident.TypeUpdate {
				return ev
			}
		}
		t.Fatalf("no %s event", kind)
		return incident.Event{}
	}
	bad := []struct {
		name  string
		event func() any
	}{
		{"motion score above 1", func() any { ev := base("motion"); ev.Data.Score = 1.5; return ev }},
		{"tamper score above 1", func() any { ev := base("tamper"); ev.Data.Score = 3; return ev }},
		{"tamper without cause", func() any { ev := base("tamper"); ev.Data.Cause = ""; return ev }},
		{"tamper with an unknown cause", func() any { ev := base("tamper"); ev.Data.Cause = "painted"; return ev }},
		{"person count not whole", func() any { ev := base("person"); ev.Data.Score = 2.5; return ev }},
		{"vehicle count not whole", func() any { ev := base("vehicle"); ev.Data.Score = 1.5; return ev }},
		{"crowd without zone", func() any { ev := base("crowd"); ev.Data.Zone = ""; return ev }},
		{"loitering without zone", func() any { ev := base("loitering"); ev.Data.Zone = ""; return ev }},
		{"intrusion without zone", func() any { ev := base("intrusion"); ev.Data.Zone = ""; return ev }},
		{"negative loitering seconds", func() any { ev := base("loitering"); ev.Data.Score = -1; return ev }},
		{"camera_offline score not 1", func() any { ev := base("camera_offline"); ev.Data.Score = 0.5; return ev }},
		{"camera_offline unknown cause", func() any { ev := base("camera_offline"); ev.Data.Cause = "gone"; return ev }},
		{"cluster_degraded without cause", func() any { ev := base("cluster_degraded"); ev.Data.Cause = ""; return ev }},
		{"cluster_degraded unknown cause", func() any { ev := base("cluster_degraded"); ev.Data.Cause = "split"; return ev }},
		{"analysis_stalled without cause", func() any { ev := base("analysis_stalled"); ev.Data.Cause = ""; return ev }},
		{"object with an unknown label", func() any { ev := base("person"); ev.Data.Objects[0].Label = "cat"; return ev }},
		{"object score above 1", func() any { ev := base("person"); ev.Data.Objects[0].Score = 1.3; return ev }},
		{"object track_id not a UUID", func() any { ev := base("person"); ev.Data.Objects[0].TrackID = "7"; return ev }},
		{"object without box", func() any {
			b, _ := json.Marshal(base("person"))
			return json.RawMessage(strings.Replace(string(b), `"box":[0.41,0.38,0.12,0.4],`, ``, 1))
		}},
		{"box outside the frame", func() any { ev := base("motion"); ev.Data.Boxes = [][4]float64{{0.5, 0.5, 1.2, 0.1}}; return ev }},
		{"frame_width without frame_height", func() any { ev := base("motion"); ev.Data.FrameHeight = 0; return ev }},
		{"evidence without path or image", func() any {
			ev := base("motion")
			ev.Data.Evidence = []incident.Evidence{{Role: "best"}}
			return ev
		}},
		{"evidence path outside the directory", func() any {
			ev := base("motion")
			ev.Data.Evidence = []incident.Evidence{{Role: "start", Path: "../etc/passwd"}}
			return ev
		}},
		{"evidence not base64", func() any {
			ev := base("motion")
			ev.Data.Evidence = []incident.Evidence{{Role: "start", JPEGBase64: "not base64!"}}
			return ev
		}},
		{"unknown event type", func() any { ev := base("motion"); ev.Type = "vigil.incident.nope"; return ev }},
		{"unknown frame time source", func() any { ev := base("motion"); ev.Data.FrameTimeSource = "guess"; return ev }},
		{"dataschema elsewhere", func() any { ev := base("motion"); ev.DataSchema = "https://example.com/x"; return ev }},
		{"time not a date-time", func() any {
			b, _ := json.Marshal(base("motion"))
			return json.RawMessage(strings.Replace(string(b), `"time":"`, `"time":"yesterday `, 1))
		}},
		{"no data", func() any {
			var m map[string]any
			b, _ := json.Marshal(base("motion"))
			json.Unmarshal(b, &m) //nolint:errcheck
			delete(m, "data")
			return m
		}},
	}
	for _, c := range bad {
		t.Run("rejects "+c.name, func(t *testing.T) {
			if err := pubEnvelope.Validate(instance(t, c.event())); err == nil {
				t.Errorf("the published schema accepts an event with %s", c.name)
			}
		})
	}
	t.Run("strict rejects an undocumented field", func(t *testing.T) {
		b, _ := json.Marshal(base("motion"))
		odd := json.RawMessage(strings.Replace(string(b), `"data":{`, `"data":{"confidence":0.5,`, 1))
		if err := envelope.Validate(instance(t, odd)); err == nil {
			t.Error("an event with an undocumented data field validates against the strict schema")
		}
		if err := pubEnvelope.Validate(instance(t, odd)); err != nil {
			t.Errorf("the published schema must let version 1 gain fields: %v", err)
		}
	})
}

// TestEventIDsDerived: every event of an incident has an id derived from
// what it says, whoever emits it and whenever (a consumer and JetStream see
// it once): every end of an incident the same (EndID), every start the
// same, an update the same for the same frame; and no id is another
// event's (another incident's, another type's, another update's).
func TestEventIDsDerived(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	inc := incident.Incident{IncidentID: "0193a1b2-0000-7000-8000-00000000000a", Camera: "c", Kind: "motion", StartedAt: t0, FrameTime: t0, Score: 0.1}
	a, b := incident.New(incident.TypeEnd, inc, time.Now()), incident.New(incident.TypeEnd, inc, time.Now().Add(time.Hour))
	if a.ID != b.ID || a.ID != incident.EndID(inc.IncidentID) {
		t.Errorf("two ends of one incident: ids %s and %s, want both %s", a.ID, b.ID, incident.EndID(inc.IncidentID))
	}
	other := inc
	other.IncidentID = "0193a1b2-0000-7000-8000-00000000000b"
	ids := map[string]string{a.ID: "end"}
	add := func(what string, ev incident.Event) {
		t.Helper()
		if prev, ok := ids[ev.ID]; ok {
			t.Errorf("%s has the id of %s: %s", what, prev, ev.ID)
		}
		ids[ev.ID] = what
	}
	add("another incident's end", incident.New(incident.TypeEnd, other, time.Now()))
	s1, s2 := incident.New(incident.TypeStart, inc, time.Now()), incident.New(incident.TypeStart, inc, time.Now().Add(time.Second))
	if s1.ID != s2.ID {
		t.Errorf("two starts of one incident: ids %s and %s, want one", s1.ID, s2.ID)
	}
	add("the start", s1)
	add("another incident's start", incident.New(incident.TypeStart, other, time.Now()))
	u1, u2 := incident.New(incident.TypeUpdate, inc, time.Now()), incident.New(incident.TypeUpdate, inc, time.Now().Add(time.Second))
	if u1.ID != u2.ID {
		t.Errorf("one update sent twice: ids %s and %s, want one", u1.ID, u2.ID)
	}
	add("an update", u1)
	later := inc
	later.FrameTime = t0.Add(40 * time.Millisecond)
	add("the next frame's update", incident.New(incident.TypeUpdate, later, time.Now()))
	anon := incident.Incident{Camera: "c", Kind: "motion"}
	if a1, a2 := incident.New(incident.TypeStart, anon, time.Now()), incident.New(incident.TypeStart, anon, time.Now()); a1.ID == a2.ID {
		t.Error("events without an incident id share an id")
	}
	if d1, d2 := incident.DeriveID("c", "motion", "", t0), incident.DeriveID("c", "motion", "", t0.Add(time.Nanosecond)); d1 == d2 ||
		d1 != incident.DeriveID("c", "motion", "", t0.In(time.FixedZone("x", 3600))) || d1 == incident.DeriveID("c", "person", "", t0) {
		t.Errorf("DeriveID: not one id per camera, kind and start instant")
	}
}
