package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// ObjectsConfig is the object detector: people and vehicles found by a
// neural network (NanoDet, converted at setup by scripts/models.sh), on
// the CPU, on frames with motion, on still frames while a camera holds
// objects, and once per camera at start (first_look), under one budget
// for all cameras.
// A change needs a restart.
type ObjectsConfig struct {
	// Enabled runs the network when its model file is there; without the
	// file the engine logs it once and runs without it (people by HOG
	// where person.enabled, motion otherwise).
	// It defaults to true.
	Enabled bool `yaml:"enabled"`
	// Model is the network (.onnx): NanoDet with its convolutions in 8
	// bits (nanodet-int8.onnx, 2.3 times less CPU an inference than in
	// float, as accurate on the corpus) or in float (nanodet.onnx), both
	// made by `bash scripts/models.sh [DIR]` (scripts/setup.sh runs it),
	// or a
	// YOLO model exported in the Ultralytics form over COCO's 80 classes,
	// such as the YOLOv8n `scripts/models.sh --yolov8n` fetches (README,
	// "A stronger model: YOLO"; set min_score 0.3 and vehicle_min_score
	// 0.15 with it).
	// It defaults to $VIGIL_MODELS/nanodet-int8.onnx when VIGIL_MODELS is
	// set (where scripts/setup.sh then puts it), else
	// ".cache/models/nanodet-int8.onnx" (relative to the working
	// directory); when that default is absent and nanodet.onnx is beside
	// it, the engine runs the float model and says so.
	Model string `yaml:"model"`
	// MaxPerSecond is the ceiling of the inference budget: inferences per
	// second, all cameras together: 0, or 0.1 to 1000. Under it the budget
	// follows the machine: it grows (by half every 0.5 s) while the CPUs
	// and the analysis workers are under 65% busy and requests wait, and
	// halves (down to 2 a second, the fixed budget of old) while they are over 80%. A camera with
	// motion asks for at most one inference at a time; a camera whose
	// motion has just begun goes first, then the one waiting longest; a
	// request waiting over 2s is shed.
	// It defaults to 0: no ceiling, the budget follows the machine alone
	// (one inference at a time: about 25 a second at 35-45 ms each).
	MaxPerSecond float64 `yaml:"max_per_second"`
	// Threads is how many threads an inference uses: 1 to 64.
	// It defaults to 1.
	Threads int `yaml:"threads"`
	// MinScore is the lowest confidence that finds a person: 0.05 to 1.
	// Weaker detections, down to 0.1, only continue an object already
	// followed (the tracker's second pass).
	// A person scored under 0.5 starts an object only apart from the
	// people followed: among others, such boxes are often astride two
	// people or a shifted copy of one (the tracker, README "Tracking").
	// It defaults to 0.4, chosen by leave-one-source-out on the 14
	// labelled sources of bench/persons/corpus.yaml (held out: precision
	// 0.92, recall 0.95); as a camera reports them (the tracker's rule
	// above), precision 0.98 and recall 0.94 on all sources, 0.85 on the
	// people of the cameras other than vtest.avi (0.69 at 0.5), with
	// vtest.avi's crossing people keeping their ids (BENCHMARKS.md
	// "Objects on many cameras" and "People under 0.5").
	MinScore float64 `yaml:"min_score"`
	// VehicleMinScore is the lowest confidence that finds a vehicle: 0.05
	// to 1 (the network scores vehicles lower than people: cars seen from
	// above 0.2-0.4). Weaker ones, down to 0.1, only continue a vehicle
	// already followed.
	// It defaults to 0.25, chosen by leave-one-source-out on the same
	// corpus (held out: precision 0.90, recall 0.81; cars on a highway
	// seen from above: recall 0.19).
	VehicleMinScore float64 `yaml:"vehicle_min_score"`
	// Labels are the objects reported: "person", "vehicle" (car, bus,
	// truck, motorcycle, bicycle).
	// It defaults to both.
	Labels []string `yaml:"labels"`
	// FirstLook makes every camera with person or vehicle incidents look
	// at its whole picture with the network once when it starts and after
	// each reconnect, even when nothing moves: people or vehicles already
	// standing in view are reported without waiting for them to move.
	// Otherwise a camera asks on motion only (and re-checks what it
	// follows). A first look waits behind requests driven by motion.
	// It defaults to true.
	FirstLook bool `yaml:"first_look"`
}

// DefaultModelPath is objects.model's default (where scripts/models.sh
// writes the model, from the repository's root): NanoDet with its
// convolutions in 8 bits.
const DefaultModelPath = ".cache/models/nanodet-int8.onnx"

// FloatModelPath is NanoDet in float, which scripts/models.sh writes
// beside the default; the engine runs it when objects.model is the
// default and only this one is there (a cache made before the 8-bit
// model was the default).
const FloatModelPath = ".cache/models/nanodet.onnx"

// DefaultObjects returns the object detector's defaults.
func DefaultObjects() ObjectsConfig {
	model := DefaultModelPath
	if d := os.Getenv("VIGIL_MODELS"); d != "" {
		model = filepath.Join(d, filepath.Base(DefaultModelPath))
	}
	return ObjectsConfig{Enabled: true, Model: model, MaxPerSecond: 0, Threads: 1, MinScore: 0.4, VehicleMinScore: 0.25,
		Labels: []string{LabelPerson, LabelVehicle}, FirstLook: true}
}

// derive replaces the zeros (and a missing labels list) that stand for the
// defaults d.
func (o *ObjectsConfig) derive(d ObjectsConfig) {
	if o.Model == "" {
		o.Model = d.Model
	}
	if o.Threads == 0 {
		o.Threads = d.Threads
	}
	if o.MinScore == 0 {
		o.MinScore = d.MinScore
	}
	if o.VehicleMinScore == 0 {
		o.VehicleMinScore = d.VehicleMinScore
	}
	if o.Labels == nil {
		o.Labels = d.Labels
	}
}

// validate checks the keys.
func (o *ObjectsConfig) validate() error {
	switch {
	case o.MaxPerSecond != 0 && !(o.MaxPerSecond >= 0.1 && o.MaxPerSecond <= 1000):
		return fmt.Errorf("objects.max_per_second: %g is not 0 (follow the machine) or in 0.1..1000", o.MaxPerSecond)
	case o.Threads < 1 || o.Threads > 64:
		return fmt.Errorf("objects.threads: %d is not in 1..64", o.Threads)
	case !(o.MinScore >= 0.05 && o.MinScore <= 1):
		return fmt.Errorf("objects.min_score: %g is not in 0.05..1", o.MinScore)
	case !(o.VehicleMinScore >= 0.05 && o.VehicleMinScore <= 1):
		return fmt.Errorf("objects.vehicle_min_score: %g is not in 0.05..1", o.VehicleMinScore)
	case len(o.Labels) == 0:
		return fmt.Errorf("objects.labels: empty (want person, vehicle or both)")
	}
	for i, l := range o.Labels {
		if l != LabelPerson && l != LabelVehicle {
			return fmt.Errorf("objects.labels[%d]: %q is not person or vehicle", i, l)
		}
		if slices.Index(o.Labels, l) != i {
			return fmt.Errorf("objects.labels[%d]: %q is listed twice", i, l)
		}
	}
	return nil
}
