package engine

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
)

// ffmpegClip encodes a short clip of lavfi source src with libx264 and
// the given options, and loads it for the simulator.
func ffmpegClip(t *testing.T, name, src string, args ...string) *sim.Clip {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not installed")
	}
	out := filepath.Join(t.TempDir(), name+".h264")
	cmd := append([]string{"-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "ultrafast", "-bf", "0"}, args...)
	cmd = append(cmd, "-f", "h264", out)
	if b, err := exec.Command("ffmpeg", cmd...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	clip, err := sim.LoadClip(out, 10)
	if err != nil {
		t.Fatal(err)
	}
	return clip
}

// TestHostileStreamsRefusedBeforeDecoding serves, over real RTSP, an 8K
// stream, a 4:4:4 10-bit one and one with 16 reference frames beside an
// ordinary camera: each hostile camera is failed with reason over_limit
// and an error naming the limit's key, raises camera_offline, never
// reaches a decoder, and reserves no memory, while the ordinary camera
// decodes.
func TestHostileStreamsRefusedBeforeDecoding(t *testing.T) {
	srv := startSim(t,
		sim.Camera{Path: "8k", Clip: ffmpegClip(t, "8k", "color=c=gray:s=7680x4320:r=10", "-t", "0.5", "-g", "5", "-pix_fmt", "yuv420p")},
		sim.Camera{Path: "444", Clip: ffmpegClip(t, "444", "testsrc2=s=320x240:r=10", "-t", "1", "-g", "10", "-pix_fmt", "yuv444p10le")},
		sim.Camera{Path: "refs", Clip: ffmpegClip(t, "refs", "testsrc2=s=320x240:r=10", "-t", "1", "-g", "10", "-pix_fmt", "yuv420p", "-refs", "16")},
		sim.Camera{Path: "good", Clip: clip(t, "static")},
	)
	var cams []config.Camera
	for _, id := range []string{"8k", "444", "refs", "good"} {
		cams = append(cams, fastCamera(id, srv.URL(id)))
	}
	e, _, _ := startEngineConfig(t, withConfig(testConfig(cams...), func(c *config.Config) { c.StreamMemoryMB = 1024 }))

	decoded := func(id string) float64 { return testutil.ToFloat64(e.metrics.FramesDecoded.WithLabelValues(id)) }
	await.Until(t, 20*time.Second, "the ordinary camera decoding", func() bool { return decoded("good") > 10 })
	for id, key := range map[string]string{"8k": "limits.max_width 4096", "444": "limits.max_chroma 4:2:0", "refs": "limits.max_ref_frames 8"} {
		await.Until(t, 20*time.Second, id+" failed with reason over_limit", func() bool {
			s := e.statusOf(t, id)
			return s.State == "failed" && s.Reason == "over_limit"
		})
		if s := e.statusOf(t, id); !strings.Contains(s.LastError, key) {
			t.Errorf("%s: error %q does not name %q", id, s.LastError, key)
		}
		await.Until(t, 20*time.Second, id+" raising camera_offline", func() bool {
			return testutil.ToFloat64(e.metrics.Incidents.WithLabelValues(id, health.KindCameraOffline)) > 0
		})
		if n := decoded(id); n != 0 {
			t.Errorf("%s: %v pictures decoded from a refused stream", id, n)
		}
		if n := e.camera(id).sess.Stats().MemoryBytes; n != 0 {
			t.Errorf("%s: %d bytes reserved for a refused stream", id, n)
		}
	}
	good := e.camera("good").sess.Stats().MemoryBytes
	if good <= 0 || good > 16<<20 {
		t.Errorf("ordinary camera reserves %d bytes, want a few MiB", good)
	}
	if used := e.streamMemory.Used(); used != good {
		t.Errorf("engine reserves %d bytes, want the ordinary camera's %d alone", used, good)
	}
	// The gauge shows it.
	if n, err := testutil.GatherAndCount(e.metrics.Reg, "vigil_camera_memory_bytes"); err != nil || n != 4 {
		t.Errorf("vigil_camera_memory_bytes: %d series, %v; want one per camera", n, err)
	}
}

// TestStreamMemoryBudget: cameras whose streams together would exceed
// stream_memory_mb are refused (reason over_limit, naming the key) once
// the budget is reserved by the others, the reservations never exceed
// it, and a camera removed gives its memory back to a refused one.
func TestStreamMemoryBudget(t *testing.T) {
	// 1280x720 4:2:0 8-bit with 3 references: about 6.6 MiB each, so two
	// fit in 16 MiB and the third does not.
	c720 := ffmpegClip(t, "720p", "testsrc2=s=1280x720:r=10", "-t", "1", "-g", "10", "-pix_fmt", "yuv420p", "-refs", "3")
	srv := startSim(t, sim.Camera{Path: "a", Clip: c720}, sim.Camera{Path: "b", Clip: c720}, sim.Camera{Path: "c", Clip: c720})
	cfg := testConfig()
	cfg.StreamMemoryMB = 16
	for _, id := range []string{"a", "b", "c"} {
		cfg.Cameras = append(cfg.Cameras, fastCamera(id, srv.URL(id)))
	}
	e, _, _ := startEngineConfig(t, cfg)
	state := func() (streaming, refused []string) {
		for _, id := range []string{"a", "b", "c"} {
			e.mu.Lock()
			c, ok := e.cameras[id]
			e.mu.Unlock()
			if !ok {
				continue
			}
			s := c.status()
			switch {
			case s.State == "streaming":
				streaming = append(streaming, id)
			case s.State == "failed" && s.Reason == "over_limit":
				refused = append(refused, id)
			}
		}
		return streaming, refused
	}
	await.Until(t, 20*time.Second, "two cameras streaming and one refused", func() bool {
		s, r := state()
		return len(s) == 2 && len(r) == 1
	})
	_, refused := state()
	if s := e.statusOf(t, refused[0]); !strings.Contains(s.LastError, "stream_memory_mb 16") {
		t.Errorf("refused camera's error %q does not name stream_memory_mb", s.LastError)
	}
	if used := e.streamMemory.Used(); used > 16<<20 {
		t.Errorf("%d bytes reserved over a budget of 16 MiB", used)
	}

	// Remove a streaming camera: the refused one gets its memory.
	var keep []config.Camera
	gone := ""
	for _, c := range cfg.Cameras {
		if c.ID != refused[0] && gone == "" {
			gone = c.ID
			continue
		}
		keep = append(keep, c)
	}
	cfg.Cameras = keep
	if _, err := e.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 20*time.Second, "the refused camera streaming once "+gone+" is removed", func() bool {
		return e.statusOf(t, refused[0]).State == "streaming"
	})
	if used := e.streamMemory.Used(); used > 16<<20 {
		t.Errorf("%d bytes reserved over a budget of 16 MiB", used)
	}
}
