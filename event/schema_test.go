package event

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"
)

// validate checks v against the subset of JSON Schema the published schema
// uses: type, required, properties, additionalProperties, const, enum,
// pattern, minLength, items, minItems, maxItems, minimum, maximum, format
// date-time.
func validate(schema map[string]any, v any, path string) error {
	if c, ok := schema["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		return fmt.Errorf("%s: %v is not %v", path, v, c)
	}
	if e, ok := schema["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || fmt.Sprint(x) == fmt.Sprint(v)
		}
		if !found {
			return fmt.Errorf("%s: %v not in %v", path, v, e)
		}
	}
	switch t := schema["type"]; t {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", path)
		}
		for _, r := range schema["required"].([]any) {
			if _, ok := m[r.(string)]; !ok {
				return fmt.Errorf("%s: %s is required", path, r)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for k, x := range m {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					return fmt.Errorf("%s: %s is not in the schema", path, k)
				}
				continue
			}
			if err := validate(ps, x, path+"."+k); err != nil {
				return err
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", path)
		}
		if n, ok := schema["minItems"].(float64); ok && float64(len(a)) < n {
			return fmt.Errorf("%s: fewer than %g items", path, n)
		}
		if n, ok := schema["maxItems"].(float64); ok && float64(len(a)) > n {
			return fmt.Errorf("%s: more than %g items", path, n)
		}
		if is, ok := schema["items"].(map[string]any); ok {
			for i, x := range a {
				if err := validate(is, x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: not a string", path)
		}
		if n, ok := schema["minLength"].(float64); ok && float64(len(s)) < n {
			return fmt.Errorf("%s: shorter than %g", path, n)
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			return fmt.Errorf("%s: %q does not match %s", path, s, p)
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", path, s)
			}
		}
	case "number":
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("%s: not a number", path)
		}
		if n, ok := schema["minimum"].(float64); ok && f < n {
			return fmt.Errorf("%s: %g below %g", path, f, n)
		}
		if n, ok := schema["maximum"].(float64); ok && f > n {
			return fmt.Errorf("%s: %g above %g", path, f, n)
		}
	}
	return nil
}

func TestEventsMatchThePublishedSchema(t *testing.T) {
	raw, err := os.ReadFile("../schema/incident-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	if schema["$id"] != "https://vigil.dev/schema/incident/v"+SchemaVersion {
		t.Fatalf("schema $id %v does not match SchemaVersion %s", schema["$id"], SchemaVersion)
	}
	now := time.Now()
	end := now.Add(time.Second)
	good := []Event{
		New(TypeStart, Incident{IncidentID: "i1", Camera: "north-gate", Kind: "motion", StartedAt: now, FrameTime: now,
			FrameTimeSource: TimeRTCP, Score: 0.2, Boxes: [][4]float64{{0.1, 0.2, 0.3, 0.4}}}, now),
		New(TypeEnd, Incident{IncidentID: "i1", Camera: "north-gate", Kind: "camera_offline", Cause: "stalled",
			StartedAt: now, EndedAt: &end, FrameTime: end, FrameTimeSource: TimeReceipt, Score: 1, Boxes: [][4]float64{},
			Zone: "gate", Evidence: []Evidence{{Role: "start", Path: "/var/lib/vigil/x.jpg"}}}, end),
	}
	for _, ev := range good {
		b, _ := json.Marshal(ev)
		var v any
		json.Unmarshal(b, &v) //nolint:errcheck
		if err := validate(schema, v, "event"); err != nil {
			t.Errorf("%s event: %v\n%s", ev.Type, err, b)
		}
	}
	// And the validator rejects what the schema forbids.
	bad := New("vigil.incident.nope", Incident{Camera: "x", Kind: "motion", FrameTimeSource: "guess", Score: 2}, now)
	b, _ := json.Marshal(bad)
	var v any
	json.Unmarshal(b, &v) //nolint:errcheck
	if err := validate(schema, v, "event"); err == nil {
		t.Error("a malformed event validated")
	}
}
