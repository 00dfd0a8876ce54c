package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccuracyFrozenOnRealFootage is `vigil bench accuracy` on the two
// frozen scenarios of bench/scenarios/real, in modes all and auto: a
// source frozen under a running encoder (its keyframes' pictures
// identical, no identical run as long as frozen_time) is frozen within
// 6 s, and a live still view whose encoder quantizes the noise away
// between keyframes (identical runs of 3.8 s) raises nothing. In mode auto
// a waking camera decodes its keyframe again in the replay: counted twice
// (the pipeline counts it once) with the last interval taken as the
// keyframe interval (the analyzer takes the longest), the interval was
// 200 ms and the quiet view frozen three times. It needs the camera clips
// (scripts/camclips.sh).
func TestAccuracyFrozenOnRealFootage(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 60 s")
	}
	keep := realScenarios(t, func(s Scenario) bool { return s.Name == "frozen" || s.Name == "quiet" })
	if len(keep) != 2 {
		t.Fatalf("%d of the frozen and quiet scenarios, want 2", len(keep))
	}
	for _, mode := range []string{"all", "auto"} {
		t.Run(mode, func(t *testing.T) {
			r, err := Accuracy(context.Background(), keep, AccuracyOptions{DecodeMode: mode, Model: filepath.Join(t.TempDir(), "none.onnx")})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range r.Scenarios {
				if !s.Pass {
					t.Errorf("%s: %s; observed %+v", s.Name, strings.Join(s.Failures, "; "), s.Observed)
				}
			}
		})
	}
}
