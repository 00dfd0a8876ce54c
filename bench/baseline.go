package bench

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-video/vigil/internal/sleep"
)

// BaselineOptions are the settings of `vigil bench baseline`.
type BaselineOptions struct {
	Cameras  int
	Clips    string
	Duration time.Duration
	Warmup   time.Duration
	// Approaches to run: "ffmpeg" and/or "opencv". Empty runs both.
	Approaches []string
	Progress   *progress
	Logs       io.Writer
	// Server serves the cameras: ServerSim ("" too) or ServerGst (see
	// LiveOptions.Server).
	Server string
}

// BaselineResult is one approach at one camera count.
type BaselineResult struct {
	// Approach is "ffmpeg" (one `ffmpeg` process per camera decoding to
	// raw gray frames at 320 px wide, the way Frigate consumes cameras) or
	// "opencv" (one OpenCV VideoCapture per camera, in one process).
	Approach string `json:"approach"`
	Command  string `json:"command"`
	// Server is what served the cameras: "sim" or "gst".
	Server          string    `json:"server"`
	Cameras         int       `json:"cameras"`
	DurationSeconds float64   `json:"duration_seconds"`
	Process         ProcStats `json:"process"`
	// FramesRead are the frames the approach delivered over the window;
	// FramesExpected what the cameras sent (cameras × their clips' frame
	// rate × window).
	FramesRead     float64 `json:"frames_read"`
	FramesExpected float64 `json:"frames_expected"`
	// SustainableCameras estimates the cameras the machine's cores take at
	// this cost per camera.
	SustainableCameras float64 `json:"sustainable_cameras"`
}

const baselineWidth, baselineHeight = 320, 180

// Baseline serves the cameras with the simulator and consumes them with the
// approaches a user would otherwise pick, measuring each from outside.
func Baseline(ctx context.Context, bin string, o BaselineOptions) ([]*BaselineResult, error) {
	if o.Cameras < 1 {
		return nil, fmt.Errorf("cameras: %d must be at least 1", o.Cameras)
	}
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if o.Clips == "" {
		o.Clips = "motion=10%,static"
	}
	if len(o.Approaches) == 0 {
		o.Approaches = []string{"ffmpeg", "opencv"}
	}
	logs := o.Logs
	if logs == nil {
		logs = io.Discard
	}
	var out []*BaselineResult
	for _, a := range o.Approaches {
		var r *BaselineResult
		var err error
		switch a {
		case "ffmpeg":
			r, err = baselineFFmpeg(ctx, bin, o, logs)
		case "opencv":
			r, err = baselineOpenCV(ctx, bin, o, logs)
		default:
			err = fmt.Errorf("baseline %q: want ffmpeg or opencv", a)
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// measureWindow waits the warm-up, then measures pids over the window,
// calling frames() at both ends to count frames delivered.
func measureWindow(ctx context.Context, o BaselineOptions, label string, pids []int, frames func() float64) (ProcStats, float64, float64, error) {
	o.Progress.step(label+": warming up", 0)
	if !sleep.For(ctx, o.Warmup) {
		return ProcStats{}, 0, 0, ctx.Err()
	}
	f0 := frames()
	m := startMeter(pids)
	start := time.Now()
	for time.Since(start) < o.Duration {
		o.Progress.step(label+": measuring", float64(time.Since(start))/float64(o.Duration))
		if !sleep.For(ctx, min(time.Second, o.Duration-time.Since(start))) {
			return ProcStats{}, 0, 0, ctx.Err()
		}
	}
	st := m.end(o.Cameras)
	wall := time.Since(start).Seconds()
	o.Progress.done(label + ": measured")
	return st, frames() - f0, wall, nil
}

func baselineFFmpeg(ctx context.Context, bin string, o BaselineOptions, logs io.Writer) (*BaselineResult, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("baseline ffmpeg: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sim, err := startSource(ctx, bin, o.Server, o.Cameras, o.Clips, false, false, o.Warmup+o.Duration, logs)
	if err != nil {
		return nil, err
	}
	defer sim.stop()
	var bytesRead atomic.Int64
	var procs []*child
	var wg sync.WaitGroup
	defer func() {
		for _, p := range procs {
			p.stop(5 * time.Second)
		}
		wg.Wait()
	}()
	args := func(url string) []string {
		return []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
			"-an", "-vf", fmt.Sprintf("scale=%d:%d", baselineWidth, baselineHeight), "-pix_fmt", "gray", "-f", "rawvideo", "pipe:"}
	}
	pids := make([]int, 0, len(sim.urls))
	for _, u := range sim.urls {
		c, out, err := startChild(ctx, "ffmpeg", args(u), nil, logs, true)
		if err != nil {
			return nil, err
		}
		procs = append(procs, c)
		pids = append(pids, c.pid())
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for {
				n, err := out.Read(buf)
				bytesRead.Add(int64(n))
				if err != nil {
					return
				}
			}
		}()
	}
	frameBytes := float64(baselineWidth * baselineHeight)
	st, frames, wall, err := measureWindow(ctx, o, fmt.Sprintf("baseline ffmpeg %d cameras", o.Cameras), pids,
		func() float64 { return float64(bytesRead.Load()) / frameBytes })
	if err != nil {
		return nil, err
	}
	return &BaselineResult{
		Approach: "ffmpeg", Command: "ffmpeg " + strings.Join(args("URL"), " "), Server: sim.server, Cameras: o.Cameras,
		DurationSeconds: wall, Process: st, FramesRead: frames, FramesExpected: float64(o.Cameras) * clipsFPS(o.Clips, o.Cameras) * wall,
		SustainableCameras: sustainable(st.CoresPerCamera),
	}, nil
}

func baselineOpenCV(ctx context.Context, bin string, o BaselineOptions, logs io.Writer) (*BaselineResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sim, err := startSource(ctx, bin, o.Server, o.Cameras, o.Clips, false, false, o.Warmup+o.Duration, logs)
	if err != nil {
		return nil, err
	}
	defer sim.stop()
	args := append([]string{"bench", "capture-worker"}, sim.urls...)
	c, out, err := startChild(ctx, bin, args, []string{"OPENCV_FFMPEG_CAPTURE_OPTIONS=rtsp_transport;tcp"}, logs, true)
	if err != nil {
		return nil, err
	}
	defer c.stop(5 * time.Second)
	var frames atomic.Int64
	go func() {
		// The worker prints its running frame count once per second.
		var n int64
		for {
			if _, err := fmt.Fscan(out, &n); err != nil {
				return
			}
			frames.Store(n)
		}
	}()
	st, got, wall, err := measureWindow(ctx, o, fmt.Sprintf("baseline opencv %d cameras", o.Cameras), []int{c.pid()},
		func() float64 { return float64(frames.Load()) })
	if err != nil {
		return nil, err
	}
	return &BaselineResult{
		Approach: "opencv", Command: "cv::VideoCapture(URL) per camera (FFmpeg backend, rtsp_transport tcp), read() in a loop",
		Server: sim.server, Cameras: o.Cameras, DurationSeconds: wall, Process: st, FramesRead: got,
		FramesExpected: float64(o.Cameras) * clipsFPS(o.Clips, o.Cameras) * wall, SustainableCameras: sustainable(st.CoresPerCamera),
	}, nil
}

// CaptureWorker reads every URL with OpenCV VideoCapture until ctx ends,
// printing the total frame count once per second (the opencv baseline's
// child process).
func CaptureWorker(ctx context.Context, urls []string, out io.Writer) error {
	var frames atomic.Int64
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := readStream(ctx, u, func() { frames.Add(1) }); err != nil && ctx.Err() == nil {
				fmt.Fprintln(out, frames.Load())
			}
		}()
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
			fmt.Fprintln(out, frames.Load())
		}
	}
}

// sustainable estimates the cameras the machine's cores take.
func sustainable(coresPerCamera float64) float64 {
	if coresPerCamera <= 0 {
		return 0
	}
	return float64(numCPU()) / coresPerCamera
}
