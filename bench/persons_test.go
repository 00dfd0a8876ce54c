package bench

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
)

// modelT returns the object network made at setup ($VIGIL_MODELS or the
// repository's .cache/models) and skips the test without it, unless
// VIGIL_REQUIRE_MODELS=1 (scripts/test.sh) makes its absence a failure.
func modelT(t *testing.T) string {
	t.Helper()
	model, _ := filepath.Abs(filepath.Join("..", config.DefaultModelPath))
	if d := os.Getenv("VIGIL_MODELS"); d != "" {
		model = filepath.Join(d, filepath.Base(config.DefaultModelPath))
	}
	if _, err := os.Stat(model); err != nil {
		if os.Getenv("VIGIL_REQUIRE_MODELS") == "1" {
			t.Fatalf("VIGIL_REQUIRE_MODELS=1 but no object model: %v", err)
		}
		t.Skip("no object model: run bash scripts/models.sh .cache/models")
	}
	return model
}

// TestAccuracyRealPeopleFromTheNetwork is `vigil bench accuracy` on the
// real footage (bench/scenarios/real: vtest.avi's people walking and
// standing still, H.264 and H.265 substreams) with the object network:
// person is scored from the network, found in both walks, never raised on
// the still view. It needs the model (scripts/models.sh) and the camera
// clips (scripts/camclips.sh); scripts/test.sh makes both.
func TestAccuracyRealPeopleFromTheNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 40 s")
	}
	model := modelT(t)
	sc, err := LoadScenarios("scenarios/real")
	if err != nil {
		t.Fatal(err)
	}
	var keep []Scenario
	for _, s := range sc {
		if dir := os.Getenv("VIGIL_CAMCLIPS"); dir != "" && strings.Contains(s.Clip, "camclips") {
			s.Clip = filepath.Join(dir, filepath.Base(s.Clip))
		}
		if _, err := os.Stat(s.Clip); err != nil {
			t.Skipf("%s: no clip (scripts/camclips.sh makes it): %v", s.Name, err)
		}
		if s.Camera["person"] != nil {
			keep = append(keep, s)
		}
	}
	if len(keep) < 3 {
		t.Fatalf("%d real scenarios with person detection, want walk, walk-h265 and still", len(keep))
	}
	r, err := Accuracy(context.Background(), keep, AccuracyOptions{Model: model})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	PrintAccuracy(&b, r)
	t.Log("\n" + b.String())
	if r.People != "network" {
		t.Fatalf("people by %q, want network", r.People)
	}
	if r.Failed != 0 {
		t.Errorf("%d scenarios failed", r.Failed)
	}
	found := false
	for _, k := range r.Kinds {
		if k.Kind == "person" {
			found = true
			if k.Expected < 2 || k.Recall != 1 || k.False != 0 {
				t.Errorf("person: %d expected, recall %.2f, %d false alarms", k.Expected, k.Recall, k.False)
			}
		}
	}
	if !found {
		t.Error("person not scored")
	}
}

// TestPersonTruth: the committed ground truth loads, holds a few dozen
// labelled frames of vtest.avi, and every person is at least 48 px tall.
func TestPersonTruth(t *testing.T) {
	tr, err := LoadPersonTruth("persons/persons.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, c := range tr.Clips {
		for _, f := range c.Frames {
			n[c.Name]++
			for _, p := range f.Persons {
				if p[3]-p[1] < 48 {
					t.Errorf("%s frame %d: person %v is under 48 px tall", c.Name, f.Frame, p)
				}
			}
		}
	}
	if n["vtest"] < 30 || n["still"] == 0 || n["lights"] == 0 {
		t.Errorf("labelled frames %v, want 30+ of vtest, and still and lights frames", n)
	}
}

// TestMatchPersons checks the scorer: IoU >= 0.5 is a hit, one person is
// found once (a second box on it is a false alarm), a box on an ignored
// person or under 40 px counts for nothing, a miss is a miss.
func TestMatchPersons(t *testing.T) {
	f := PersonFrame{Persons: [][4]int{{100, 100, 140, 200}, {300, 100, 340, 200}}, Ignore: [][4]int{{500, 100, 540, 200}}}
	det := func(x1, y1, x2, y2 int, s float64) analyze.Detection {
		return analyze.Detection{Label: config.LabelPerson, Score: s, Box: image.Rect(x1, y1, x2, y2)}
	}
	tp, fp, fn := matchPersons(f, []analyze.Detection{
		det(102, 105, 142, 205, 0.9), // hit
		det(98, 95, 138, 195, 0.5),   // the same person again
		det(500, 100, 540, 200, 0.8), // ignored person
		det(600, 10, 610, 40, 0.9),   // too small to count
		det(700, 100, 740, 200, 0.7), // nothing there
		{Label: "car", Score: 0.9, Box: image.Rect(300, 100, 340, 200)},
	})
	if tp != 1 || fp != 2 || fn != 1 {
		t.Errorf("tp %d fp %d fn %d, want 1 2 1", tp, fp, fn)
	}
}

// TestPersonsScoresAnyClip runs `bench persons` with the real network on
// a truth file of clips not named vtest (bench/persons/footage.yaml:
// testdata/footage's office clips): every clip is scored, overall and on
// its own, and the figures are those of its labels: at min_score 0.3 the
// network finds all 15 people with no false alarm; at 0.5 it misses
// three in office.mkv: both people of frame 5 (scored 0.40 and 0.46) and
// the woman of frame 17 (0.42).
func TestPersonsScoresAnyClip(t *testing.T) {
	model := modelT(t)
	r, err := Persons(context.Background(), PersonsOptions{Truth: "persons/footage.yaml", Model: model, NetThresholds: []float64{0.3, 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	PrintPersons(&b, r)
	t.Log("\n" + b.String())
	if len(r.Skipped) > 0 || len(r.Scores) != 2 {
		t.Fatalf("skipped %v, %d scores", r.Skipped, len(r.Scores))
	}
	want := []struct {
		tp, fp, fn int
		clips      map[string][3]int // hits, false alarms, misses
	}{
		{15, 0, 0, map[string][3]int{"office": {6, 0, 0}, "office-pause": {9, 0, 0}}},
		{12, 0, 3, map[string][3]int{"office": {3, 0, 3}, "office-pause": {9, 0, 0}}},
	}
	for i, s := range r.Scores {
		w := want[i]
		if s.TP != w.tp || s.FP != w.fp || s.FN != w.fn || s.Frames != 6 {
			t.Errorf("min_score %g: %d hits, %d false alarms, %d misses over %d frames; want %d, %d, %d over 6", s.Threshold, s.TP, s.FP, s.FN, s.Frames, w.tp, w.fp, w.fn)
		}
		if wantR := float64(w.tp) / float64(w.tp+w.fn); s.Precision != 1 || s.Recall != wantR {
			t.Errorf("min_score %g: precision %.2f recall %.2f, want 1.00 and %.2f", s.Threshold, s.Precision, s.Recall, wantR)
		}
		for name, c := range w.clips {
			got := s.Clips[name]
			if got == nil || got.TP != c[0] || got.FP != c[1] || got.FN != c[2] || got.Frames != 3 {
				t.Errorf("min_score %g, clip %s: %+v, want %d hits, %d false alarms, %d misses over 3 frames", s.Threshold, name, got, c[0], c[1], c[2])
			}
		}
	}
}

// TestPersonTruthNamesClips: a clip's name names it in the report, so a
// truth file with a clip unnamed or named twice is refused, naming it.
func TestPersonTruthNamesClips(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"clips:\n  - {name: a, path: a.mkv}\n  - {name: a, path: b.mkv}\n", `clips[1].name: "a"`},
		{"clips:\n  - {path: a.mkv}\n", `clips[0].name: ""`},
	} {
		p := filepath.Join(t.TempDir(), "truth.yaml")
		if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadPersonTruth(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %s", tc.yaml, err, tc.want)
		}
	}
}
