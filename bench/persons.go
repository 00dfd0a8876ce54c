package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
)

// PersonTruth is hand-labelled person ground truth: bench/persons/persons.yaml
// (vtest.avi, a still and a lighting scene) and bench/persons/footage.yaml
// (testdata/footage) are examples. The format, YAML, unknown keys an
// error:
//
//	clips:
//	  - name: office            # the source's name in the report
//	    path: ../../testdata/footage/office.mkv   # any file FFmpeg reads
//	    frames:
//	      - {frame: 5, persons: [[236, 112, 286, 266]], ignore: [[0, 0, 20, 40]]}
//	      - {frame: 40}         # no one on it: every detection is a false alarm
//
// frame counts decoded pictures from 0; boxes are [x1, y1, x2, y2] in
// pixels of the clip's pictures. Every clip is scored alike: its own
// precision and recall, and the sums over all clips.
type PersonTruth struct {
	Clips []PersonClip `yaml:"clips"`
}

// PersonClip is one video and its labelled frames.
type PersonClip struct {
	// Name names the clip in the report; unique in the file.
	Name string `yaml:"name"`
	// Path is the video, absolute or relative to the truth file;
	// $VIGIL_CAMCLIPS is expanded. A clip whose file is absent is skipped.
	Path   string        `yaml:"path"`
	Frames []PersonFrame `yaml:"frames"`
}

// PersonFrame is one labelled frame: its index from 0, the people on it
// and the boxes neither counted as hits nor as false alarms, [x1, y1, x2,
// y2] in pixels.
type PersonFrame struct {
	Frame   int      `yaml:"frame"`
	Persons [][4]int `yaml:"persons"`
	Ignore  [][4]int `yaml:"ignore"`
}

// LoadPersonTruth reads a ground truth file; errors name the clip and frame.
func LoadPersonTruth(path string) (*PersonTruth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t PersonTruth
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	names := map[string]bool{}
	for i := range t.Clips {
		c := &t.Clips[i]
		if c.Name == "" || names[c.Name] {
			return nil, fmt.Errorf("%s: clips[%d].name: %q is empty or not unique", path, i, c.Name)
		}
		names[c.Name] = true
		c.Path = os.Expand(c.Path, func(k string) string {
			if k == "VIGIL_CAMCLIPS" && os.Getenv(k) == "" {
				d, _ := filepath.Abs(filepath.Join(filepath.Dir(path), "../../.cache/camclips"))
				return d
			}
			return os.Getenv(k)
		})
		if !filepath.IsAbs(c.Path) {
			c.Path = filepath.Join(filepath.Dir(path), c.Path)
		}
		for j, f := range c.Frames {
			for k, b := range append(slices.Clone(f.Persons), f.Ignore...) {
				if b[2] <= b[0] || b[3] <= b[1] {
					return nil, fmt.Errorf("%s: clips[%d] (%s).frames[%d] (frame %d): box %d %v is empty", path, i, c.Name, j, f.Frame, k, b)
				}
			}
		}
	}
	return &t, nil
}

// personMinHeight is the smallest detection scored: a person of the
// ground truth is at least 48 pixels tall, and a detection much smaller
// than that is neither a hit nor a false alarm.
const personMinHeight = 40

// personIoU is the overlap a detection needs with a labelled person.
const personIoU = 0.5

// PersonScore is one detector at one threshold over the ground truth:
// over every labelled frame of every clip, and per clip.
type PersonScore struct {
	Detector  string  `json:"detector"`
	Threshold float64 `json:"threshold"`
	PersonCounts
	// Clips are the same counts per clip (by name).
	Clips map[string]*PersonCounts `json:"clips"`
}

// PersonCounts are hits (TP), false alarms (FP) and misses (FN) over some
// labelled frames, and the measures made of them.
type PersonCounts struct {
	TP         int     `json:"hits"`
	FP         int     `json:"false_alarms"`
	FN         int     `json:"misses"`
	Frames     int     `json:"frames"`
	Precision  float64 `json:"precision"`
	Recall     float64 `json:"recall"`
	FPPerFrame float64 `json:"false_alarms_per_frame"`
}

// add counts one frame.
func (c *PersonCounts) add(tp, fp, fn int) {
	c.TP, c.FP, c.FN, c.Frames = c.TP+tp, c.FP+fp, c.FN+fn, c.Frames+1
}

// measure computes precision, recall and false alarms per frame: a
// precision of 1 with nothing found, a recall of 1 with no one to find.
func (c *PersonCounts) measure() {
	c.Precision, c.Recall, c.FPPerFrame = 1, 1, 0
	if c.TP+c.FP > 0 {
		c.Precision = float64(c.TP) / float64(c.TP+c.FP)
	}
	if c.TP+c.FN > 0 {
		c.Recall = float64(c.TP) / float64(c.TP+c.FN)
	}
	if c.Frames > 0 {
		c.FPPerFrame = float64(c.FP) / float64(c.Frames)
	}
}

// PersonsResult is the evaluation of every detector and threshold.
type PersonsResult struct {
	Truth  string        `json:"truth"`
	Scores []PersonScore `json:"scores"`
	// Matched pairs each HOG threshold with the network threshold of the
	// closest false alarms per frame not above it.
	Matched []PersonMatch `json:"matched"`
	// MillisPerFrame is each detector's time per whole frame.
	MillisPerFrame map[string]float64 `json:"ms_per_frame"`
	// ClipNames are the clips scored, in the file's order.
	ClipNames []string `json:"clip_names"`
	Skipped   []string `json:"skipped_clips,omitempty"`
}

// PersonMatch is HOG and the network at (about) the same false-alarm rate.
type PersonMatch struct {
	FPPerFrame  float64 `json:"false_alarms_per_frame"`
	HOG         float64 `json:"hog_hit_threshold"`
	HOGRecall   float64 `json:"hog_recall"`
	NetMinScore float64 `json:"net_min_score"`
	NetFP       float64 `json:"net_false_alarms_per_frame"`
	NetRecall   float64 `json:"net_recall"`
}

// PersonsOptions configures Persons.
type PersonsOptions struct {
	Truth string // ground truth file
	Model string // the network's model; "" or absent: HOG only
	// HOGThresholds and NetThresholds are swept.
	HOGThresholds, NetThresholds []float64
	// Every > 1 takes every Every-th labelled frame of each clip (HOG is
	// slow).
	Every    int
	Progress io.Writer // nil: quiet
}

// Persons scores person detection on the ground truth: HOG (no setup)
// and the network, each over a sweep of its threshold, on whole frames.
func Persons(ctx context.Context, o PersonsOptions) (*PersonsResult, error) {
	truth, err := LoadPersonTruth(o.Truth)
	if err != nil {
		return nil, err
	}
	res := &PersonsResult{Truth: o.Truth, MillisPerFrame: map[string]float64{}}
	type frameDets struct {
		clip  string
		frame PersonFrame
		hog   map[float64][]analyze.Detection
		net   []analyze.Detection
	}
	var frames []*frameDets
	var net *analyze.Network
	if o.Model != "" {
		if net, err = analyze.OpenNetwork(o.Model, 1, 0.05); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			fmt.Fprintf(progressOr(o.Progress), "network absent, HOG only: %v\n", err)
		} else {
			defer net.Close()
		}
	}
	hogs := map[float64]*analyze.HOGObjects{}
	for _, th := range o.HOGThresholds {
		hogs[th] = analyze.NewHOGObjects(th, 48)
		defer hogs[th].Close()
	}
	var hogTime, netTime time.Duration
	var hogRuns, netRuns int
	for _, c := range truth.Clips {
		if _, err := os.Stat(c.Path); err != nil {
			res.Skipped = append(res.Skipped, c.Name+": "+err.Error())
			continue
		}
		res.ClipNames = append(res.ClipNames, c.Name)
		byIndex := map[int]PersonFrame{}
		var want []int
		for i, f := range c.Frames {
			if o.Every > 1 && i%o.Every != 0 {
				continue
			}
			byIndex[f.Frame] = f
			want = append(want, f.Frame)
		}
		err := analyze.ReadFrames(c.Path, want, func(i int, s *analyze.Snapshot) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			fd := &frameDets{clip: c.Name, frame: byIndex[i], hog: map[float64][]analyze.Detection{}}
			for _, th := range o.HOGThresholds {
				t0 := time.Now()
				d, err := analyze.DetectSnapshot(hogs[th], s)
				hogTime += time.Since(t0)
				hogRuns++
				if err != nil {
					return err
				}
				fd.hog[th] = d
			}
			if net != nil {
				t0 := time.Now()
				d, err := analyze.DetectSnapshot(net, s)
				netTime += time.Since(t0)
				netRuns++
				if err != nil {
					return err
				}
				fd.net = d
			}
			frames = append(frames, fd)
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "%s frame %d\n", c.Name, i)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("clip %s: %w", c.Name, err)
		}
	}
	if hogRuns > 0 {
		res.MillisPerFrame["hog"] = float64(hogTime.Milliseconds()) / float64(hogRuns)
	}
	if netRuns > 0 {
		res.MillisPerFrame["network"] = float64(netTime.Milliseconds()) / float64(netRuns)
	}
	score := func(name string, th float64, dets func(*frameDets) []analyze.Detection) PersonScore {
		s := PersonScore{Detector: name, Threshold: th, Clips: map[string]*PersonCounts{}}
		for _, fd := range frames {
			tp, fp, fn := matchPersons(fd.frame, dets(fd))
			s.add(tp, fp, fn)
			c := s.Clips[fd.clip]
			if c == nil {
				c = &PersonCounts{}
				s.Clips[fd.clip] = c
			}
			c.add(tp, fp, fn)
		}
		s.measure()
		for _, c := range s.Clips {
			c.measure()
		}
		return s
	}
	var hogScores, netScores []PersonScore
	for _, th := range o.HOGThresholds {
		hogScores = append(hogScores, score("hog", th, func(fd *frameDets) []analyze.Detection { return fd.hog[th] }))
	}
	if net != nil {
		for _, th := range o.NetThresholds {
			netScores = append(netScores, score("network", th, func(fd *frameDets) []analyze.Detection {
				var out []analyze.Detection
				for _, d := range fd.net {
					if d.Label == config.LabelPerson && d.Score >= th {
						out = append(out, d)
					}
				}
				return out
			}))
		}
	}
	res.Scores = append(hogScores, netScores...)
	for _, h := range hogScores {
		var best *PersonScore
		for i := range netScores {
			n := &netScores[i]
			if n.FPPerFrame <= h.FPPerFrame && (best == nil || n.FPPerFrame > best.FPPerFrame || (n.FPPerFrame == best.FPPerFrame && n.Recall > best.Recall)) {
				best = n
			}
		}
		if best != nil {
			res.Matched = append(res.Matched, PersonMatch{FPPerFrame: h.FPPerFrame, HOG: h.Threshold, HOGRecall: h.Recall,
				NetMinScore: best.Threshold, NetFP: best.FPPerFrame, NetRecall: best.Recall})
		}
	}
	return res, nil
}

func progressOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// matchPersons matches detections (best first) with the frame's people at
// IoU >= personIoU; one on an ignored box, or smaller than
// personMinHeight, counts for nothing.
func matchPersons(f PersonFrame, dets []analyze.Detection) (tp, fp, fn int) {
	dets = slices.Clone(dets)
	slices.SortStableFunc(dets, func(a, b analyze.Detection) int { return cmp.Compare(b.Score, a.Score) }) // best first
	used := make([]bool, len(f.Persons))
	for _, d := range dets {
		if d.Label != config.LabelPerson || d.Box.Dy() < personMinHeight {
			continue
		}
		best, bestIoU := -1, personIoU
		for i, p := range f.Persons {
			if v := rectIoU(d.Box, image.Rect(p[0], p[1], p[2], p[3])); !used[i] && v >= bestIoU {
				best, bestIoU = i, v
			}
		}
		if best >= 0 {
			used[best] = true
			tp++
			continue
		}
		ignored := false
		for _, g := range f.Ignore {
			if rectIoU(d.Box, image.Rect(g[0], g[1], g[2], g[3])) >= personIoU {
				ignored = true
			}
		}
		if !ignored {
			fp++
		}
	}
	for _, u := range used {
		if !u {
			fn++
		}
	}
	return tp, fp, fn
}

func rectIoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	return ia / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia)
}

// PrintPersons writes the evaluation as tables: every detector and
// threshold over all clips, then per clip.
func PrintPersons(w io.Writer, r *PersonsResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "all clips:\ndetector\tthreshold\tprecision\trecall\thits/people\tfalse\tfalse/frame\tframes")
	for _, s := range r.Scores {
		fmt.Fprintf(tw, "%s\t%g\t%.2f\t%.2f\t%d/%d\t%d\t%.2f\t%d\n", s.Detector, s.Threshold, s.Precision, s.Recall, s.TP, s.TP+s.FN, s.FP, s.FPPerFrame, s.Frames)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nper clip:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "clip\tdetector\tthreshold\tprecision\trecall\thits/people\tfalse\tframes")
	for _, name := range r.ClipNames {
		for _, s := range r.Scores {
			if c := s.Clips[name]; c != nil {
				fmt.Fprintf(tw, "%s\t%s\t%g\t%.2f\t%.2f\t%d/%d\t%d\t%d\n", name, s.Detector, s.Threshold, c.Precision, c.Recall, c.TP, c.TP+c.FN, c.FP, c.Frames)
			}
		}
	}
	tw.Flush()
	if len(r.Matched) > 0 {
		fmt.Fprintln(w, "\nat the same false-alarm rate (all clips):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "HOG hit_threshold\tfalse/frame\tHOG recall\tnetwork min_score\tfalse/frame\tnetwork recall")
		for _, m := range r.Matched {
			fmt.Fprintf(tw, "%g\t%.2f\t%.2f\t%g\t%.2f\t%.2f\n", m.HOG, m.FPPerFrame, m.HOGRecall, m.NetMinScore, m.NetFP, m.NetRecall)
		}
		tw.Flush()
	}
	for k, v := range r.MillisPerFrame {
		fmt.Fprintf(w, "%s: %.0f ms per whole frame\n", k, v)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped %s\n", s)
	}
}
