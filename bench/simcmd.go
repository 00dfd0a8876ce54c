package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/vigil-video/vigil/service"
	"github.com/vigil-video/vigil/sim"
)

// SimOptions are the settings of `vigil sim`.
type SimOptions struct {
	Addr    string
	Cameras int
	// Clips is a comma-separated list of embedded clip names or files;
	// NAME=PCT% gives a clip a share of the cameras, the others share the rest.
	Clips      string
	FPS        float64
	UDP        bool
	User, Pass string
	// Stagger starts the cameras of each clip at its keyframes in turn
	// (staggerStarts), not all at its first.
	Stagger   bool
	Out, Logs io.Writer
}

// RunSim serves the cameras until ctx is done. It prints one RTSP URL per
// camera on Out, then "ready"; when it stops, a last line
// `summary {"cameras":N,"sent_access_units":M}` with the access units sent
// (to each camera's readers) over its life.
func RunSim(ctx context.Context, o SimOptions) error {
	log, err := service.NewLogger(o.Logs, "info", "text")
	if err != nil {
		return err
	}
	assign, err := assignClips(o.Clips, o.Cameras, o.FPS)
	if err != nil {
		return err
	}
	cams := make([]sim.Camera, len(assign))
	var starts []int
	if o.Stagger {
		starts = staggerStarts(assign)
	}
	for i, c := range assign {
		cams[i] = sim.Camera{Path: fmt.Sprintf("cam%03d", i+1), Clip: c}
		if starts != nil {
			cams[i].Start = starts[i]
		}
	}
	srv, err := sim.Start(sim.Config{Address: o.Addr, UDP: o.UDP, User: o.User, Pass: o.Pass, Cameras: cams, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, c := range cams {
		fmt.Fprintf(o.Out, "%s %s\n", srv.URL(c.Path), c.Clip.Name)
	}
	fmt.Fprintln(o.Out, "ready")
	<-ctx.Done()
	var sent uint64
	for _, c := range cams {
		sent += srv.SentAccessUnits(c.Path)
	}
	fmt.Fprintf(o.Out, "summary {\"cameras\":%d,\"sent_access_units\":%d}\n", len(cams), sent)
	return nil
}

// staggerStarts gives the cameras on each clip its keyframes in turn: the
// j-th camera of a clip starts at its (j mod keyframes)-th keyframe, so
// that cameras playing one clip of people walking see them at different
// times, as a city's cameras do, not all at once.
func staggerStarts(clips []*sim.Clip) []int {
	keys := map[*sim.Clip][]int{}
	seen := map[*sim.Clip]int{}
	starts := make([]int, len(clips))
	for i, c := range clips {
		k, ok := keys[c]
		if !ok {
			for j := range c.AUs {
				if c.IsKeyframe(j) {
					k = append(k, j)
				}
			}
			keys[c] = k
		}
		if len(k) > 0 {
			starts[i] = k[seen[c]%len(k)]
		}
		seen[c]++
	}
	return starts
}

// assignClips gives each of n cameras a clip by the spec's shares.
func assignClips(spec string, n int, fps float64) ([]*sim.Clip, error) {
	clips, _, err := assignClipFiles(spec, n, fps)
	return clips, err
}

// assignClipFiles is assignClips, with each camera's clip as the spec
// names it (a file, or an embedded clip's name): two files may have the
// same clip name (sub-motion.h264 and sub-motion.h265).
func assignClipFiles(spec string, n int, fps float64) ([]*sim.Clip, []string, error) {
	if n < 1 {
		return nil, nil, fmt.Errorf("cameras: %d must be at least 1", n)
	}
	type share struct {
		clip *sim.Clip
		file string
		pct  float64 // <0: an equal part of the rest
	}
	var shares []share
	fixed := 0.0
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, pctStr, hasPct := strings.Cut(part, "=")
		c, err := loadClip(name, fps)
		if err != nil {
			return nil, nil, err
		}
		s := share{clip: c, file: name, pct: -1}
		if hasPct {
			p, err := strconv.ParseFloat(strings.TrimSuffix(pctStr, "%"), 64)
			if err != nil || p < 0 || p > 100 {
				return nil, nil, fmt.Errorf("clips: share %q of %s is not a percentage", pctStr, name)
			}
			s.pct = p
			fixed += p
		}
		shares = append(shares, s)
	}
	if len(shares) == 0 {
		return nil, nil, fmt.Errorf("clips: none given")
	}
	if fixed > 100 {
		return nil, nil, fmt.Errorf("clips: shares add up to %g%%", fixed)
	}
	free := 0
	for _, s := range shares {
		if s.pct < 0 {
			free++
		}
	}
	out := make([]*sim.Clip, 0, n)
	files := make([]string, 0, n)
	for i, s := range shares {
		k := 0
		switch {
		case s.pct >= 0:
			k = int(math.Round(float64(n) * s.pct / 100))
		case free > 0:
			k = int(math.Round(float64(n) * (100 - fixed) / 100 / float64(free)))
		}
		if i == len(shares)-1 {
			k = n - len(out) // the last takes the remainder
		}
		for j := 0; j < k && len(out) < n; j++ {
			out = append(out, s.clip)
			files = append(files, s.file)
		}
	}
	return out, files, nil
}

// clipsFPS is the mean frame rate of the clips spec assigns to n cameras
// (as vigil sim loads them: a container's own rate, 25 for raw streams).
func clipsFPS(spec string, n int) float64 {
	assign, err := assignClips(spec, n, 0)
	if err != nil || len(assign) == 0 {
		return sim.DefaultFPS
	}
	sum := 0.0
	for _, c := range assign {
		sum += c.FPS
	}
	return sum / float64(len(assign))
}

func loadClip(name string, fps float64) (*sim.Clip, error) {
	for _, e := range sim.EmbeddedClipNames() {
		if e == name {
			return sim.EmbeddedClip(name)
		}
	}
	return sim.LoadClip(name, fps)
}
