package analyze

import (
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

// TestTamperOnSparseKeyframes: an idle camera with a long GOP analyzes a
// keyframe every 5 or 10 s (SetSparse). A cover from 40 s to 90 s starts
// one covered incident on the keyframes, which stays open across them and
// ends once the view is back; nothing else is raised.
func TestTamperOnSparseKeyframes(t *testing.T) {
	for _, gop := range []time.Duration{5 * time.Second, 10 * time.Second} {
		t.Run(gop.String(), func(t *testing.T) {
			c, f := newCameraT(t, config.DefaultAnalysis())
			tx := newTexture(t, 1)
			var out []Transition
			// The first seconds at full rate (the tamper baseline learns),
			// then keyframes alone.
			for at := time.Duration(0); at < 150*time.Second; {
				v := view{noise: 2}
				if at >= 40*time.Second && at < 90*time.Second {
					v = view{black: true, noise: 2}
				}
				tx.draw(f, v)
				sparse := at >= 6*time.Second
				c.SetSparse(sparse)
				out = append(out, c.Analyze(f, t0.Add(at))...)
				if sparse {
					at += gop
				} else {
					at += 200 * time.Millisecond
				}
			}
			var starts, ends int
			for _, tr := range out {
				t.Logf("%s %s %s at %s", tr.Kind, tr.Cause, tr.Phase, tr.FrameTime.Sub(t0))
				if tr.Kind != KindTamper || tr.Cause != CauseCovered {
					if tr.Phase == PhaseStart {
						t.Errorf("unexpected %s %s", tr.Kind, tr.Cause)
					}
					continue
				}
				switch tr.Phase {
				case PhaseStart:
					starts++
					if at := tr.StartedAt.Sub(t0); at < 40*time.Second || at > 40*time.Second+gop {
						t.Errorf("covered started at %s, want the first keyframe from 40 s", at)
					}
				case PhaseEnd:
					ends++
					if at := tr.FrameTime.Sub(t0); at < 90*time.Second || at > 90*time.Second+2*gop+c.cfg.Tamper.ClearTime {
						t.Errorf("covered ended at %s", at)
					}
				}
			}
			if starts != 1 || ends != 1 {
				t.Fatalf("covered: %d starts and %d ends, want one of each", starts, ends)
			}
		})
	}
}

// TestCoveredIsNotAlsoFrozen: a covered lens whose dark picture the
// encoder codes as bit-identical pictures raises covered, not frozen
// beside it.
func TestCoveredIsNotAlsoFrozen(t *testing.T) {
	c, f := newCameraT(t, config.DefaultAnalysis())
	tx := newTexture(t, 1)
	got := run(c, f, tx, 0, 30*time.Second, func(at time.Duration) view {
		if at >= 15*time.Second {
			return view{black: true} // no noise: every picture the same
		}
		return view{noise: 2}
	})
	var covered bool
	for _, tr := range only(got, KindTamper) {
		if tr.Cause == CauseFrozen {
			t.Fatalf("frozen raised on a covered lens: %+v", tr)
		}
		covered = covered || tr.Cause == CauseCovered && tr.Phase == PhaseStart
	}
	if !covered {
		t.Fatal("no covered start")
	}
}
