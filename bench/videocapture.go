package bench

import (
	"context"
	"fmt"

	"gocv.io/x/gocv"
)

// readStream reads url with OpenCV's VideoCapture (its FFmpeg backend)
// until ctx is done or the stream ends, calling onFrame for every decoded
// frame: the "one VideoCapture per camera" baseline of the benchmark. Set
// OPENCV_FFMPEG_CAPTURE_OPTIONS (e.g. "rtsp_transport;tcp") in the
// environment to choose the transport.
func readStream(ctx context.Context, url string, onFrame func()) error {
	vc, err := gocv.OpenVideoCapture(url)
	if err != nil {
		return fmt.Errorf("open video capture: %w", err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	defer img.Close()
	for ctx.Err() == nil {
		if !vc.Read(&img) {
			return fmt.Errorf("video capture: stream ended")
		}
		if img.Empty() {
			continue
		}
		onFrame()
	}
	return nil
}
