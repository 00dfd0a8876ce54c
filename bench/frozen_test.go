package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
// 200 ms and the quiet view frozen three times. Mode auto raises frozen
// at most 0.5 s after mode all. It needs the camera clips
// (scripts/camclips.sh).
func TestAccuracyFrozenOnRealFootage(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 60 s")
	}
	keep := realScenarios(t, func(s Scenario) bool { return s.Name == "frozen" || s.Name == "quiet" })
	if len(keep) != 2 {
		t.Fatalf("%d of the frozen and quiet scenarios, want 2", len(keep))
	}
	frozenAt := map[string]time.Duration{}
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
				for _, o := range s.Observed {
					if s.Name == "frozen" && o.Cause == "frozen" {
						frozenAt[mode] = o.Start
						break
					}
				}
			}
		})
	}
	// Mode auto within 0.5 s of mode all: the frozen source's collapsed
	// pictures have the idle camera decode the next keyframe (gate:
	// Activity.Suspect), not one a keyframe_interval (4 s) on: before,
	// 14.0 s against 12.0 s.
	all, auto := frozenAt["all"], frozenAt["auto"]
	if all == 0 || auto == 0 || auto > all+500*time.Millisecond {
		t.Errorf("frozen started at %v in mode all and %v in mode auto: want auto at most 0.5 s later", all, auto)
	}
}
