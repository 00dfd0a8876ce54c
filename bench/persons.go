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

// PersonTruth is hand-labelled ground truth of people and vehicles, as
// bench/persons/corpus.yaml (14 sources: the corpus the network's defaults
// are chosen on). The format, YAML, unknown keys an error:
//
//	clips:
//	  - name: office            # the source's name in the report
//	    path: ../../testdata/footage/office.mkv   # any file FFmpeg reads
//	    frames:
//	      - {frame: 5, persons: [[236, 112, 286, 266]], ignore: [[0, 0, 20, 40]]}
//	      - {frame: 9, vehicles: [[10, 20, 130, 90]]}   # one box a vehicle, any kind
//	      - {frame: 40}         # no one on it: every detection is a false alarm
//
// frame counts decoded pictures from 0; boxes are [x1, y1, x2, y2] in
// pixels of the clip's pictures. A frame without vehicles (or persons)
// has none: a vehicle (or person) found there is a false alarm. Every
// clip is scored alike: its own precision and recall per kind, and the
// sums over all clips.
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

// PersonFrame is one labelled frame: its index from 0, the people and the
// vehicles on it (a vehicle is any car, van, bus, truck or motorcycle, one
// box each whatever the network calls it) and the boxes counted neither as
// hits nor as false alarms, of either kind, [x1, y1, x2, y2] in pixels.
type PersonFrame struct {
	Frame    int      `yaml:"frame"`
	Persons  [][4]int `yaml:"persons"`
	Vehicles [][4]int `yaml:"vehicles"`
	Ignore   [][4]int `yaml:"ignore"`
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
			for k, b := range slices.Concat(f.Persons, f.Vehicles, f.Ignore) {
				if b[2] <= b[0] || b[3] <= b[1] {
					return nil, fmt.Errorf("%s: clips[%d] (%s).frames[%d] (frame %d): box %d %v is empty", path, i, c.Name, j, f.Frame, k, b)
				}
			}
		}
	}
	return &t, nil
}

// personMinHeight is the smallest person detection scored: a person of
// the ground truth is at least 48 pixels tall, and a detection much
// smaller than that is neither a hit nor a false alarm.
const personMinHeight = 40

// vehicleMinSide is the smallest vehicle detection scored (its longer
// side), for the same reason: slivers of cars at the edge are ignored.
const vehicleMinSide = 20

// personIoU is the overlap a detection needs with a labelled object.
const personIoU = 0.5

// The kinds scored: PersonScore.Class.
const (
	ClassPerson  = config.LabelPerson
	ClassVehicle = config.LabelVehicle
)

// PersonScore is one detector at one threshold for one kind of object
// over the ground truth: over every labelled frame of every clip, and per
// clip.
type PersonScore struct {
	Detector  string  `json:"detector"`
	Class     string  `json:"class"` // ClassPerson or ClassVehicle
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
// precision of 1 with nothing found, a recall of 1 with nothing to find.
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

// PersonsResult is the evaluation of every detector, kind and threshold.
type PersonsResult struct {
	Truth  string        `json:"truth"`
	Scores []PersonScore `json:"scores"`
	// Matched pairs each HOG threshold with the network threshold of the
	// closest false alarms per frame not above it (people).
	Matched []PersonMatch `json:"matched"`
	// CrossValidated is the network's threshold per kind chosen by
	// leave-one-clip-out (ChooseThreshold) and each held-out clip's
	// counts at the threshold chosen without it.
	CrossValidated []PersonFold `json:"cross_validated,omitempty"`
	// Chosen is the threshold per kind chosen on all clips.
	Chosen map[string]float64 `json:"chosen,omitempty"`
	// MillisPerFrame is each detector's time per whole frame (all its
	// inferences: 3 for the network with Tiles 2).
	MillisPerFrame map[string]float64 `json:"ms_per_frame"`
	// Tiles is PersonsOptions.Tiles.
	Tiles int `json:"tiles"`
	// Network is the network's kind and input size ("" without it).
	Network string `json:"network,omitempty"`
	// ClipNames are the clips scored, in the file's order.
	ClipNames []string `json:"clip_names"`
	Skipped   []string `json:"skipped_clips,omitempty"`
}

// PersonFold is one fold of leave-one-clip-out: the threshold chosen on
// every other clip, and the held-out clip's counts at it.
type PersonFold struct {
	Class     string  `json:"class"`
	HeldOut   string  `json:"held_out"`
	Threshold float64 `json:"threshold"`
	PersonCounts
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
	// RequireModel makes an absent model (or runtime library) an error
	// rather than HOG only: the model was named on the command line.
	RequireModel bool
	// HOGThresholds and NetThresholds are swept.
	HOGThresholds, NetThresholds []float64
	// Every > 1 takes every Every-th labelled frame of each clip (HOG is
	// slow).
	Every int
	// Tiles 2 runs the network three times a frame: on the whole picture
	// and on two squares of its shorter side at either end (the left and
	// right of a wide picture), each scaled up to the network's input, for
	// small far-away objects; 0 or 1: once on the whole picture.
	Tiles    int
	Progress io.Writer // nil: quiet
}

// Persons scores person detection (HOG, no setup, and the network) and
// vehicle detection (the network) on the ground truth, each over a sweep
// of its threshold, on whole frames, and chooses the network's threshold
// per kind by leave-one-clip-out.
func Persons(ctx context.Context, o PersonsOptions) (*PersonsResult, error) {
	truth, err := LoadPersonTruth(o.Truth)
	if err != nil {
		return nil, err
	}
	if o.Tiles != 0 && o.Tiles != 1 && o.Tiles != 2 {
		return nil, fmt.Errorf("bench persons: tiles %d, want 1 or 2", o.Tiles)
	}
	res := &PersonsResult{Truth: o.Truth, MillisPerFrame: map[string]float64{}, Tiles: max(o.Tiles, 1)}
	type frameDets struct {
		clip  string
		frame PersonFrame
		hog   map[float64][]analyze.Detection
		net   []analyze.Detection
		w, h  int // the picture's size
	}
	var frames []*frameDets
	var net *analyze.Network
	if o.Model != "" {
		if net, err = analyze.OpenNetwork(o.Model, 1, 0.05); err != nil {
			if !errors.Is(err, os.ErrNotExist) || o.RequireModel {
				return nil, err
			}
			fmt.Fprintf(progressOr(o.Progress), "network absent, HOG only: %v\n", err)
		} else {
			defer net.Close()
			res.Network = net.Family()
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
			fd := &frameDets{clip: c.Name, frame: byIndex[i], hog: map[float64][]analyze.Detection{}, w: s.Width, h: s.Height}
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
				d, err := detectTiled(net, s, o.Tiles)
				netTime += time.Since(t0)
				netRuns++
				if err != nil {
					return err
				}
				fd.net = mergeVehicleDetections(d)
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
	score := func(name, class string, th float64, dets func(*frameDets) []analyze.Detection) PersonScore {
		s := PersonScore{Detector: name, Class: class, Threshold: th, Clips: map[string]*PersonCounts{}}
		for _, fd := range frames {
			tp, fp, fn := matchObjects(fd.frame, class, dets(fd))
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
	var hogScores, netScores, trackScores []PersonScore
	for _, th := range o.HOGThresholds {
		hogScores = append(hogScores, score("hog", ClassPerson, th, func(fd *frameDets) []analyze.Detection { return fd.hog[th] }))
	}
	if net != nil {
		for _, class := range []string{ClassPerson, ClassVehicle} {
			for _, th := range o.NetThresholds {
				netScores = append(netScores, score("network", class, th, func(fd *frameDets) []analyze.Detection {
					var out []analyze.Detection
					for _, d := range fd.net {
						if analyze.ObjectLabel(d.Label) == class && d.Score >= th {
							out = append(out, d)
						}
					}
					return out
				}))
			}
		}
		res.CrossValidated, res.Chosen = crossValidate(netScores, res.ClipNames)
		// People as a camera reports them on its first result: the
		// tracker drops an unsure person among others (analyze's
		// personSure).
		for _, th := range o.NetThresholds {
			trackScores = append(trackScores, score("tracker", ClassPerson, th, func(fd *frameDets) []analyze.Detection {
				return analyze.FirstTracked(fd.net, fd.w, fd.h, th)
			}))
		}
	}
	res.Scores = append(append(hogScores, netScores...), trackScores...)
	for _, h := range hogScores {
		var best *PersonScore
		for i := range netScores {
			n := &netScores[i]
			if n.Class != ClassPerson {
				continue
			}
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

// detectTiled runs the network on the whole picture and, with tiles 2,
// on a square of the picture's shorter side at either end, and merges
// the boxes: of two of one label overlapping more than tileMerge (IoU,
// or the smaller one's area inside the other), the best scoring is kept.
func detectTiled(net *analyze.Network, s *analyze.Snapshot, tiles int) ([]analyze.Detection, error) {
	dets, err := analyze.DetectSnapshot(net, s)
	if err != nil || tiles < 2 {
		return dets, err
	}
	side := min(s.Width, s.Height)
	for _, r := range []image.Rectangle{image.Rect(0, 0, side, side), image.Rect(s.Width-side, s.Height-side, s.Width, s.Height)} {
		d, err := analyze.DetectSnapshotRegion(net, s, r)
		if err != nil {
			return nil, err
		}
		dets = append(dets, d...)
	}
	slices.SortStableFunc(dets, func(a, b analyze.Detection) int { return cmp.Compare(b.Score, a.Score) })
	var kept []analyze.Detection
	for _, d := range dets {
		if !slices.ContainsFunc(kept, func(k analyze.Detection) bool {
			return k.Label == d.Label && (rectIoU(k.Box, d.Box) > tileMerge || insideShare(d.Box, k.Box) > tileMerge)
		}) {
			kept = append(kept, d)
		}
	}
	return kept, nil
}

// tileMerge is the overlap above which two boxes of the tiled passes are
// one object.
const tileMerge = 0.6

// insideShare is the share of a's area inside b.
func insideShare(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() || a.Empty() {
		return 0
	}
	return float64(in.Dx()*in.Dy()) / float64(a.Dx()*a.Dy())
}

// mergeVehicleDetections keeps one box per vehicle, as the engine does
// (analyze's mergeVehicles, over all scores): of vehicle boxes (car, bus,
// truck, motorcycle, bicycle) overlapping more than vehicleMerge, the
// best scoring one. Other detections are kept as they are.
func mergeVehicleDetections(dets []analyze.Detection) []analyze.Detection {
	dets = slices.Clone(dets)
	slices.SortStableFunc(dets, func(a, b analyze.Detection) int { return cmp.Compare(b.Score, a.Score) })
	kept := dets[:0]
	for _, d := range dets {
		isVehicle := analyze.ObjectLabel(d.Label) == ClassVehicle
		if !isVehicle || !slices.ContainsFunc(kept, func(k analyze.Detection) bool {
			return analyze.ObjectLabel(k.Label) == ClassVehicle && rectIoU(k.Box, d.Box) > vehicleMerge
		}) {
			kept = append(kept, d)
		}
	}
	return kept
}

// vehicleMerge is analyze's: two vehicle boxes overlapping more are one
// vehicle.
const vehicleMerge = 0.5

// ChooseThreshold is the rule the network's thresholds are chosen by,
// per kind, on pooled counts: the best F1 (the harmonic mean of precision
// and recall, so that neither is bought with the other); ties go to the
// higher threshold (fewer false alarms elsewhere). counts are one kind's,
// by threshold as in thresholds; ok is false when there are none.
func ChooseThreshold(counts []PersonCounts, thresholds []float64) (th float64, ok bool) {
	best, bestF1 := -1, -1.0
	for i, c := range counts {
		c.measure()
		f1 := 0.0
		if c.Precision+c.Recall > 0 {
			f1 = 2 * c.Precision * c.Recall / (c.Precision + c.Recall)
		}
		if best < 0 || f1 > bestF1+1e-9 || f1 > bestF1-1e-9 && thresholds[i] > thresholds[best] {
			best, bestF1 = i, f1
		}
	}
	if best < 0 {
		return 0, false
	}
	return thresholds[best], true
}

// crossValidate chooses each kind's threshold on all clips, and by
// leave-one-clip-out: for every clip, the threshold chosen on the other
// clips and the clip's counts at it (on a clip without the kind, its
// false alarms).
func crossValidate(scores []PersonScore, clips []string) ([]PersonFold, map[string]float64) {
	chosen := map[string]float64{}
	var folds []PersonFold
	for _, class := range []string{ClassPerson, ClassVehicle} {
		var mine []PersonScore
		var ths []float64
		for _, s := range scores {
			if s.Class == class {
				mine = append(mine, s)
				ths = append(ths, s.Threshold)
			}
		}
		if len(mine) == 0 {
			continue
		}
		pooled := func(skip string) []PersonCounts {
			out := make([]PersonCounts, len(mine))
			for i, s := range mine {
				for name, c := range s.Clips {
					if name != skip {
						out[i].TP, out[i].FP, out[i].FN, out[i].Frames = out[i].TP+c.TP, out[i].FP+c.FP, out[i].FN+c.FN, out[i].Frames+c.Frames
					}
				}
			}
			return out
		}
		if th, ok := ChooseThreshold(pooled(""), ths); ok {
			chosen[class] = th
		}
		for _, clip := range clips {
			if mine[0].Clips[clip] == nil {
				continue
			}
			th, ok := ChooseThreshold(pooled(clip), ths)
			if !ok {
				continue
			}
			i := slices.Index(ths, th)
			f := PersonFold{Class: class, HeldOut: clip, Threshold: th, PersonCounts: *mine[i].Clips[clip]}
			folds = append(folds, f)
		}
	}
	return folds, chosen
}

func progressOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// matchPersons is matchObjects for people.
func matchPersons(f PersonFrame, dets []analyze.Detection) (tp, fp, fn int) {
	return matchObjects(f, ClassPerson, dets)
}

// matchObjects matches detections of one kind (ClassPerson or
// ClassVehicle, by analyze.ObjectLabel; best first) with the frame's
// objects of that kind at IoU >= personIoU; one on an ignored box (IoU >=
// personIoU, or mostly inside it: a far cyclist's rider without the
// bicycle), or smaller than personMinHeight (a vehicle: vehicleMinSide),
// counts for nothing.
func matchObjects(f PersonFrame, class string, dets []analyze.Detection) (tp, fp, fn int) {
	truth := f.Persons
	if class == ClassVehicle {
		truth = f.Vehicles
	}
	dets = slices.Clone(dets)
	slices.SortStableFunc(dets, func(a, b analyze.Detection) int { return cmp.Compare(b.Score, a.Score) }) // best first
	used := make([]bool, len(truth))
	for _, d := range dets {
		if analyze.ObjectLabel(d.Label) != class {
			continue
		}
		if class == ClassPerson && d.Box.Dy() < personMinHeight || class == ClassVehicle && max(d.Box.Dx(), d.Box.Dy()) < vehicleMinSide {
			continue
		}
		best, bestIoU := -1, personIoU
		for i, p := range truth {
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
			if r := image.Rect(g[0], g[1], g[2], g[3]); rectIoU(d.Box, r) >= personIoU || inside(d.Box, r) >= ignoreInside {
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

// ignoreInside is the share of a detection inside an ignored box that
// makes it count for nothing.
const ignoreInside = 0.8

// inside is the share of a's area inside b.
func inside(a, b image.Rectangle) float64 {
	if a.Empty() {
		return 0
	}
	in := a.Intersect(b)
	return float64(in.Dx()*in.Dy()) / float64(a.Dx()*a.Dy())
}

func rectIoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	return ia / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia)
}

// PrintPersons writes the evaluation as tables: every detector, kind and
// threshold over all clips, then per clip, then the thresholds chosen by
// leave-one-clip-out; the sources not scored (their files absent) first.
func PrintPersons(w io.Writer, r *PersonsResult) {
	if len(r.Skipped) > 0 {
		// First, not last: every figure below leaves these sources out.
		fmt.Fprintf(w, "NOT SCORED: %d of %d sources, their files absent (the figures below leave them out):\n", len(r.Skipped), len(r.Skipped)+len(r.ClipNames))
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "  %s\n", s)
		}
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "all clips:\ndetector\tkind\tthreshold\tprecision\trecall\thits/objects\tfalse\tfalse/frame\tframes")
	for _, s := range r.Scores {
		fmt.Fprintf(tw, "%s\t%s\t%g\t%.2f\t%.2f\t%d/%d\t%d\t%.2f\t%d\n", s.Detector, s.Class, s.Threshold, s.Precision, s.Recall, s.TP, s.TP+s.FN, s.FP, s.FPPerFrame, s.Frames)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nper clip:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "clip\tdetector\tkind\tthreshold\tprecision\trecall\thits/objects\tfalse\tframes")
	for _, name := range r.ClipNames {
		for _, s := range r.Scores {
			if c := s.Clips[name]; c != nil && (c.TP+c.FN > 0 || c.FP > 0 || s.Class == ClassPerson) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%g\t%.2f\t%.2f\t%d/%d\t%d\t%d\n", name, s.Detector, s.Class, s.Threshold, c.Precision, c.Recall, c.TP, c.TP+c.FN, c.FP, c.Frames)
			}
		}
	}
	tw.Flush()
	if len(r.CrossValidated) > 0 {
		fmt.Fprintln(w, "\nleave-one-clip-out (threshold chosen on the other clips: best F1):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "kind\theld out\tthreshold\tprecision\trecall\thits/objects\tfalse\tframes")
		sum := map[string]*PersonCounts{}
		for _, f := range r.CrossValidated {
			fmt.Fprintf(tw, "%s\t%s\t%g\t%.2f\t%.2f\t%d/%d\t%d\t%d\n", f.Class, f.HeldOut, f.Threshold, f.Precision, f.Recall, f.TP, f.TP+f.FN, f.FP, f.Frames)
			if sum[f.Class] == nil {
				sum[f.Class] = &PersonCounts{}
			}
			s := sum[f.Class]
			s.TP, s.FP, s.FN, s.Frames = s.TP+f.TP, s.FP+f.FP, s.FN+f.FN, s.Frames+f.Frames
		}
		for _, class := range []string{ClassPerson, ClassVehicle} {
			if s := sum[class]; s != nil {
				s.measure()
				fmt.Fprintf(tw, "%s\tall held out\t\t%.2f\t%.2f\t%d/%d\t%d\t%d\n", class, s.Precision, s.Recall, s.TP, s.TP+s.FN, s.FP, s.Frames)
			}
		}
		tw.Flush()
		for _, class := range []string{ClassPerson, ClassVehicle} {
			if th, ok := r.Chosen[class]; ok {
				fmt.Fprintf(w, "chosen on all clips: %s %g\n", class, th)
			}
		}
	}
	if len(r.Matched) > 0 {
		fmt.Fprintln(w, "\nat the same false-alarm rate (all clips, people):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "HOG hit_threshold\tfalse/frame\tHOG recall\tnetwork min_score\tfalse/frame\tnetwork recall")
		for _, m := range r.Matched {
			fmt.Fprintf(tw, "%g\t%.2f\t%.2f\t%g\t%.2f\t%.2f\n", m.HOG, m.FPPerFrame, m.HOGRecall, m.NetMinScore, m.NetFP, m.NetRecall)
		}
		tw.Flush()
	}
	for k, v := range r.MillisPerFrame {
		if k == "network" && r.Network != "" {
			k += " (" + r.Network + ")"
		}
		fmt.Fprintf(w, "%s: %.0f ms per whole frame (tiles %d)\n", k, v, r.Tiles)
	}
}
