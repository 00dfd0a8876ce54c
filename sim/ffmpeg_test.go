package sim

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"

	"github.com/vigil-video/vigil/internal/await"
)

// TestFFmpegDecodes checks that a third-party client (the ffmpeg CLI) can
// decode every camera codec from the first frame, over both transports.
func TestFFmpegDecodes(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	s := startServer(t, Config{UDP: true, Cameras: []Camera{
		{Path: "h264", Clip: mustClip(t, "motion")},
		{Path: "h265", Clip: mustClip(t, "motion-h265")},
	}})
	tests := []struct{ path, transport string }{
		{"h264", "tcp"},
		{"h264", "udp"},
		{"h265", "tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error",
				"-rtsp_transport", tt.transport, "-i", s.URL(tt.path),
				"-frames:v", "30", "-f", "framecrc", "-")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
			}
			if stderr.Len() != 0 {
				t.Errorf("ffmpeg reported errors:\n%s", stderr.String())
			}
			frames := 0
			for _, line := range strings.Split(stdout.String(), "\n") {
				if line != "" && !strings.HasPrefix(line, "#") {
					frames++
					if !strings.Contains(line, " 345600,") { // 640x360 yuv420p
						t.Errorf("unexpected frame size: %s", line)
						break
					}
				}
			}
			if frames != 30 {
				t.Errorf("decoded %d frames, want 30", frames)
			}
		})
	}
}

// TestBFramesStampedInDisplayOrder: a camera with B-frames stamps each
// picture with its capture time, so its RTP timestamps follow display
// order, not the order the pictures are sent. A clip with B-frames (x264,
// two between references, made here) is served so: the timestamps a reader
// receives are not increasing, but sorted they step one frame at a time,
// and ffmpeg reading the stream outputs its pictures with increasing
// timestamps and no error.
func TestBFramesStampedInDisplayOrder(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	path := filepath.Join(t.TempDir(), "bframes.h264")
	if b, err := exec.Command(ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
		"-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-bf", "2", "-g", "25", "-sc_threshold", "0", "-f", "h264", path).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	clip, err := LoadClip(path, 25)
	if err != nil {
		t.Fatal(err)
	}
	if clip.Shown == nil {
		t.Fatal("a clip with B-frames has no display order")
	}
	s := startServer(t, Config{Cameras: []Camera{{Path: "cam", Clip: clip}, {Path: "cam2", Clip: clip}}})
	r := play(t, s.URL("cam"), gortsplib.TransportTCP)
	await.Until(t, 15*time.Second, "40 access units", func() bool { return r.auCount() >= 40 })
	aus, _, _, _ := r.snapshot()
	ts := make([]int64, len(aus))
	back := 0
	for i, au := range aus {
		ts[i] = int64(au.ts - aus[0].ts) // modulo 2^32: a B-frame before the first is negative
		if int32(au.ts-aus[0].ts) < 0 {
			ts[i] = int64(int32(au.ts - aus[0].ts))
		}
		if i > 0 && ts[i] < ts[i-1] {
			back++
		}
	}
	if back == 0 {
		t.Errorf("timestamps in the order sent: %v", ts)
	}
	sorted := slices.Clone(ts)
	slices.Sort(sorted)
	for i := 1; i < 30; i++ { // the last ones' B-frames may not have come yet
		if d := sorted[i] - sorted[i-1]; d != 3600 {
			t.Fatalf("sorted timestamps step by %d at %d, want 3600 (one frame): %v", d, i, sorted)
		}
	}

	// ffmpeg, reading the stream, decodes the file's pictures in the
	// file's order.
	hashes := func(args ...string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, ffmpeg, append([]string{"-nostdin", "-v", "error"}, append(args, "-frames:v", "40", "-fps_mode", "passthrough", "-f", "framemd5", "-")...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, stderr.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("ffmpeg %v reported errors:\n%s", args, stderr.String())
		}
		var h []string
		for _, line := range strings.Split(stdout.String(), "\n") {
			if f := strings.Split(line, ","); line != "" && !strings.HasPrefix(line, "#") && len(f) == 6 {
				h = append(h, strings.TrimSpace(f[5]))
			}
		}
		return h
	}
	want := hashes("-i", path)
	got := hashes("-rtsp_transport", "tcp", "-i", s.URL("cam2"))
	if len(want) != 40 || !slices.Equal(got, want) {
		t.Errorf("ffmpeg through RTSP decoded %d pictures, not the file's 40 in order:\n%v\n%v", len(got), got, want)
	}
}
