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
	keep := realScenarios(t, func(s Scenario) bool { return s.Camera["person"] != nil })
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

// TestPersonTruth: the committed corpus loads and is what BENCHMARKS.md
// says: at least 6 sources with objects, 40 labelled frames, 100 people
// (each at least 48 px tall) and 50 vehicles, and frames with no one of a
// still, a lighting and a night scene.
func TestPersonTruth(t *testing.T) {
	tr, err := LoadPersonTruth("persons/corpus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	frames, people, vehicles, sources := 0, 0, 0, 0
	n := map[string]int{}
	for _, c := range tr.Clips {
		objects := 0
		for _, f := range c.Frames {
			frames++
			n[c.Name]++
			people += len(f.Persons)
			vehicles += len(f.Vehicles)
			objects += len(f.Persons) + len(f.Vehicles)
			for _, p := range f.Persons {
				if p[3]-p[1] < 48 {
					t.Errorf("%s frame %d: person %v is under 48 px tall", c.Name, f.Frame, p)
				}
			}
		}
		if objects > 0 {
			sources++
		}
	}
	if sources < 6 || frames < 40 || people < 100 || vehicles < 50 {
		t.Errorf("%d sources with objects, %d frames, %d people, %d vehicles; want 6, 40, 100, 50 or more", sources, frames, people, vehicles)
	}
	if n["vtest"] < 30 || n["still"] == 0 || n["lights"] == 0 || n["night"] == 0 {
		t.Errorf("labelled frames %v, want 30+ of vtest, and still, lights and night frames", n)
	}
}

// TestMatchPersons checks the scorer: IoU >= 0.5 is a hit, one person is
// found once (a second box on it is a false alarm), a box on an ignored
// person or under 40 px counts for nothing, a miss is a miss.
func TestMatchPersons(t *testing.T) {
	f := PersonFrame{Persons: [][4]int{{100, 100, 140, 200}, {300, 100, 340, 200}}, Ignore: [][4]int{{500, 100, 540, 200}, {800, 0, 900, 100}}}
	det := func(x1, y1, x2, y2 int, s float64) analyze.Detection {
		return analyze.Detection{Label: config.LabelPerson, Score: s, Box: image.Rect(x1, y1, x2, y2)}
	}
	tp, fp, fn := matchPersons(f, []analyze.Detection{
		det(102, 105, 142, 205, 0.9), // hit
		det(98, 95, 138, 195, 0.5),   // the same person again
		det(500, 100, 540, 200, 0.8), // ignored person
		det(600, 10, 610, 40, 0.9),   // too small to count
		det(700, 100, 740, 200, 0.7), // nothing there
		det(820, 10, 850, 90, 0.8),   // inside an ignored box (a far cyclist's rider), IoU 0.24 with it
		det(880, 50, 920, 110, 0.8),  // half inside it: a false alarm
		{Label: "car", Score: 0.9, Box: image.Rect(300, 100, 340, 200)},
	})
	if tp != 1 || fp != 3 || fn != 1 {
		t.Errorf("tp %d fp %d fn %d, want 1 3 1", tp, fp, fn)
	}
}

// TestPrintPersonsNamesSkippedFirst: a source whose file is absent is
// named before the figures that leave it out, not after them.
func TestPrintPersonsNamesSkippedFirst(t *testing.T) {
	var b strings.Builder
	PrintPersons(&b, &PersonsResult{ClipNames: []string{"vtest"}, Skipped: []string{"still: stat x: no such file"}})
	out := b.String()
	if !strings.HasPrefix(out, "NOT SCORED: 1 of 2 sources") || !strings.Contains(out, "still: stat x") {
		t.Errorf("report does not begin with the source not scored:\n%s", out)
	}
}

// scoreCorpus runs `bench persons` with model on the corpus at the
// thresholds 0.15 to 0.6, logs the report, and skips (fails under
// VIGIL_REQUIRE_MODELS=1) when a clip is missing.
func scoreCorpus(t *testing.T, model string) *PersonsResult {
	t.Helper()
	ths := []float64{0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6}
	r, err := Persons(context.Background(), PersonsOptions{Truth: "persons/corpus.yaml", Model: model, NetThresholds: ths})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	PrintPersons(&b, r)
	t.Log("\n" + b.String())
	if len(r.Skipped) > 0 {
		if os.Getenv("VIGIL_REQUIRE_MODELS") == "1" {
			t.Fatalf("skipped %v (scripts/camclips.sh makes the still clip)", r.Skipped)
		}
		t.Skipf("skipped %v: run scripts/camclips.sh", r.Skipped)
	}
	return r
}

// TestPersonsCorpus runs `bench persons` with the real network on the
// corpus (bench/persons/corpus.yaml, 14 sources), the default model
// (NanoDet in 8 bits) and NanoDet in float, and holds each source to the
// figures measured at the defaults (objects.min_score for people, as a
// camera reports them: the tracker's first result; objects.
// vehicle_min_score for vehicles; BENCHMARKS.md "Objects on many cameras"
// and "NanoDet in 8 bits"): no fewer hits, no more false alarms than
// measured, with a margin only on vtest.avi's 173 people. It also checks
// that the corpus chooses the defaults (ChooseThreshold on all sources),
// and that the still, lighting and night scenes raise nothing.
func TestPersonsCorpus(t *testing.T) {
	def := modelT(t)
	// floors: source: people hits at least, false people at most, vehicle
	// hits at least, false vehicles at most (float measured 2026-12-02;
	// people 2026-12-03, at 0.4 through the tracker; 8 bits 2026-12-06,
	// the least of the extremes' calibration and --calibrate-keep
	// 0.99999's: worker-zone 5 → 4 people, office 4 → 6, room 0 → 1,
	// highway 4 → 6 vehicles, car park 1 → 0 false).
	for _, c := range []struct {
		model  string
		floors map[string][4]int
	}{
		{def, map[string][4]int{ // nanodet-int8.onnx
			"vtest":           {162, 6, 64, 0},
			"office":          {4, 0, 0, 0},
			"office-pause":    {9, 0, 0, 0},
			"classroom":       {12, 0, 0, 0},
			"room":            {0, 0, 0, 0},
			"room-one":        {3, 0, 0, 0},
			"store-aisle":     {9, 1, 0, 0},
			"worker-zone":     {4, 0, 0, 0},
			"carpark":         {0, 0, 15, 1},
			"carpark-cyclist": {0, 0, 6, 1},
			"highway":         {0, 0, 4, 0},
			"night":           {0, 0, 0, 0},
			"still":           {9, 0, 6, 0},
			"lights":          {0, 0, 0, 0},
		}},
		{filepath.Join(filepath.Dir(def), filepath.Base(config.FloatModelPath)), map[string][4]int{
			"vtest":           {163, 6, 64, 0},
			"office":          {5, 0, 0, 0},
			"office-pause":    {9, 0, 0, 0},
			"classroom":       {12, 0, 0, 0},
			"room":            {1, 0, 0, 0},
			"room-one":        {3, 0, 0, 0},
			"store-aisle":     {9, 1, 0, 0},
			"worker-zone":     {5, 0, 0, 0},
			"carpark":         {0, 0, 15, 1},
			"carpark-cyclist": {0, 0, 6, 0},
			"highway":         {0, 0, 5, 0},
			"night":           {0, 0, 0, 0},
			"still":           {9, 0, 6, 0},
			"lights":          {0, 0, 0, 0},
		}},
	} {
		t.Run(filepath.Base(c.model), func(t *testing.T) { corpusFloors(t, c.model, c.floors) })
	}
}

func corpusFloors(t *testing.T, model string, floors map[string][4]int) {
	r := scoreCorpus(t, model)
	if r.Network != "NanoDet 416x416" {
		t.Errorf("the report names the network %q, want NanoDet 416x416", r.Network)
	}
	d := config.DefaultObjects()
	if r.Chosen[ClassPerson] != d.MinScore || r.Chosen[ClassVehicle] != d.VehicleMinScore {
		t.Errorf("the corpus chooses %v; want min_score's default %g and vehicle_min_score's %g", r.Chosen, d.MinScore, d.VehicleMinScore)
	}
	at := func(detector, class string, th float64) *PersonScore {
		for i, s := range r.Scores {
			if s.Detector == detector && s.Class == class && s.Threshold == th {
				return &r.Scores[i]
			}
		}
		t.Fatalf("no %s %s score at %g", detector, class, th)
		return nil
	}
	people, vehicles := at("tracker", ClassPerson, d.MinScore), at("network", ClassVehicle, d.VehicleMinScore)
	for name, f := range floors {
		p, v := people.Clips[name], vehicles.Clips[name]
		if p == nil || v == nil {
			t.Errorf("%s: not scored", name)
			continue
		}
		if p.TP < f[0] || p.FP > f[1] || v.TP < f[2] || v.FP > f[3] {
			t.Errorf("%s: people %d/%d found, %d false; vehicles %d/%d found, %d false; want at least %d people with at most %d false, at least %d vehicles with at most %d false",
				name, p.TP, p.TP+p.FN, p.FP, v.TP, v.TP+v.FN, v.FP, f[0], f[1], f[2], f[3])
		}
	}
	if len(floors) != len(r.ClipNames) {
		t.Errorf("%d clips scored, %d with floors: a new clip needs its floor", len(r.ClipNames), len(floors))
	}
}

// TestPersonsCorpusYOLO is TestPersonsCorpus with the YOLO model
// (YOLOv8n, fetched by `scripts/models.sh --yolov8n`, under AGPL-3.0): the
// corpus chooses min_score 0.3 for it and vehicle_min_score 0.15 (the
// README's settings for this model); at those, through the tracker,
// people precision and recall are at least 0.9 on every source that has
// people (NanoDet misses that on store-aisle, office and worker-zone), no
// source without people has a false one, and vehicles are found where
// NanoDet finds them but on cars seen from above. It skips without the
// model unless VIGIL_YOLO=1 (as .ci/run sets) makes that a failure.
func TestPersonsCorpusYOLO(t *testing.T) {
	nano := modelT(t)
	model := filepath.Join(filepath.Dir(nano), "yolov8n.onnx")
	if _, err := os.Stat(model); err != nil {
		if os.Getenv("VIGIL_YOLO") == "1" {
			t.Fatalf("VIGIL_YOLO=1 but no YOLO model: %v", err)
		}
		t.Skip("no YOLO model: run bash scripts/models.sh --yolov8n .cache/models")
	}
	const minScore, vehicleMinScore = 0.3, 0.15
	r := scoreCorpus(t, model)
	if r.Network != "YOLO (Ultralytics-style export) 640x640" {
		t.Errorf("the report names the network %q, want YOLO 640x640", r.Network)
	}
	if r.Chosen[ClassPerson] != minScore || r.Chosen[ClassVehicle] != vehicleMinScore {
		t.Errorf("the corpus chooses %v for YOLOv8n; want person %g, vehicle %g (the README's settings)", r.Chosen, minScore, vehicleMinScore)
	}
	var people, vehicles *PersonScore
	for i, s := range r.Scores {
		if s.Detector == "tracker" && s.Class == ClassPerson && s.Threshold == minScore {
			people = &r.Scores[i]
		}
		if s.Detector == "network" && s.Class == ClassVehicle && s.Threshold == vehicleMinScore {
			vehicles = &r.Scores[i]
		}
	}
	if people == nil || vehicles == nil {
		t.Fatal("no score at the chosen thresholds")
	}
	for _, name := range r.ClipNames {
		p := people.Clips[name]
		if p == nil {
			t.Errorf("%s: not scored", name)
			continue
		}
		if p.TP+p.FN == 0 {
			if p.FP > 0 {
				t.Errorf("%s: %d false people on a source with none", name, p.FP)
			}
			continue
		}
		if recall, precision := float64(p.TP)/float64(p.TP+p.FN), float64(p.TP)/float64(p.TP+p.FP); recall < 0.9 || precision < 0.9 {
			t.Errorf("%s: people precision %.2f, recall %.2f (%d/%d found, %d false); want both at least 0.9",
				name, precision, recall, p.TP, p.TP+p.FN, p.FP)
		}
	}
	// vehicles: found at least, false at most (measured 2026-12-05). Cars
	// seen from above (carpark 7/17, highway 8/26) mostly are not: the
	// network calls them airplanes.
	for name, f := range map[string][2]int{"vtest": {64, 0}, "carpark-cyclist": {6, 0}, "still": {6, 0},
		"carpark": {7, 0}, "highway": {8, 0}, "night": {0, 0}, "lights": {0, 0}} {
		v := vehicles.Clips[name]
		if v == nil || v.TP < f[0] || v.FP > f[1] {
			t.Errorf("%s: vehicles %+v, want at least %d found with at most %d false", name, v, f[0], f[1])
		}
	}
}

// TestMatchVehicles checks the vehicle scorer: one car that the network
// calls car, truck and bus is one hit (mergeVehicleDetections), a
// bicycle is a vehicle, a sliver under vehicleMinSide counts for
// nothing, a person is not a vehicle, a missed car is a miss.
func TestMatchVehicles(t *testing.T) {
	f := PersonFrame{Vehicles: [][4]int{{100, 100, 200, 160}, {300, 100, 340, 130}, {500, 100, 600, 160}}}
	det := func(label string, x1, y1, x2, y2 int, s float64) analyze.Detection {
		return analyze.Detection{Label: label, Score: s, Box: image.Rect(x1, y1, x2, y2)}
	}
	dets := mergeVehicleDetections([]analyze.Detection{
		det("car", 102, 100, 200, 162, 0.4), // hit
		det("truck", 100, 101, 199, 160, 0.35),
		det("bus", 101, 99, 201, 161, 0.3),
		det("bicycle", 300, 100, 340, 131, 0.3), // hit
		det("car", 700, 10, 710, 20, 0.9),       // too small to count
		det("person", 500, 100, 600, 160, 0.9),  // not a vehicle
		det("car", 800, 100, 900, 160, 0.5),     // nothing there
	})
	tp, fp, fn := matchObjects(f, ClassVehicle, dets)
	if tp != 2 || fp != 1 || fn != 1 {
		t.Errorf("tp %d fp %d fn %d, want 2 1 1", tp, fp, fn)
	}
}

// TestChooseThreshold: the best F1, ties to the higher threshold.
func TestChooseThreshold(t *testing.T) {
	counts := []PersonCounts{
		{TP: 90, FP: 90, FN: 10}, // F1 0.64
		{TP: 94, FP: 5, FN: 6},   // 0.945
		{TP: 95, FP: 5, FN: 5},   // 0.95, the best
		{TP: 95, FP: 5, FN: 5},   // the same, higher
		{TP: 50, FP: 0, FN: 50},  // 0.67
	}
	if th, ok := ChooseThreshold(counts, []float64{0.2, 0.3, 0.4, 0.5, 0.6}); !ok || th != 0.5 {
		t.Errorf("chose %g %v, want 0.5", th, ok)
	}
	if _, ok := ChooseThreshold(nil, nil); ok {
		t.Error("chose among nothing")
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

// TestAccuracyRealParkedVehicles is `vigil bench accuracy` on the real
// scenario of vehicles parked in a still view (bench/scenarios/real/
// parked.yaml: vtest.avi's van and car), in modes all and auto: the
// camera's first look finds them, its vehicle incident stays open while
// nothing moves (issue 25's persistence, for vehicles: 0.9), in mode auto
// as in mode all (the look's result has the idle camera replay its GOP
// from the keyframe: gate.Gate.Take), and nothing else is raised. It needs
// the model and the camera clips, as the test above.
func TestAccuracyRealParkedVehicles(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 2 x 22 s")
	}
	model := modelT(t)
	keep := realScenarios(t, func(s Scenario) bool { return s.Camera["vehicle"] != nil })
	if len(keep) < 1 {
		t.Fatal("no real scenario with vehicle incidents, want parked")
	}
	for _, mode := range []string{"all", "auto"} {
		r, err := Accuracy(context.Background(), keep, AccuracyOptions{Model: model, DecodeMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		PrintAccuracy(&b, r)
		t.Logf("mode %s:\n%s", mode, b.String())
		if r.Failed != 0 {
			t.Errorf("mode %s: %d scenarios failed", mode, r.Failed)
		}
		found := false
		for _, k := range r.Kinds {
			if k.Kind == "vehicle" {
				found = k.Persistence >= 0.9
			}
		}
		if !found {
			t.Errorf("mode %s: no vehicle incident open 90%% of the time the vehicles were in view", mode)
		}
	}
}

// realScenarios loads bench/scenarios/real's scenarios that keep accepts,
// their clips taken from $VIGIL_CAMCLIPS when set; the test is skipped
// when one of their clips is missing (scripts/camclips.sh makes them).
func realScenarios(t *testing.T, keep func(Scenario) bool) []Scenario {
	t.Helper()
	sc, err := LoadScenarios("scenarios/real")
	if err != nil {
		t.Fatal(err)
	}
	var out []Scenario
	for _, s := range sc {
		if !keep(s) {
			continue
		}
		if dir := os.Getenv("VIGIL_CAMCLIPS"); dir != "" && strings.Contains(s.Clip, "camclips") {
			s.Clip = filepath.Join(dir, filepath.Base(s.Clip))
		}
		if _, err := os.Stat(s.Clip); err != nil {
			t.Skipf("%s: no clip (scripts/camclips.sh makes it): %v", s.Name, err)
		}
		out = append(out, s)
	}
	return out
}

// TestPersonsModelNamedButMissing: a model named on the command line that
// is not there (or has no runtime library beside it) is an error naming
// it, not a silent fall-back to HOG; the default model's absence still
// scores HOG alone.
func TestPersonsModelNamedButMissing(t *testing.T) {
	truth := filepath.Join(t.TempDir(), "truth.yaml")
	if err := os.WriteFile(truth, []byte("clips:\n  - name: office\n    path: "+filepath.Join("..", "testdata", "footage", "office.mkv")+"\n    frames:\n      - {frame: 10, persons: []}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "model.onnx")
	if _, err := Persons(context.Background(), PersonsOptions{Truth: truth, Model: missing, RequireModel: true, HOGThresholds: []float64{0}}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("a named model that is missing: error %v, want one naming %s", err, missing)
	}
	r, err := Persons(context.Background(), PersonsOptions{Truth: truth, Model: missing, HOGThresholds: []float64{0}})
	if err != nil || r.Network != "" {
		t.Errorf("the default model missing: %v, network %q; want HOG alone", err, r.Network)
	}
}
