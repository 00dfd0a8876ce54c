package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// TestAccuracyScenarios is the scored replay of the shipped scenarios
// through the real engine path (simulator over RTSP, libavcodec, OpenCV):
// every scenario passes, with no false alarm, tamper within 5 s and
// motion within 1 s.
func TestAccuracyScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 25 s")
	}
	r := replayScenarios(t, "scenarios", 8, AccuracyOptions{})
	limits := map[string]time.Duration{"tamper": 5 * time.Second, "motion": time.Second, "intrusion": time.Second}
	for _, k := range r.Kinds {
		if k.False != 0 || k.Recall != 1 {
			t.Errorf("%s: %d false alarms, recall %.2f", k.Kind, k.False, k.Recall)
		}
		if l, ok := limits[k.Kind]; ok && k.DelayMax > l.Seconds() {
			t.Errorf("%s: start delay %.2fs, want at most %v", k.Kind, k.DelayMax, l)
		}
	}
}

// TestTamperOnLongGOP replays a cover on a 5 s GOP (bench/scenarios/
// longgop) in mode auto through the engine path. The encoder codes the
// cover as a fade (one luma weight, a picture as small as a still one),
// which wakes the idle camera (ingest.SliceQP.Fade), so covered starts
// min_duration after the cover, as in mode all. Without the fade it
// started on the next keyframe, 3 s later, and min_duration after that
// while the cause was pending (analyze.Camera.Pending): 5 s; before that,
// on the keyframe after: 8 s.
func TestTamperOnLongGOP(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 36 s")
	}
	r := replayScenarios(t, "scenarios/longgop", 1, AccuracyOptions{DecodeMode: "auto"})
	for _, k := range r.Kinds {
		if k.Kind == "tamper" && k.DelayMax > 2.5 {
			t.Errorf("covered on a 5 s GOP started %.2fs after the cover, want at most 2.5s (min_duration after the faded picture woke the camera; 5 s without the fade, on the next keyframe)", k.DelayMax)
		}
	}
}

// replayScenarios replays the scenarios of dir (at least want of them)
// with o, logs the table, fails the test if any scenario failed, and
// returns the result.
func replayScenarios(t *testing.T, dir string, want int, o AccuracyOptions) *AccuracyResult {
	t.Helper()
	sc, err := LoadScenarios(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc) < want {
		t.Fatalf("%d scenarios in %s, want the %d shipped", len(sc), dir, want)
	}
	r, err := Accuracy(context.Background(), sc, o)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	PrintAccuracy(&b, r)
	t.Log("\n" + b.String())
	if r.Failed != 0 {
		t.Fatalf("%d scenarios failed", r.Failed)
	}
	return r
}

// TestScoreCountsFailures checks the scorer itself on a scenario whose
// ground truth the clip does not meet: a missing incident, a false alarm
// of a forbidden kind, and an end outside its window all fail it.
func TestScoreCountsFailures(t *testing.T) {
	dir := crossingDir(t)
	truth := `clip: crossing.h264
fps: 15
length: 16s
expect:
  - kind: tamper
    cause: covered
    start: [10s, 12s]
  - kind: motion
    start: [10s, 11s]
    end: [11s, 12s]
forbid: [motion]
`
	if err := os.WriteFile(filepath.Join(dir, "wrong.yaml"), []byte(truth), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := LoadScenarios(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Accuracy(context.Background(), sc, AccuracyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Scenarios[0]
	if s.Pass || r.Failed != 1 {
		t.Fatalf("scenario passed: %+v", s)
	}
	joined := strings.Join(s.Failures, "; ")
	for _, want := range []string{"tamper (covered): no start", "motion: ended at"} {
		if !strings.Contains(joined, want) {
			t.Errorf("failures %q lack %q", joined, want)
		}
	}
}

func TestLoadScenariosErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"clip: a.h264\nfps: 15\nlength: 5s\nexpect: [{kind: motion, start: [2s]}]\n", "expect[0].start"},
		{"clip: a.h264\nfps: 0\nlength: 5s\n", "fps"},
		{"clip: a.h264\nfps: 15\nlength: 5s\nforbidden: [motion]\n", "forbidden"},
		{"clip: a.h264\nfps: 15\nlength: 5s\nforbid: [motion, persons]\n", `forbid[1]: "persons" is not an incident kind`},
		{"clip: a.h264\nfps: 15\nlength: 5s\nexpect: [{kind: tampering, start: [2s, 3s]}]\n", `expect[0].kind: "tampering"`},
		{"clip: a.h264\nfps: 15\nlength: 5s\npresent: [{kind: people, during: [0s, 2s]}]\n", `present[0].kind: "people"`},
		{"clip: a.h264\nfps: 15\nlength: 5s\npresent: [{kind: person, during: [3s, 2s]}]\n", "present[0].during"},
		{"clip: a.h264\nfps: 15\nlength: 5s\npresent: [{kind: person, during: [0s, 6s]}]\n", "present[0].during: ends after length"},
		{"clip: a.h264\nfps: 15\nlength: 5s\npresent: [{kind: person, during: [0s, 2s], min: 90}]\n", "present[0].min"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(tc.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadScenarios(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "s.yaml") {
			t.Errorf("error %v, want one naming s.yaml and %q", err, tc.want)
		}
	}
}

// TestScenarioLengths: scenarios of different lengths play side by side;
// each is scored over its own length only. The short one watches the
// crossing clip before its object enters (at 10 s) and forbids motion: the
// motion after its length, while the long one still plays, is not its
// false alarm.
func TestScenarioLengths(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 25 s")
	}
	dir := crossingDir(t)
	for name, doc := range map[string]string{
		"short.yaml": "clip: crossing.h264\nfps: 15\nlength: 8s\nforbid: [motion]\n",
		"long.yaml":  "clip: crossing.h264\nfps: 15\nlength: 20s\nexpect:\n  - kind: motion\n    start: [10s, 11s]\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := LoadScenarios(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Accuracy(context.Background(), sc, AccuracyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	PrintAccuracy(&b, r)
	if r.Failed != 0 {
		t.Fatalf("%d scenarios failed:\n%s", r.Failed, b.String())
	}
}

// crossingDir returns a scenario directory holding the crossing clip
// (bench/scenarios/crossing.h264, linked), for scenario files to be written.
func crossingDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Abs("scenarios/crossing.h264")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(dir, "crossing.h264")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestScorePersistence: the share of a labelled presence during which an
// incident of its kind is open, overlapping incidents counted once, one
// still open at the end counted to the scenario's end, other kinds and
// other cameras not counted; under its min the scenario fails.
func TestScorePersistence(t *testing.T) {
	base := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	var evs []incident.Event
	add := func(camera, kind, id string, from, to time.Duration) {
		evs = append(evs, incident.Event{Type: incident.TypeStart,
			Data: incident.Incident{IncidentID: id, Camera: camera, Kind: kind, StartedAt: at(from), FrameTime: at(from)}})
		if to >= 0 {
			end := at(to)
			evs = append(evs, incident.Event{Type: incident.TypeEnd,
				Data: incident.Incident{IncidentID: id, Camera: camera, Kind: kind, StartedAt: at(from), EndedAt: &end, FrameTime: end}})
		}
	}
	add("room", "person", "a", 2*time.Second, 5*time.Second)
	add("room", "person", "b", 4*time.Second, 6*time.Second) // overlaps a: 2-6 s once
	add("room", "person", "c", 18*time.Second, -1)           // open at the end: 18-20 s
	add("room", "motion", "d", 0, 20*time.Second)            // another kind
	add("hall", "person", "e", 0, 20*time.Second)            // another camera
	s := Scenario{Name: "room", Length: 20 * time.Second, Present: []Presence{
		{Kind: "person", During: []time.Duration{0, 10 * time.Second}, Min: 0.5},
		{Kind: "person", During: []time.Duration{15 * time.Second, 20 * time.Second}},
	}}
	r := score(s, base, at(21*time.Second), evs)
	if got, want := r.Present["person"], 15*time.Second; got != want {
		t.Errorf("present %v, want %v", got, want)
	}
	if got, want := r.Covered["person"], 6*time.Second; got != want {
		t.Errorf("covered %v, want %v (2-6 s and 18-20 s)", got, want)
	}
	if len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "open 40% of the time, want 50%") {
		t.Errorf("failures %q, want the first presence's 40%% against 50%%", r.Failures)
	}
	k := kindScores([]ScenarioResult{r})
	for _, ks := range k {
		if ks.Kind == "person" && (ks.Persistence != 0.4 || ks.PresentSecs != 15) {
			t.Errorf("person: persistence %.3f over %gs, want 0.4 over 15s", ks.Persistence, ks.PresentSecs)
		}
		if ks.Kind == "motion" && ks.Persistence != -1 {
			t.Errorf("motion: persistence %.3f without labels, want -1", ks.Persistence)
		}
	}
}
