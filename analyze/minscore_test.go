package analyze

import (
	"path/filepath"
	"testing"

	"github.com/vigil-video/vigil/config"
)

// TestVehicleMinScore: vehicles have their own threshold
// (objects.vehicle_min_score): the car of highway.mkv's frame 213, which
// the real network scores between 0.2 and 0.5, is an object at
// VehicleMinScore 0.2 with people held to MinScore 0.5, and only a weak
// detection (continuing a track, never starting one) without it. (Other
// weak vehicle boxes, 0.1 to 0.2, are elsewhere in the frame.)
func TestVehicleMinScore(t *testing.T) {
	net := networkT(t, 0.1)
	const frame = 213
	count := func(cfg InferenceConfig) (objs, weak int) {
		in := NewInference(net, cfg, nil)
		defer in.Close()
		err := ReadFrames(filepath.Join("..", "testdata", "footage", "highway.mkv"), []int{frame}, func(_ int, s *Snapshot) error {
			raw, err := DetectSnapshot(net, s)
			if err != nil {
				return err
			}
			o, w := in.objects(raw, &objRequest{bgr: s.mat, region: Box{0, 0, 1, 1}})
			for _, x := range o {
				if x.Label == config.LabelVehicle {
					objs++
				}
			}
			for _, x := range w {
				if x.Label == config.LabelVehicle {
					weak++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return objs, weak
	}
	objs1, weak1 := count(InferenceConfig{MaxPerSecond: 1, MinScore: 0.5, VehicleMinScore: 0.2})
	objs2, weak2 := count(InferenceConfig{MaxPerSecond: 1, MinScore: 0.5})
	if objs1 != 1 {
		t.Errorf("vehicle_min_score 0.2: %d vehicles, want 1", objs1)
	}
	if objs2 != 0 || weak2 != weak1+1 {
		t.Errorf("min_score 0.5 alone: %d vehicles and %d weak ones; want none, and the car among the weak (%d + 1)", objs2, weak2, weak1)
	}
}
