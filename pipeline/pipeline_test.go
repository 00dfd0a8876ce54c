package pipeline_test

import (
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/pipeline"
	"github.com/vigil-video/vigil/sched"
	"github.com/vigil-video/vigil/sim"
)

// TestFollowsOverload: the analysis rate follows the camera's overload
// step as the ladder sets it (sched.Overload), with no call to the
// pipeline: 5 pictures a second analyzed at full rate, at most
// sched.ReducedFPS from the reduced step on, 5 again once back.
func TestFollowsOverload(t *testing.T) {
	clip := testkit.Clip(t, "motion")
	if clip.Codec != sim.H264 {
		t.Skip("the motion clip is not H.264")
	}
	var load sched.Overload
	p, err := pipeline.New(pipeline.Config{AnalysisWidth: 160, AnalysisFPS: 5, Analysis: config.DefaultAnalysis(), Overload: &load})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Reset(decode.H264); err != nil {
		t.Fatal(err)
	}
	frame := time.Duration(float64(time.Second) / clip.FPS)
	t0 := time.Now()
	i := 0
	// analyzed runs the clip (looped) for d of stream time at step s and
	// returns the pictures analyzed.
	analyzed := func(s sched.Step, d time.Duration) int {
		load.Set(s)
		n := 0
		for end := time.Duration(i)*frame + d; time.Duration(i)*frame < end; i++ {
			var au []byte
			for _, nalu := range clip.AUs[i%len(clip.AUs)] {
				au = append(au, 0, 0, 0, 1)
				au = append(au, nalu...)
			}
			if i > 0 && i%len(clip.AUs) == 0 {
				if err := p.Reset(decode.H264); err != nil {
					t.Fatal(err)
				}
			}
			pts := time.Duration(i) * frame
			r := p.Process(au, pts, t0.Add(pts))
			if r.Err != nil {
				t.Fatalf("unit %d: %v", i, r.Err)
			}
			if r.Analyzed {
				n++
			}
		}
		return n
	}
	const span = 4 * time.Second
	if n := analyzed(sched.StepFull, span); n < 18 {
		t.Errorf("full rate: %d pictures analyzed in %s, want about 20", n, span)
	}
	if n := analyzed(sched.StepReduced, span); n > int(sched.ReducedFPS*span.Seconds())+2 {
		t.Errorf("reduced step: %d pictures analyzed in %s, want at most about %.0f", n, span, sched.ReducedFPS*span.Seconds())
	}
	if n := analyzed(sched.StepFull, span); n < 18 {
		t.Errorf("back to full rate: %d pictures analyzed in %s, want about 20", n, span)
	}
}
