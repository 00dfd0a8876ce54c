package frigate

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// TestEventIDStartsWithTheIncidentStart: an object's id is Frigate's
// "<seconds>.<6 digits>-<6 characters>", whose start StartOf reads back
// (the integration parses it the same way), the same for the same
// camera, track and start and different otherwise.
func TestEventIDStartsWithTheIncidentStart(t *testing.T) {
	start := time.Date(2026, 11, 22, 21, 0, 0, 123_456_789, time.UTC)
	id := EventID("door", "A", start)
	if got, ok := StartOf(id); !ok || !got.Equal(start.Truncate(time.Microsecond)) {
		t.Errorf("StartOf(%s) = %v %v, want %v", id, got, ok, start.Truncate(time.Microsecond))
	}
	if id != EventID("door", "A", start.In(time.FixedZone("x", 3600))) {
		t.Error("the id depends on the start's time zone")
	}
	seen := map[string]bool{id: true}
	for _, other := range []string{EventID("yard", "A", start), EventID("door", "B", start), EventID("door", "A", start.Add(time.Nanosecond))} {
		if seen[other] {
			t.Errorf("%s named twice", other)
		}
		seen[other] = true
	}
	for _, bad := range []string{"0193a1b2-0000-7000-8000-000000000001", "", "1.5-abcdef", "x.000000-abcdef", "1795381210.000000-abc", "-1.000000-abcdef"} {
		if _, ok := StartOf(bad); ok {
			t.Errorf("StartOf(%q) accepted", bad)
		}
	}
}

func FuzzStartOf(f *testing.F) {
	f.Add(EventID("door", "A", time.Unix(1795381210, 5000)))
	f.Add("0193a1b2-0000-7000-8000-000000000001")
	f.Add("1.000000-")
	f.Fuzz(func(t *testing.T, id string) {
		start, ok := StartOf(id)
		if !ok {
			return
		}
		// What it accepts names a start EventID writes the same way.
		if got := EventID("c", "t", start); got[:len(got)-6] != id[:len(id)-6] {
			t.Errorf("StartOf(%q) = %v, which EventID writes %s", id, start, got)
		}
	})
}

// TestIncidentBounded: an incident that follows more objects than
// MaxObjects keeps MaxObjects, the ended ones making room, and reports
// no more while all are open.
func TestIncidentBounded(t *testing.T) {
	var inc Incident
	start := time.Unix(1000, 0)
	ev := func(typ string, sec int, tracks ...int) *incident.Event {
		d := incident.Incident{IncidentID: "p", Camera: "c", Kind: "person", StartedAt: start, FrameTime: start.Add(time.Duration(sec) * time.Second)}
		for _, tr := range tracks {
			d.Objects = append(d.Objects, incident.Object{Label: "person", Score: 0.5, TrackID: fmt.Sprint(tr)})
		}
		e := incident.New(typ, d, d.FrameTime)
		return &e
	}
	// 100 people one after the other: each ends when the next comes.
	for i := range 100 {
		typ := incident.TypeUpdate
		if i == 0 {
			typ = incident.TypeStart
		}
		ch := inc.Apply(ev(typ, i, i))
		if i > 0 && (len(ch) != 2 || ch[0].Type != "new" || ch[1].Type != "end") {
			t.Fatalf("person %d: %+v", i, ch)
		}
	}
	if len(inc.Objects) != MaxObjects {
		t.Errorf("%d objects kept, want %d", len(inc.Objects), MaxObjects)
	}
	// MaxObjects people at once, then one more: not reported.
	var all []int
	for i := range MaxObjects {
		all = append(all, 1000+i)
	}
	inc.Apply(ev(incident.TypeUpdate, 200, all...))
	ch := inc.Apply(ev(incident.TypeUpdate, 201, append(all, 5000)...))
	for _, c := range ch {
		if c.After.TrackID == "5000" {
			t.Errorf("object past MaxObjects reported: %+v", c)
		}
	}
	if len(inc.Objects) != MaxObjects {
		t.Errorf("%d objects kept, want %d", len(inc.Objects), MaxObjects)
	}
}
