package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Main runs `vigil bench MODE [flags]`.
func Main(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 {
		return errors.New("bench: want a mode: offline")
	}
	switch args[0] {
	case "offline":
		fs := flag.NewFlagSet("bench offline", flag.ContinueOnError)
		fs.SetOutput(errOut)
		var o OfflineOptions
		asJSON := fs.Bool("json", false, "print JSON instead of a table")
		fs.StringVar(&o.Clip, "clip", "", "H.264/H.265 elementary stream (.h264, .h265) (required)")
		fs.Float64Var(&o.FPS, "fps", 25, "frame rate of the clip")
		fs.IntVar(&o.Loops, "loops", 3, "passes over the clip")
		fs.IntVar(&o.Width, "analysis-width", 320, "analysis frame width")
		fs.Float64Var(&o.AnalysisFPS, "analysis-fps", 5, "analysis rate; 0 analyzes every frame")
		fs.StringVar(&o.Algorithm, "algorithm", "", "motion algorithm: diff or mog2 (default: the engine's)")
		fs.BoolVar(&o.NoFFmpeg, "no-ffmpeg", false, "skip the ffmpeg baseline")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if o.Clip == "" {
			return errors.New("bench offline: --clip is required")
		}
		r, err := Offline(ctx, o)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(out, r)
		}
		PrintOffline(out, r)
		return nil
	}
	return fmt.Errorf("bench: unknown mode %q (want offline)", args[0])
}
