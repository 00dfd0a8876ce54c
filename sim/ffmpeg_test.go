package sim

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
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
