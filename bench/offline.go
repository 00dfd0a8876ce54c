package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/pipeline"
	"github.com/vigil-video/vigil/sim"
)

// OfflineOptions are the settings of `vigil bench offline`.
type OfflineOptions struct {
	Clip        string
	FPS         float64 // frame rate of the clip (elementary streams carry none)
	Loops       int     // passes over the clip
	Width       int     // analysis width
	AnalysisFPS float64 // 0 analyzes every frame
	Algorithm   string  // motion algorithm
	NoFFmpeg    bool    // skip the ffmpeg baseline
}

// OfflineResult is the JSON output of `vigil bench offline` (schema
// documented in BENCHMARKS.md).
type OfflineResult struct {
	Clip           string  `json:"clip"`
	Codec          string  `json:"codec"`
	Width          int     `json:"width"`
	Height         int     `json:"height"`
	Frames         int     `json:"frames"`
	FramesAnalyzed int     `json:"frames_analyzed"`
	Algorithm      string  `json:"algorithm"`
	AnalysisWidth  int     `json:"analysis_width"`
	AnalysisFPS    float64 `json:"analysis_fps"`
	WallSeconds    float64 `json:"wall_seconds"`
	CPUSeconds     float64 `json:"cpu_seconds"`
	// FramesPerCoreSecond is frames decoded per second of CPU.
	FramesPerCoreSecond float64 `json:"frames_per_core_second"`
	Stages              struct {
		DemuxSeconds   float64 `json:"demux_seconds"`
		DecodeSeconds  float64 `json:"decode_seconds"`
		ScaleSeconds   float64 `json:"scale_seconds"`
		AnalyzeSeconds float64 `json:"analyze_seconds"`
		// AnalyzeMicrosPerFrame is the mean scale+analysis cost of one analyzed frame.
		AnalyzeMicrosPerFrame float64 `json:"analyze_us_per_frame"`
	} `json:"stages"`
	Incidents int           `json:"incidents"`
	FFmpeg    *FFmpegResult `json:"ffmpeg,omitempty"`
	// CPURatio is vigil's CPU per frame over ffmpeg's (below 1: vigil is cheaper).
	CPURatio float64 `json:"cpu_ratio,omitempty"`
}

// FFmpegResult is the `ffmpeg -threads 1 -i CLIP -f null -` baseline.
type FFmpegResult struct {
	Command             string  `json:"command"`
	CPUSeconds          float64 `json:"cpu_seconds"`
	FramesPerCoreSecond float64 `json:"frames_per_core_second"`
}

// Offline decodes and analyzes a clip as fast as it can, on one goroutine,
// with the engine's own pipeline, then runs the ffmpeg baseline.
func Offline(ctx context.Context, o OfflineOptions) (*OfflineResult, error) {
	if o.Loops <= 0 {
		o.Loops = 1
	}
	if o.Width <= 0 {
		o.Width = 320
	}
	ac := config.DefaultAnalysis()
	if o.Algorithm != "" {
		ac.Motion.Algorithm = o.Algorithm
	}
	mc := ac.Motion
	cpu0 := cpuTime()
	wall0 := time.Now()
	clip, err := loadClip(o.Clip, o.FPS)
	if err != nil {
		return nil, err
	}
	aus := make([][]byte, len(clip.AUs))
	for i, au := range clip.AUs {
		aus[i] = annexB(au)
	}
	res := &OfflineResult{Clip: o.Clip, Codec: string(clip.Codec), Width: clip.Width, Height: clip.Height,
		Algorithm: mc.Algorithm, AnalysisWidth: o.Width, AnalysisFPS: o.AnalysisFPS}
	res.Stages.DemuxSeconds = time.Since(wall0).Seconds()

	p, err := pipeline.New(pipeline.Config{AnalysisWidth: o.Width, AnalysisFPS: o.AnalysisFPS, Analysis: ac})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	codec := decode.H264
	if clip.Codec == sim.H265 {
		codec = decode.H265
	}
	frameDur := time.Duration(float64(time.Second) / clip.FPS)
	start := time.Unix(0, 0)
	var decodeT, scaleT, analyzeT time.Duration
	for loop := 0; loop < o.Loops; loop++ {
		if err := p.Reset(codec); err != nil {
			return nil, err
		}
		for i, au := range aus {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			pts := time.Duration(i) * frameDur
			r := p.Process(au, pts, start)
			decodeT += r.DecodeTime
			scaleT += r.ScaleTime
			analyzeT += r.AnalyzeTime
			if r.Decoded {
				res.Frames++
			}
			if r.Analyzed {
				res.FramesAnalyzed++
			}
			for _, tr := range r.Transitions {
				if tr.Phase == analyze.PhaseStart {
					res.Incidents++
				}
			}
		}
	}
	res.WallSeconds = time.Since(wall0).Seconds()
	res.CPUSeconds = (cpuTime() - cpu0).Seconds()
	res.Stages.DecodeSeconds = decodeT.Seconds()
	res.Stages.ScaleSeconds = scaleT.Seconds()
	res.Stages.AnalyzeSeconds = analyzeT.Seconds()
	if res.FramesAnalyzed > 0 {
		res.Stages.AnalyzeMicrosPerFrame = float64((scaleT + analyzeT).Microseconds()) / float64(res.FramesAnalyzed)
	}
	if res.CPUSeconds > 0 {
		res.FramesPerCoreSecond = float64(res.Frames) / res.CPUSeconds
	}
	if !o.NoFFmpeg {
		ff, err := FFmpegDecode(ctx, o.Clip, o.Loops, res.Frames)
		if err != nil {
			return nil, err
		}
		res.FFmpeg = ff
		if ff.FramesPerCoreSecond > 0 && res.FramesPerCoreSecond > 0 {
			res.CPURatio = ff.FramesPerCoreSecond / res.FramesPerCoreSecond
		}
	}
	return res, nil
}

// FFmpegDecode runs `ffmpeg -threads 1 -i CLIP -f null -` loops times (its
// -stream_loop does not loop raw elementary streams) and sums its CPU
// (user+system, from the kernel's accounting of the child).
func FFmpegDecode(ctx context.Context, clip string, loops, frames int) (*FFmpegResult, error) {
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1", "-i", clip, "-f", "null", "-"}
	r := &FFmpegResult{Command: "ffmpeg " + joinArgs(args)}
	var cpu time.Duration
	for range max(loops, 1) {
		cmd := exec.CommandContext(ctx, "ffmpeg", args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("ffmpeg baseline on %s: %w: %s", clip, err, bytes.TrimSpace(stderr.Bytes()))
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	r.CPUSeconds = cpu.Seconds()
	if cpu > 0 {
		r.FramesPerCoreSecond = float64(frames) / cpu.Seconds()
	}
	return r, nil
}

func joinArgs(a []string) string {
	var b bytes.Buffer
	for i, s := range a {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	return b.String()
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// annexB joins NAL units with start codes.
func annexB(nalus [][]byte) []byte {
	n := 0
	for _, u := range nalus {
		n += 4 + len(u)
	}
	b := make([]byte, 0, n)
	for _, u := range nalus {
		b = append(b, 0, 0, 0, 1)
		b = append(b, u...)
	}
	return b
}

// PrintOffline writes the result as a table for people.
func PrintOffline(w io.Writer, r *OfflineResult) {
	fmt.Fprintf(w, "clip %s  %s %dx%d  %d frames, %d analyzed (%s, %d px wide, %g fps)\n",
		r.Clip, r.Codec, r.Width, r.Height, r.Frames, r.FramesAnalyzed, r.Algorithm, r.AnalysisWidth, r.AnalysisFPS)
	fmt.Fprintf(w, "%-28s %12s\n", "", "value")
	fmt.Fprintf(w, "%-28s %12.3f\n", "vigil CPU seconds", r.CPUSeconds)
	fmt.Fprintf(w, "%-28s %12.0f\n", "vigil frames/core-second", r.FramesPerCoreSecond)
	fmt.Fprintf(w, "%-28s %12.3f\n", "  demux seconds", r.Stages.DemuxSeconds)
	fmt.Fprintf(w, "%-28s %12.3f\n", "  decode seconds", r.Stages.DecodeSeconds)
	fmt.Fprintf(w, "%-28s %12.3f\n", "  scale seconds", r.Stages.ScaleSeconds)
	fmt.Fprintf(w, "%-28s %12.3f\n", "  analyze seconds", r.Stages.AnalyzeSeconds)
	fmt.Fprintf(w, "%-28s %12.1f\n", "  scale+analyze us/frame", r.Stages.AnalyzeMicrosPerFrame)
	fmt.Fprintf(w, "%-28s %12d\n", "motion incidents", r.Incidents)
	if r.FFmpeg != nil {
		fmt.Fprintf(w, "%-28s %12.3f\n", "ffmpeg CPU seconds", r.FFmpeg.CPUSeconds)
		fmt.Fprintf(w, "%-28s %12.0f\n", "ffmpeg frames/core-second", r.FFmpeg.FramesPerCoreSecond)
		fmt.Fprintf(w, "%-28s %12.2f\n", "vigil/ffmpeg CPU per frame", r.CPURatio)
		fmt.Fprintf(w, "baseline: %s\n", r.FFmpeg.Command)
	}
}

// writeJSON writes v indented.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
