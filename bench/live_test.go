package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-video/vigil/internal/testkit"
)

var (
	buildOnce sync.Once
	vigilBin  string
	buildErr  error
)

// vigilExecutable builds cmd/vigil once for the tests that run it as a
// child process.
func vigilExecutable(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-bench-test-")
		if err != nil {
			buildErr = err
			return
		}
		vigilBin = filepath.Join(dir, "vigil")
		out, err := exec.Command("go", "build", "-o", vigilBin, "../cmd/vigil").CombinedOutput()
		if err != nil {
			buildErr = err
			vigilBin = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build vigil: %v\n%s", buildErr, vigilBin)
	}
	return vigilBin
}

// TestLiveShort runs `vigil bench live` for a few seconds against real
// child processes and checks the JSON is complete and sane.
func TestLiveShort(t *testing.T) {
	bin := vigilExecutable(t)
	var out, errOut bytes.Buffer
	err := Main(context.Background(), []string{"live", "--vigil", bin, "--cameras", "3", "--clips", "motion=34%,static",
		"--duration", "5s", "--warmup", "1s", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var r LiveResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out.String())
	}
	if r.Cameras != 3 || r.CamerasUp != 3 || r.DurationSeconds < 4.5 {
		t.Errorf("cameras %d, up %d, duration %g", r.Cameras, r.CamerasUp, r.DurationSeconds)
	}
	if r.Engine.CPUSeconds <= 0 || r.Engine.RSSMaxBytes <= 0 || r.Simulator.CPUSeconds <= 0 {
		t.Errorf("process figures missing: engine %+v, simulator %+v", r.Engine, r.Simulator)
	}
	// 3 cameras at 25 fps for ~5 s.
	if want := 3 * 25 * r.DurationSeconds; r.FramesReceived < 0.8*want || r.FramesReceived > 1.2*want {
		t.Errorf("frames received in the window %g, want about %g", r.FramesReceived, want)
	}
	// Over their whole lives the engine received what the simulator sent,
	// less what was in flight at the ends.
	if r.SimulatorSent <= 0 || r.EngineReceivedTotal < 0.9*r.SimulatorSent || r.EngineReceivedTotal > r.SimulatorSent {
		t.Errorf("engine received %g access units in all, the simulator sent %g", r.EngineReceivedTotal, r.SimulatorSent)
	}
	if r.FramesAnalyzed <= 0 || r.Verdict == "" {
		t.Errorf("analyzed %g, verdict %q", r.FramesAnalyzed, r.Verdict)
	}
	if !strings.Contains(errOut.String(), "measuring") {
		t.Errorf("no progress lines on a non-terminal: %q", errOut.String())
	}
}

// TestBaselineShort runs both baselines beside the engine for a few seconds
// and writes the chart.
func TestBaselineShort(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed")
	}
	bin := vigilExecutable(t)
	chart := filepath.Join(t.TempDir(), "cpu.svg")
	var out, errOut bytes.Buffer
	// The main-stream profile: 1080p at 15 fps from a container, so the
	// frames expected follow the clips' own rate.
	dir := filepath.Dir(testkit.CamClip(t, "main-static.h264.mkv"))
	err := Main(context.Background(), []string{"compare", "--vigil", bin, "--cameras", "2", "--duration", "4s",
		"--warmup", "2s", "--json", "--chart", chart, "--profile", "main", "--clip-dir", dir}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var r CompareResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out.String())
	}
	if len(r.Steps) != 1 || r.Steps[0].Engine == nil || len(r.Steps[0].Baselines) != 2 {
		t.Fatalf("steps: %+v", r.Steps)
	}
	for _, b := range r.Steps[0].Baselines {
		// 2 cameras at 15 fps, not the 25 fps of raw clips.
		if want := 2 * 15 * b.DurationSeconds; math.Abs(b.FramesExpected-want) > 0.01*want {
			t.Errorf("%s: %g frames expected, want %g", b.Approach, b.FramesExpected, want)
		}
		// A baseline that fell behind during the warm-up catches up in the
		// window (1080p on a busy machine): more than real time, but not 25
		// fps for 15.
		if b.Process.CPUSeconds <= 0 || b.FramesRead <= 0 || b.FramesRead > 1.5*b.FramesExpected {
			t.Errorf("%s: cpu %g s, frames %g of %g expected", b.Approach, b.Process.CPUSeconds, b.FramesRead, b.FramesExpected)
		}
		if r.Steps[0].Ratio[b.Approach] <= 0 {
			t.Errorf("%s: no ratio to the engine", b.Approach)
		}
	}
	svg, err := os.ReadFile(chart)
	if err != nil || !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("ffmpeg per camera")) {
		t.Errorf("chart: %v %.200s", err, svg)
	}
}

// TestProfiles: the default clip mix is camera-realistic; a missing clip
// directory is an error that says how to make the clips, and an unknown
// profile names the known ones.
func TestProfiles(t *testing.T) {
	dir := filepath.Dir(testkit.CamClip(t, "sub-static.h264"))
	spec, err := ProfileClips(DefaultProfile, 10, dir)
	if err != nil || !strings.Contains(spec, "sub-motion.h264=10%") || !strings.HasSuffix(spec, "sub-static.h264") {
		t.Fatalf("default profile: %q, %v", spec, err)
	}
	if _, err := ProfileClips("camera", 10, t.TempDir()); err == nil || !strings.Contains(err.Error(), "scripts/camclips.sh") {
		t.Fatalf("missing clips: %v", err)
	}
	if _, err := ProfileClips("cameras", 10, dir); err == nil || !strings.Contains(err.Error(), "light") {
		t.Fatalf("unknown profile: %v", err)
	}
	if spec, err := ProfileClips("light", 25, ""); err != nil || spec != "motion=25%,static" {
		t.Fatalf("light: %q, %v", spec, err)
	}
}

// TestFFmpegReferenceOnFiles: --ffmpeg measures clip files given by path
// (the camera-realistic profiles), not only the embedded clips.
func TestFFmpegReferenceOnFiles(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed")
	}
	spec := testkit.CamClip(t, "sub-motion.h264") + "=50%," + testkit.CamClip(t, "sub-static.h264")
	cores, err := ffmpegReference(context.Background(), spec, 2)
	if err != nil || !(cores > 0) {
		t.Fatalf("ffmpeg reference on %s: %g cores per camera, %v", spec, cores, err)
	}
}

// TestLiveThroughGStreamer runs `vigil bench live --server gst`: the
// cameras served by GStreamer's RTSP server from looped copies of the
// clips, and ffmpeg's reference read through the same server, after the
// engine or beside it (--ffmpeg-beside: the same seconds).
//
// The two cameras' clips have the same name, sub-motion, in two codecs:
// each is served from its own file.
func TestLiveThroughGStreamer(t *testing.T) {
	for _, beside := range []bool{false, true} {
		t.Run(fmt.Sprintf("beside=%v", beside), func(t *testing.T) { liveThroughGStreamer(t, beside) })
	}
}

func liveThroughGStreamer(t *testing.T, beside bool) {
	bin := vigilExecutable(t)
	var out, errOut bytes.Buffer
	clips := testkit.CamClip(t, "sub-motion.h264") + "=50%," + testkit.CamClip(t, "sub-motion.h265")
	args := []string{"live", "--vigil", bin, "--server", "gst", "--cameras", "2", "--clips", clips,
		"--decode-mode", "all", "--objects", "off", "--duration", "5s", "--warmup", "1s", "--ffmpeg", "--json"}
	if beside {
		args = append(args, "--ffmpeg-beside")
	}
	err := Main(context.Background(), args, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var r LiveResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out.String())
	}
	if r.Server != ServerGst || r.CamerasUp != 2 {
		t.Errorf("server %q, %d cameras up", r.Server, r.CamerasUp)
	}
	// 2 cameras at 25 fps, every picture decoded (mode all): the clips
	// loop in their copies, so the stream does not end within the run.
	if want := 2 * 25 * r.DurationSeconds; r.FramesDecoded < 0.8*want || r.FramesDecoded > 1.2*want {
		t.Errorf("frames decoded in the window %g, want about %g", r.FramesDecoded, want)
	}
	if r.Simulator.CPUSeconds <= 0 {
		t.Errorf("the GStreamer server's CPU not measured: %+v", r.Simulator)
	}
	if r.FFmpegSource != "rtsp" || r.FFmpegFPS < 20 || r.FFmpegFPS > 30 || r.FFmpegCoresPerCamera <= 0 {
		t.Errorf("ffmpeg through the server: source %q, %g frames/s per camera, %g cores per camera (%s)",
			r.FFmpegSource, r.FFmpegFPS, r.FFmpegCoresPerCamera, r.FFmpegError)
	}
	if r.FFmpegFileCoresPerCamera <= 0 || r.CPURatioToFFmpeg <= 0 || r.CPURatioToFFmpegFile <= 0 {
		t.Errorf("ratios missing: file %g, ratio %g, to the file %g", r.FFmpegFileCoresPerCamera, r.CPURatioToFFmpeg, r.CPURatioToFFmpegFile)
	}
	// Beside: the two windows are the same seconds; after: ffmpeg's
	// starts after the engine's window and its own warm-up.
	if off := r.FFmpegWindowOffsetSeconds; beside && math.Abs(off) > 1 || !beside && off < r.DurationSeconds+ffmpegThroughWarmup.Seconds() {
		t.Errorf("ffmpeg's window %.1f s after the engine's (beside %v)", off, beside)
	}
}

// TestCompareThroughGStreamer runs `vigil bench compare --server gst`:
// the engine and both baselines read the same looped clips from
// GStreamer's RTSP server, in real time.
func TestCompareThroughGStreamer(t *testing.T) {
	bin := vigilExecutable(t)
	var out, errOut bytes.Buffer
	err := Main(context.Background(), []string{"compare", "--vigil", bin, "--server", "gst", "--cameras", "2", "--clips", "motion=50%,static",
		"--objects", "off", "--duration", "4s", "--warmup", "2s", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var r CompareResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out.String())
	}
	if len(r.Steps) != 1 || r.Steps[0].Engine == nil || len(r.Steps[0].Baselines) != 2 {
		t.Fatalf("steps: %+v", r.Steps)
	}
	if e := r.Steps[0].Engine; e.Server != ServerGst || e.CamerasUp != 2 || e.FramesReceived < 0.8*2*25*e.DurationSeconds {
		t.Errorf("engine: server %q, %d cameras up, %g frames received in %g s", e.Server, e.CamerasUp, e.FramesReceived, e.DurationSeconds)
	}
	for _, b := range r.Steps[0].Baselines {
		if b.Server != ServerGst || b.FramesRead < 0.8*b.FramesExpected || b.FramesRead > 1.5*b.FramesExpected {
			t.Errorf("%s: server %q, frames %g of %g expected", b.Approach, b.Server, b.FramesRead, b.FramesExpected)
		}
	}
}
