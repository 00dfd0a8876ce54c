package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/pipeline"
	"github.com/vigil-video/vigil/sim"
)

func TestOfflineOnShippedClip(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	r, err := Offline(context.Background(), OfflineOptions{Clip: "../sim/clips/motion.h264", Loops: 2, AnalysisFPS: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.Frames != 500 {
		t.Errorf("frames %d, want 2 loops of 250", r.Frames)
	}
	if r.FramesAnalyzed < 90 || r.FramesAnalyzed > 110 {
		t.Errorf("analyzed %d frames of 20 s at 5 fps", r.FramesAnalyzed)
	}
	if r.Incidents != 2 {
		t.Errorf("%d motion incidents, want one per loop", r.Incidents)
	}
	if r.CPUSeconds <= 0 || r.Stages.DecodeSeconds <= 0 || r.FFmpeg == nil || r.FFmpeg.CPUSeconds <= 0 || r.CPURatio <= 0 {
		t.Errorf("figures missing: %+v ffmpeg %+v", r, r.FFmpeg)
	}
}

func TestAssignClips(t *testing.T) {
	cs, err := assignClips("motion=10%,static", 30, 25)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, c := range cs {
		n[c.Name]++
	}
	if len(cs) != 30 || n["motion"] != 3 || n["static"] != 27 {
		t.Fatalf("assignment %v", n)
	}
	for _, bad := range []string{"motion=150%", "nosuchclip.h264", "motion=x%"} {
		if _, err := assignClips(bad, 10, 25); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestStaggerStarts: with --stagger the cameras of each clip start at its
// keyframes in turn, each clip counted apart; every start is a keyframe.
func TestStaggerStarts(t *testing.T) {
	cs, err := assignClips("motion=40%,static", 10, 25)
	if err != nil {
		t.Fatal(err)
	}
	starts := staggerStarts(cs)
	byClip := map[string][]int{}
	for i, c := range cs {
		if !c.IsKeyframe(starts[i]) {
			t.Errorf("camera %d starts at %d, not a keyframe of %s", i, starts[i], c.Name)
		}
		byClip[c.Name] = append(byClip[c.Name], starts[i])
	}
	for name, ss := range byClip {
		var keys []int
		c := cs[slices.IndexFunc(cs, func(c *sim.Clip) bool { return c.Name == name })]
		for j := range c.AUs {
			if c.IsKeyframe(j) {
				keys = append(keys, j)
			}
		}
		if len(keys) < 2 {
			t.Fatalf("%s has %d keyframes: the test needs more", name, len(keys))
		}
		for j, s := range ss {
			if want := keys[j%len(keys)]; s != want {
				t.Errorf("%s camera %d of the clip starts at %d, want keyframe %d (%d of %v)", name, j, s, want, j%len(keys), keys)
			}
		}
		if len(keys) > 1 && len(ss) > 1 && ss[0] == ss[1] {
			t.Errorf("%s: two cameras start at the same keyframe %d", name, ss[0])
		}
	}
}

var (
	clipOnce sync.Once
	clipDir  string
	clipErr  error
)

// benchClip writes a camera-like clip (static textured scene, sensor noise,
// a moving box, GOP 50, no B-frames) of the given height, once per run.
func benchClip(b *testing.B, height int) string {
	clipOnce.Do(func() { clipDir, clipErr = os.MkdirTemp("", "vigil-bench-") })
	if clipErr != nil {
		b.Fatal(clipErr)
	}
	width := height * 16 / 9
	path := filepath.Join(clipDir, fmt.Sprintf("cam%dp.h264", height))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Skip("ffmpeg not installed")
	}
	box := height / 5
	filter := fmt.Sprintf("[0]drawgrid=w=%d:h=%d:t=2:c=white@0.4,noise=alls=6:allf=t[bg];"+
		"[bg][1]overlay=x='mod(t*%d,W)':y=%d:shortest=1,format=yuv420p", width/8, height/6, width/4, height/3)
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("color=c=0x606060:s=%dx%d:r=25:d=20", width, height),
		"-f", "lavfi", "-i", fmt.Sprintf("color=c=black:s=%dx%d:r=25:d=20", box, box),
		"-filter_complex", filter, "-c:v", "libx264", "-preset", "veryfast", "-bf", "0",
		"-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-f", "h264", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("ffmpeg: %v: %s", err, out)
	}
	return path
}

// BenchmarkPipeline is decode + scale + motion analysis of every frame (the
// engine's per-camera path at the worst analysis rate), per frame, beside
// BenchmarkFFmpegDecode on the same clip.
func BenchmarkPipeline(b *testing.B) {
	for _, h := range []int{720, 360} {
		b.Run(fmt.Sprintf("%dp", h), func(b *testing.B) {
			clip, err := loadClip(benchClip(b, h), 25)
			if err != nil {
				b.Fatal(err)
			}
			aus := make([][]byte, len(clip.AUs))
			for i, au := range clip.AUs {
				aus[i] = annexB(au)
			}
			p, err := pipeline.New(pipeline.Config{AnalysisWidth: 320, AnalysisFPS: 0, Analysis: config.DefaultAnalysis()})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			if err := p.Reset(decode.H264); err != nil {
				b.Fatal(err)
			}
			t0 := time.Unix(0, 0)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % len(aus)
				if k == 0 && i > 0 {
					p.Reset(decode.H264)
				}
				if r := p.Process(aus[k], time.Duration(i)*40*time.Millisecond, t0); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/frame")
		})
	}
}

// BenchmarkFFmpegDecode runs `ffmpeg -threads 1 -i CLIP -f null -` on the
// BenchmarkPipeline clips and reports its CPU per frame (process start
// included: 500 frames per run).
func BenchmarkFFmpegDecode(b *testing.B) {
	for _, h := range []int{720, 360} {
		b.Run(fmt.Sprintf("%dp", h), func(b *testing.B) {
			path := benchClip(b, h)
			var cpu time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := FFmpegDecode(context.Background(), path, 1, 500)
				if err != nil {
					b.Fatal(err)
				}
				cpu += time.Duration(r.CPUSeconds * 1e9)
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*500), "cpu-ns/frame")
		})
	}
}
