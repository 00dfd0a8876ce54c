package bench

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/sim"
)

// TestContainerInputs: the same clip as a raw stream and remuxed by ffmpeg
// into MP4, MKV, MPEG-TS and AVI gives the same frames in bench offline
// (recordings as users have them: camera and NVR exports are containers).
func TestContainerInputs(t *testing.T) {
	dir := t.TempDir()
	for _, raw := range []string{"motion.h264", "motion.h265"} {
		src := filepath.Join("..", "sim", "clips", raw)
		want, err := Offline(context.Background(), OfflineOptions{Clip: src, NoFFmpeg: true})
		if err != nil {
			t.Fatal(err)
		}
		if want.Frames < 100 {
			t.Fatalf("%s: %d frames", raw, want.Frames)
		}
		for _, ext := range []string{".mp4", ".mkv", ".ts", ".avi"} {
			if ext == ".avi" && raw == "motion.h265" {
				continue // AVI has no standard tag for H.265: ffmpeg cannot read back what it writes
			}
			t.Run(raw+ext, func(t *testing.T) {
				out := filepath.Join(dir, raw+ext)
				cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-framerate", "25", "-i", src, "-c", "copy", out)
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("ffmpeg cannot write %s: %v\n%s", ext, err, b)
				}
				got, err := Offline(context.Background(), OfflineOptions{Clip: out, NoFFmpeg: true})
				if err != nil {
					t.Fatal(err)
				}
				if got.Frames != want.Frames || got.Codec != want.Codec || got.Width != want.Width || got.Height != want.Height {
					t.Errorf("%s: %d frames %s %dx%d; raw stream: %d frames %s %dx%d",
						ext, got.Frames, got.Codec, got.Width, got.Height, want.Frames, want.Codec, want.Width, want.Height)
				}
				c, err := sim.LoadClip(out, 0)
				if err != nil {
					t.Fatal(err)
				}
				if c.FPS != 25 {
					t.Errorf("%s: fps %v from the container, want 25", ext, c.FPS)
				}
			})
		}
	}
}

// TestContainerErrors: a container of another codec, or a file that is
// not one, is refused with an error naming the file and the codec.
func TestContainerErrors(t *testing.T) {
	dir := t.TempDir()
	mjpeg := filepath.Join(dir, "cam.avi")
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5:duration=1", "-c:v", "mjpeg", mjpeg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	_, err := sim.LoadClip(mjpeg, 0)
	if !errors.Is(err, decode.ErrNotVideo) || !errors.Is(err, sim.ErrInvalidClip) {
		t.Fatalf("mjpeg avi: error %v, want ErrNotVideo and ErrInvalidClip", err)
	}
	for _, s := range []string{mjpeg, "mjpeg"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	if _, err := sim.LoadClip(filepath.Join(dir, "missing.mp4"), 0); err == nil || !strings.Contains(err.Error(), "missing.mp4") {
		t.Errorf("missing file: error %v", err)
	}
}
