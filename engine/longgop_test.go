package engine

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/internal/await"
)

// stillView is the filter graph of a still view of real footage (the first
// picture of vtest.avi) with sensor noise, 640x360 at 25 fps.
const stillView = "[0:v]trim=start_frame=0:end_frame=1,loop=loop=-1:size=1,setpts=N/10/TB," +
	"fps=25,scale=640:360,noise=alls=6:allf=t,format=yuv420p"

// ffmpegRun runs the ffmpeg CLI in dir.
func ffmpegRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-loglevel", "error", "-y"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v (scripts/setup.sh installs it)\n%s", args, err, out)
	}
}

// longGOPClips encodes, in dir, 40 s of a still view in long-GOP encodings
// a camera may send, deterministically (one encoder thread), and returns
// the GStreamer mounts (path=file) by camera:
//   - x264-crf-gop10: x264 CRF, a keyframe every 10 s, no B-frame;
//   - x264-cbr-gop12-mid: x264 CBR with HRD, a keyframe every 12 s, cut
//     5 s into its first GOP: the stream starts with P-frames and its
//     first keyframe comes 7 s after them (a client joining a camera's
//     stream mid-GOP);
//   - x265-gop10: x265, a keyframe every 10 s.
//
// No encoding has B-frames: this test is about the GOP's length. Keyframes
// of streams with B-frames, decoded alone, are drained
// (pipeline.ProcessKeyframe) and are covered by the encoding matrix's bf,
// og and x265f clips (bench.TestGateOnMatrix,
// TestAutoModeMatchesAllOnMatrix) and TestRestreamerOpenGOPJoin.
//   - x264-damaged: a 5 s GOP whose keyframes from 12 s on are damaged
//     (bytes changed by ffmpeg's noise filter): analysis really stalls.
func longGOPClips(t *testing.T, dir string) map[string]string {
	t.Helper()
	src := "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
	x264 := func(out string, gop int, secs string, extra ...string) {
		args := []string{"-i", src, "-filter_complex", stillView, "-t", secs, "-c:v", "libx264", "-threads", "1", "-preset", "veryfast",
			"-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop), "-sc_threshold", "0"}
		ffmpegRun(t, dir, append(append(args, extra...), out)...)
	}
	var wg sync.WaitGroup
	for _, f := range []func(){
		func() { x264("x264-crf-gop10.h264.mkv", 250, "40", "-crf", "26", "-bf", "0") },
		func() {
			x264("cbr-full.h264.mkv", 300, "45", "-b:v", "500k", "-minrate", "500k", "-maxrate", "500k", "-bufsize", "1000k",
				"-x264-params", "nal-hrd=cbr", "-bf", "0")
			ffmpegRun(t, dir, "-i", "cbr-full.h264.mkv", "-ss", "5", "-c", "copy", "-copyinkf", "-avoid_negative_ts", "make_zero",
				"x264-cbr-gop12-mid.h264.mkv")
		},
		func() {
			ffmpegRun(t, dir, "-i", src, "-filter_complex", stillView, "-t", "40", "-c:v", "libx265", "-preset", "ultrafast",
				"-x265-params", "keyint=250:min-keyint=250:scenecut=0:bframes=0:pools=none:frame-threads=1:log-level=error", "x265-gop10.h265.mkv")
		},
		func() {
			x264("gop5.h264.mkv", 125, "40", "-crf", "26", "-bf", "0")
			ffmpegRun(t, dir, "-i", "gop5.h264.mkv", "-c", "copy", "-bsf:v", `noise=amount=if(key*gte(n\,300)\,200\,0)`,
				"x264-damaged.h264.mkv")
		},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
	mounts := map[string]string{}
	for _, name := range []string{"x264-crf-gop10.h264", "x264-cbr-gop12-mid.h264", "x265-gop10.h265", "x264-damaged.h264"} {
		id := name[:len(name)-5]
		mounts[id] = id + "=" + filepath.Join(dir, name+".mkv")
	}
	return mounts
}

// TestNoFalseStallLongGOP (issue 22): cameras streaming a still view
// normally in mode auto, through GStreamer's RTSP server, with keyframes
// 10 and 12 s apart, CRF and CBR, x264 and x265, and a stream joined
// mid-GOP (its first keyframe 7 s after its first frame), raise no
// analysis_stalled in 36 s:
// idle, they decode keyframes only, and no picture between keyframes is
// normal. A camera beside them whose keyframes are damaged from clip 12 s
// on (its first damaged one at 15 s) is reported, within the owed bound
// of that keyframe, with a decoding cause, once (no cause flapping).
func TestNoFalseStallLongGOP(t *testing.T) {
	if testing.Short() {
		t.Skip("long-GOP streams take about a minute")
	}
	mounts := longGOPClips(t, t.TempDir())
	var list []string
	for _, m := range mounts {
		list = append(list, m)
	}
	gst := gstServer(t, list...)
	var cams []config.Camera
	ids := []string{"x264-crf-gop10", "x264-cbr-gop12-mid", "x265-gop10", "x264-damaged"}
	for _, id := range ids {
		c := cameraConfig(id, gst+"/"+id)
		c.DecodeMode = config.ModeAuto
		c.Transport = "tcp"
		// The default 5 s stall timeout: the mid-GOP join waits 7 s for
		// its first keyframe, with packets flowing, and is not cut.
		cams = append(cams, c)
	}
	e, events, _ := startEngine(t, cams...)
	cam := func(id string) *camera {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.cameras[id]
	}
	for _, id := range ids {
		await.Until(t, 20*time.Second, id+" video", func() bool { return cam(id).flowSince.Load() != 0 })
	}
	// The clip starts with the first access unit ingest hands on (the mid-GOP
	// one's first keyframe: ingest drops what comes before).
	clipStart := func(id string) time.Time { return time.Unix(0, cam(id).flowSince.Load()) }
	for _, id := range ids {
		await.Until(t, 60*time.Second, id+" at clip 36 s", func() bool { return time.Since(clipStart(id)) > 36*time.Second })
	}
	for _, id := range ids[:3] {
		st := e.statusOf(t, id)
		if st.State != "streaming" {
			t.Errorf("%s: state %q (%s)", id, st.State, st.LastError)
		}
		if n := testutil.ToFloat64(e.metrics.Reconnects.WithLabelValues(id, ingest.ReasonStalled)); n != 0 {
			t.Errorf("%s: %v reconnections for a stall, want none", id, n)
		}
		if n := cam(id).n.analyzed.Load(); n < 3 {
			t.Errorf("%s: %d pictures analyzed in 36 s, want one per keyframe at least", id, n)
		}
		for _, ev := range events.of(id) {
			if ev.Data.Kind == health.KindAnalysisStalled {
				t.Errorf("%s: analysis_stalled %s (cause %q) at clip %.1fs", id, ev.Type, ev.Data.Cause, ev.Time.Sub(clipStart(id)).Seconds())
			}
		}
		t.Logf("%s: %d analyzed, %d decoded, %d wake-ups", id, cam(id).n.analyzed.Load(), cam(id).n.decoded.Load(), cam(id).gate.Wakeups())
	}
	id := "x264-damaged"
	ev, ok := events.firstEvent(id, health.KindAnalysisStalled, incident.TypeStart)
	if !ok {
		t.Fatalf("%s: no analysis_stalled with its keyframes damaged from clip 15 s (%d decode errors)", id, cam(id).n.decodeErrors.Load())
	}
	at := ev.Time.Sub(clipStart(id))
	t.Logf("%s: analysis_stalled (cause %s) at clip %.1fs", id, ev.Data.Cause, at.Seconds())
	if at < 15*time.Second || at > 30*time.Second {
		t.Errorf("%s: analysis_stalled at clip %.1fs, want after the first damaged keyframe (15 s) and by the owed bound of the next (30 s)", id, at.Seconds())
	}
	if c := ev.Data.Cause; c != health.CauseDecodeErrors && c != health.CauseNoPictures {
		t.Errorf("%s: cause %q, want %s or %s", id, c, health.CauseDecodeErrors, health.CauseNoPictures)
	}
	if n := events.count(id, health.KindAnalysisStalled); n > 2 {
		t.Errorf("%s: %d analysis_stalled events, want a start (and an update at most)", id, n)
	}
}

// TestNoKeyframeSaysSo: a camera whose video never carries a keyframe
// (x264's periodic intra refresh, joined after its one IDR: GStreamer's
// RTSP server plays the clip cut there, in a loop) cannot decode a
// picture. Its status and camera_offline incident say why, no_keyframe,
// not "unreachable" (the cause before, though the stream flowed), and
// vigil_camera_up is 0 while it streams so; at the
// connect timeout it reconnects with that reason, counted, and its last
// error says what to change.
func TestNoKeyframeSaysSo(t *testing.T) {
	if testing.Short() {
		t.Skip("a real RTSP server, about 10 s")
	}
	dir := t.TempDir()
	ffmpegRun(t, dir, "-i", "/usr/share/doc/opencv-doc/examples/data/vtest.avi", "-filter_complex", stillView, "-t", "12",
		"-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-bf", "0", "-g", "50", "-x264-params", "intra-refresh=1", "full.h264.mkv")
	ffmpegRun(t, dir, "-i", "full.h264.mkv", "-ss", "3", "-c", "copy", "-copyinkf", "-avoid_negative_ts", "make_zero", "refresh.h264.mkv")
	url := gstServer(t, "refresh="+filepath.Join(dir, "refresh.h264.mkv"))
	c := cameraConfig("refresh", url+"/refresh")
	c.StallTimeout, c.ConnectTimeout, c.OfflineGrace = time.Second, 5*time.Second, 3*time.Second
	e, events, _ := startEngine(t, c)
	await.Until(t, 15*time.Second, "camera_offline", func() bool {
		_, ok := events.firstEvent(c.ID, "camera_offline", incident.TypeStart)
		return ok
	})
	// Streaming packets without a keyframe is not up.
	await.Until(t, 15*time.Second, "vigil_camera_up 0 while streaming", func() bool {
		body := httpGet(t, "http://"+e.Addr()+"/metrics")
		return strings.Contains(body, `vigil_camera_state{camera="refresh",state="streaming"} 1`) && strings.Contains(body, `vigil_camera_up{camera="refresh"} 0`)
	})
	if ev, _ := events.firstEvent(c.ID, "camera_offline", incident.TypeStart); ev.Data.Cause != ingest.ReasonNoKeyframe {
		t.Errorf("camera_offline cause %q, want %q", ev.Data.Cause, ingest.ReasonNoKeyframe)
	}
	await.Until(t, 15*time.Second, "a reconnect for no_keyframe", func() bool {
		return testutil.ToFloat64(e.metrics.Reconnects.WithLabelValues(c.ID, ingest.ReasonNoKeyframe)) >= 1
	})
	if st := e.statusOf(t, c.ID); !strings.Contains(st.LastError, "no keyframe") || !strings.Contains(st.LastError, "intra refresh") {
		t.Errorf("last error %q does not say that no keyframe came, nor what to change", st.LastError)
	}
	if n := e.camera(c.ID).n.analyzed.Load(); n != 0 {
		t.Errorf("%d pictures analyzed from a stream without a keyframe", n)
	}
}
