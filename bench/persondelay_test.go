package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPersonDelay reads incident start events as the engine prints them:
// each motion incident's delay to the camera's next person incident, a
// motion incident followed by none counted as missed, a person incident
// without a motion incident before it ignored, events outside the
// measuring window ignored, a motion incident that starts while a person
// incident is open counted apart (not timed, not missed).
func TestPersonDelay(t *testing.T) {
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	ev := func(cam, kind string, started, frame time.Duration) string {
		return fmt.Sprintf(`{"type":"vigil.incident.start","data":{"camera":%q,"kind":%q,"started_at":%q,"frame_time":%q,"frame_time_source":"rtcp"}}`+"\n",
			cam, kind, at.Add(started).Format(time.RFC3339Nano), at.Add(frame).Format(time.RFC3339Nano))
	}
	in := ev("a", "motion", 0, 500*time.Millisecond) +
		ev("a", "person", 200*time.Millisecond, 1200*time.Millisecond) + // 1.2 s after a's motion
		ev("a", "person", 3*time.Second, 4*time.Second) + // a second person of the same motion: not counted
		ev("b", "motion", time.Second, 2*time.Second) +
		ev("b", "motion", 5*time.Second, 6*time.Second) + // b's first motion had no person: missed
		ev("b", "person", 6*time.Second, 7500*time.Millisecond) + // 2.5 s
		ev("c", "person", 0, time.Second) + // no motion before: ignored
		ev("d", "motion", 0, time.Second) + // no person by the end: missed
		ev("e", "person", 0, time.Second) +
		ev("e", "motion", time.Second, 2*time.Second) + // a person open already
		strings.Replace(ev("e", "person", 0, 3*time.Second), "incident.start", "incident.end", 1) +
		ev("e", "motion", 5*time.Second, 6*time.Second) +
		ev("e", "person", 6*time.Second, 7*time.Second) + // 2 s after the motion started
		"not json\n"
	e := newEngineEvents()
	e.startMeasuring()
	e.readEvents(strings.NewReader(in))
	got := latencyStats(e.personMS)
	if got.N != 3 || got.Max != 2500 || !slices.Equal(e.personMS, []float64{1200, 2500, 2000}) {
		t.Errorf("delays %v (%+v), want [1200 2500 2000]", e.personMS, got)
	}
	if e.personAlready != 1 {
		t.Errorf("%d motion incidents with a person open, want 1 (e's first)", e.personAlready)
	}
	if missed := e.personMissed + len(e.motionAt); missed != 2 {
		t.Errorf("missed %d, want 2 (b's first motion, d's)", missed)
	}
	off := newEngineEvents()
	off.readEvents(strings.NewReader(in))
	if len(off.personMS) != 0 || off.personMissed != 0 {
		t.Errorf("counted outside the window: %v, %d", off.personMS, off.personMissed)
	}
	if e.personSeen["c"] != true || len(e.personSeen) != 4 {
		t.Errorf("cameras with a person incident %v, want a, b, c, e", e.personSeen)
	}
}

// TestPersonCameras: a camera is served when its person incident is open
// at some time in the window: started in it, or open when it starts; not
// one that ended before it.
func TestPersonCameras(t *testing.T) {
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)
	ev := func(typ, cam, kind string) string {
		return fmt.Sprintf(`{"type":"vigil.incident.%s","data":{"camera":%q,"kind":%q,"started_at":%q,"frame_time":%q}}`+"\n", typ, cam, kind, at, at)
	}
	e := newEngineEvents()
	e.readEvents(strings.NewReader(ev("start", "open", "person") + ev("start", "ended", "person") + ev("end", "ended", "person") +
		ev("start", "motion-only", "motion") + ev("end", "never", "person")))
	e.startMeasuring()
	e.readEvents(strings.NewReader(ev("start", "new", "person") + ev("end", "open", "person") + ev("start", "moving", "motion")))
	var got []string
	for c := range e.personSeen {
		got = append(got, c)
	}
	slices.Sort(got)
	if fmt.Sprint(got) != "[new open]" {
		t.Errorf("cameras served %v, want [new open]", got)
	}
}
