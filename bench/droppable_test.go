package bench

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/pipeline"
	"github.com/vigil-video/vigil/sim"
	"github.com/vigil-video/vigil/unit"
)

// TestSkipDroppable: leaving undecoded the pictures no picture refers to
// that the analysis would not take (pipeline.Pipeline.Skip) changes
// nothing the analysis sees. On the matrix's clips with B-frames (x264 and
// x265, deterministic encodings of real footage with people entering),
// every picture is played in decode order through one pipeline that
// decodes all and one that skips: the same pictures are analyzed (by
// presentation time) and the same motion incidents start and end at the
// same times, while the second decodes fewer pictures. Clips without
// non-reference pictures skip none.
func TestSkipDroppable(t *testing.T) {
	dir := testkit.GateMatrix(t)
	// x265 with a temporal sub-layer: its non-reference B-frames in the
	// upper sub-layer (TSA_N), droppable; its RASL_N pictures in the base
	// one, which the upper sub-layer may refer to, are not.
	layered := filepath.Join(t.TempDir(), "highway-layers.h265")
	if b, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-r", "25", "-i", filepath.Join(dir, "highway-bf.h264"),
		"-c:v", "libx265", "-preset", "fast", "-b:v", "500k",
		"-x265-params", "log-level=error:pools=none:frame-threads=1:keyint=50:min-keyint=50:scenecut=0:repeat-headers=1:temporal-layers=1",
		"-f", "hevc", layered).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	for _, tc := range []struct {
		name     string
		droppers bool // the clip has non-reference pictures
	}{
		{"highway-bf.h264", true},
		{"office-bf.h264", true},
		{"vtest-x265f.h265", true},
		{layered, true},
		{"vtest-vbv.h264", false},
	} {
		t.Run(filepath.Base(tc.name), func(t *testing.T) {
			path := tc.name
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			aus, codec, err := GateUnits(path, 25)
			if err != nil {
				t.Fatal(err)
			}
			dc := decode.H264
			if codec == sim.H265 {
				dc = decode.H265
			}
			all, some := playSkipping(t, aus, dc, false), playSkipping(t, aus, dc, true)
			t.Logf("%d units: decoded %d → %d (%d skipped), %d analyzed, motion %v", len(aus), all.decoded, some.decoded, some.skipped, len(all.analyzed), all.starts)
			if !slices.Equal(all.analyzed, some.analyzed) {
				t.Errorf("pictures analyzed differ: %d decoding all, %d skipping", len(all.analyzed), len(some.analyzed))
			}
			if len(all.starts) == 0 || !slices.Equal(all.starts, some.starts) {
				t.Errorf("motion incidents: %v decoding all, %v skipping; want the same, at least one", all.starts, some.starts)
			}
			if tc.droppers && some.skipped < len(aus)/5 {
				t.Errorf("skipped %d of %d units; want a fifth or more on a clip with B-frames", some.skipped, len(aus))
			}
			if !tc.droppers && some.skipped != 0 {
				t.Errorf("skipped %d units of a clip without non-reference pictures", some.skipped)
			}
		})
	}
}

// skipRun is what playSkipping saw.
type skipRun struct {
	analyzed []time.Duration // the analysis clock of each picture analyzed
	starts   []string        // motion transitions, phase@start
	decoded  int
	skipped  int
}

// playSkipping plays aus in order through a pipeline at 5 pictures
// analyzed a second; skip leaves undecoded what the engine's worker
// leaves (unit.AccessUnit.Droppable and pipeline.Pipeline.Skip).
func playSkipping(t *testing.T, aus []unit.AccessUnit, dc decode.Codec, skip bool) skipRun {
	t.Helper()
	var r skipRun
	p, err := pipeline.New(pipeline.Config{AnalysisWidth: 320, AnalysisFPS: 5, Analysis: config.DefaultAnalysis()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Reset(dc); err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1e9, 0)
	for _, au := range aus {
		if skip && au.Droppable && p.Skip(au.PTS) {
			r.skipped++
			continue
		}
		pr := p.Process(au.Data, au.PTS, start.Add(au.PTS))
		if pr.Err != nil {
			t.Fatalf("unit at %s: %v", au.PTS, pr.Err)
		}
		if pr.Decoded {
			r.decoded++
		}
		if !pr.Analyzed {
			continue
		}
		r.analyzed = append(r.analyzed, pr.Now.Sub(start))
		for _, tr := range pr.Transitions {
			if tr.Kind == analyze.KindMotion {
				r.starts = append(r.starts, tr.Phase.String()+"@"+tr.StartedAt.Sub(start).String())
			}
		}
	}
	return r
}

// TestSkipDroppableDecodeOrder: a stream with B-frames stamped in the
// order its pictures are sent, not shown (a broken encoder or server;
// vigil's simulator did it), makes the analysis anchor its clock again at
// every reordered picture, and there a picture Skip leaves may be one the
// analysis would have taken. After the first such picture Skip decides
// nothing (for 10 s of stream, renewed at each): past the first second,
// the same pictures are analyzed as decoding all.
func TestSkipDroppableDecodeOrder(t *testing.T) {
	dir := testkit.GateMatrix(t)
	for _, name := range []string{"highway-bf.h264", "vtest-x265f.h265"} {
		t.Run(name, func(t *testing.T) {
			aus, codec, err := GateUnits(filepath.Join(dir, name), 25)
			if err != nil {
				t.Fatal(err)
			}
			for i := range aus {
				aus[i].PTS = time.Duration(i) * 40 * time.Millisecond
			}
			dc := decode.H264
			if codec == sim.H265 {
				dc = decode.H265
			}
			all, some := playSkipping(t, aus, dc, false), playSkipping(t, aus, dc, true)
			t.Logf("%d units: decoded %d → %d (%d skipped), %d and %d analyzed", len(aus), all.decoded, some.decoded, some.skipped, len(all.analyzed), len(some.analyzed))
			after := func(r skipRun) []time.Duration {
				i, _ := slices.BinarySearch(r.analyzed, r.analyzed[0]+time.Second)
				return r.analyzed[i:]
			}
			if !slices.Equal(after(all), after(some)) {
				t.Errorf("pictures analyzed after the first second differ: %d decoding all, %d skipping", len(after(all)), len(after(some)))
			}
			if some.skipped > 10 {
				t.Errorf("skipped %d units of a stream stamped in decode order; want a few at most, before its first reordered picture", some.skipped)
			}
		})
	}
}
