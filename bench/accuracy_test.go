package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
