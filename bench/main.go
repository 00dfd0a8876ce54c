package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/cliflag"
	"github.com/vigil-video/vigil/nn"
)

// Main runs `vigil bench MODE [flags]`.
// -h or --help, of bench or of a mode, prints the usage on out and returns
// nil.
func Main(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 {
		return errors.New("bench: want a mode: offline, live, baseline, compare, accuracy, persons, gate")
	}
	if cliflag.IsHelp(args[0]) {
		_, err := io.WriteString(out, Usage)
		return err
	}
	err := runMode(ctx, args, out, errOut)
	if cliflag.Help(err) {
		return nil
	}
	return err
}

// Usage is the usage of `vigil bench`.
const Usage = `usage: vigil bench <mode> [flags]   (vigil bench <mode> --help for a mode's flags)
  offline   decode + analyze a clip, beside ffmpeg -threads 1
  live      the engine against simulated cameras, measured from outside (--ramp)
  baseline  ffmpeg and OpenCV per camera
  compare   the engine beside ffmpeg and OpenCV per camera (--chart)
  accuracy  the scored replay of the scenarios (--scenarios DIR)
  persons   the person detectors' precision and recall on labeled footage
  gate      mode auto's activity gate per clip of an encoding matrix (scripts/gatematrix.sh)
`

// Modes are bench's modes, in the order Usage lists them.
var Modes = []string{"offline", "live", "baseline", "compare", "accuracy", "persons", "gate"}

func runMode(ctx context.Context, args []string, out, errOut io.Writer) error {
	switch args[0] {
	case "offline":
		return mainOffline(ctx, args[1:], out, errOut)
	case "live":
		return mainLive(ctx, args[1:], out, errOut)
	case "baseline", "compare":
		return mainCompare(ctx, args[0], args[1:], out, errOut)
	case "accuracy":
		return mainAccuracy(ctx, args[1:], out, errOut)
	case "persons":
		return mainPersons(ctx, args[1:], out, errOut)
	case "gate":
		return mainGate(ctx, args[1:], out, errOut)
	case "capture-worker": // the opencv baseline's child process
		return CaptureWorker(ctx, args[1:], out)
	}
	return fmt.Errorf("bench: unknown mode %q (want offline, live, baseline, compare, accuracy, persons or gate)", args[0])
}

func mainGate(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("bench gate", flag.ContinueOnError)
	o := GateOptions{Activity: config.DefaultActivity()}
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.StringVar(&o.Matrix, "matrix", "", "directory of the encoding matrix (scripts/gatematrix.sh DIR) (required)")
	fs.StringVar(&o.Only, "only", "", "only the clips whose name contains this")
	fs.DurationVar(&o.Activity.KeyframeInterval, "keyframe-interval", o.Activity.KeyframeInterval, "the cameras' activity.keyframe_interval: while idle, the longest time between two keyframes decoded, unless one changed (0: every one)")
	fs.Float64Var(&o.Activity.SizeFactor, "size-factor", o.Activity.SizeFactor, "the cameras' activity.size_factor: one predicted picture this many deviations above its idle level wakes the camera")
	fs.IntVar(&o.QueueBytes, "queue-bytes", config.DefaultCamera().QueueBytes, "the cameras' queue_bytes: half of it bounds the GOP a wake-up replays")
	fs.BoolVar(&o.DeblockIdle, "deblock-idle", false, "run the in-loop filters on the keyframes an idle camera decodes alone (the engine skips them)")
	if err := cliflag.Parse(fs, args, out, errOut); err != nil {
		return err
	}
	if o.Matrix == "" {
		return errors.New("bench gate: --matrix is required")
	}
	r, err := Gate(ctx, o, func(c GateClip) { fmt.Fprintf(errOut, "bench gate: %s done\n", c.Name) })
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(out, r)
	}
	PrintGate(out, r)
	return nil
}

func mainOffline(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("bench offline", flag.ContinueOnError)
	var o OfflineOptions
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.StringVar(&o.Clip, "clip", "", "H.264/H.265 elementary stream (.h264, .h265) (required)")
	fs.Float64Var(&o.FPS, "fps", 25, "frame rate of the clip")
	fs.IntVar(&o.Loops, "loops", 3, "passes over the clip")
	fs.IntVar(&o.Width, "analysis-width", 320, "analysis frame width")
	fs.Float64Var(&o.AnalysisFPS, "analysis-fps", 5, "analysis rate; 0 analyzes every frame")
	fs.StringVar(&o.Algorithm, "algorithm", "", "motion algorithm: diff or mog2 (default: the engine's)")
	fs.BoolVar(&o.NoFFmpeg, "no-ffmpeg", false, "skip the ffmpeg baseline")
	if err := cliflag.Parse(fs, args, out, errOut); err != nil {
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

// commonFlags are the flags of live, baseline and compare.
type commonFlags struct {
	bin, clips, outFile, chart string
	profile, clipDir           string
	active                     float64
	cameras                    int
	duration, warmup           time.Duration
	asJSON                     bool
	verbose                    bool
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.bin, "vigil", "", "vigil executable run as simulator and engine (default: this one)")
	fs.StringVar(&c.clips, "clips", "", "clips per camera share, as for vigil sim (overrides --profile)")
	fs.StringVar(&c.profile, "profile", DefaultProfile, "clip mix: camera (640x360 H.264 substreams from real footage), camera-h265, main (1080p H.264), main-h265, or light (the embedded 24 kbps clips)")
	fs.Float64Var(&c.active, "active", 10, "with --profile: percent of cameras on the clip with people walking; the rest see a still view")
	fs.StringVar(&c.clipDir, "clip-dir", DefaultClipDir(), "directory of the camera-realistic clips (scripts/camclips.sh DIR)")
	fs.IntVar(&c.cameras, "cameras", 10, "simulated cameras")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "measurement window")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "wait after every camera streams, before measuring")
	fs.BoolVar(&c.asJSON, "json", false, "print JSON instead of a table")
	fs.StringVar(&c.outFile, "out", "", "also write the JSON result to this file")
	fs.StringVar(&c.chart, "chart", "", "write an SVG chart of CPU against cameras to this file")
	fs.BoolVar(&c.verbose, "v", false, "pass the children's logs to stderr")
}

// resolve sets clips from the profile unless --clips was given.
func (c *commonFlags) resolve() error {
	if c.clips != "" {
		c.profile = ""
		return nil
	}
	var err error
	c.clips, err = ProfileClips(c.profile, c.active, c.clipDir)
	return err
}

func (c *commonFlags) logs(errOut io.Writer) io.Writer {
	if c.verbose {
		return errOut
	}
	return nil
}

// emit prints r as a table (print) or JSON, and writes --out.
func (c *commonFlags) emit(out io.Writer, r any, print func()) error {
	if c.outFile != "" {
		f, err := os.Create(c.outFile)
		if err != nil {
			return err
		}
		if err := writeJSON(f, r); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if c.asJSON {
		return writeJSON(out, r)
	}
	print()
	return nil
}

func writeChartFile(path, title string, series []Series) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteChart(f, title, numCPU(), series); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func mainLive(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("bench live", flag.ContinueOnError)
	var c commonFlags
	c.register(fs)
	mode := fs.String("decode-mode", "", "decode_mode of every camera: all, keyframes or auto (default: the engine's)")
	udp := fs.Bool("udp", false, "cameras use the UDP transport")
	ramp := fs.Bool("ramp", false, "find the largest camera count sustained in real time, starting at --cameras")
	maxCams := fs.Int("max", 1000, "with --ramp: the largest camera count tried")
	drop := fs.Float64("drop-threshold", 0.005, "largest share of frames dropped that still counts as sustained")
	ffref := fs.Bool("ffmpeg", false, "also run ffmpeg -threads 1 -f null on the clips (with --server gst: one per camera through the server), for the CPU ratio")
	beside := fs.Bool("ffmpeg-beside", false, "with --ffmpeg --server gst: run the ffmpeg processes at the same time as the engine, not after it (both then see the machine's same load; it carries both)")
	server := fs.String("server", ServerSim, "what serves the cameras: sim (vigil's simulator) or gst (GStreamer's RTSP server, scripts/gst-rtsp-server.py, clips looped)")
	person := fs.Bool("person", false, "turn person detection on in every camera and report the time from motion to person incident")
	firstLook := fs.Bool("first-look", false, "with --person: keep objects.first_look on (the engine's default): cameras look at their still view when they start and re-check the people standing in it, competing for the budget")
	stagger := fs.Bool("stagger", false, "the simulator starts the cameras of each clip at its keyframes in turn, not all at its first: people walk into view at different times, as in a city (not with --server gst)")
	objects := fs.String("objects", "", "the engine's object network: off, or a fixed budget in inferences per second (default: on, following the machine)")
	if err := cliflag.Parse(fs, args, out, errOut); err != nil {
		return err
	}
	if err := ParseObjects(*objects); err != nil {
		return fmt.Errorf("--objects: %w", err)
	}
	if *firstLook && (!*person || *objects == "off") {
		return errors.New("--first-look: needs --person and the object network (without them no camera looks for people)")
	}
	if err := c.resolve(); err != nil {
		return err
	}
	bin, err := vigilBinary(c.bin)
	if err != nil {
		return err
	}
	o := LiveOptions{Person: *person, FirstLook: *firstLook, Objects: *objects, Cameras: c.cameras, Clips: c.clips, Duration: c.duration, Warmup: c.warmup, DecodeMode: *mode,
		UDP: *udp, Stagger: *stagger, DropThreshold: *drop, Progress: newProgress(errOut), Logs: c.logs(errOut), FFmpegReference: *ffref, FFmpegBeside: *beside, Server: *server}
	if *ramp {
		rr, err := Ramp(ctx, bin, o, *maxCams)
		if err != nil && rr == nil {
			return err
		}
		s := Series{Name: "vigil (" + orDefault(*mode, "default") + ")"}
		for _, st := range rr.Steps {
			s.Points = append(s.Points, [2]float64{float64(st.Cameras), st.Engine.Cores})
		}
		if cerr := writeChartFile(c.chart, "vigil bench live --ramp: engine CPU", []Series{s}); cerr != nil {
			return cerr
		}
		if eerr := c.emit(out, rr, func() {
			PrintLive(out, rr.Steps...)
			fmt.Fprintf(out, "largest camera count sustained in real time: %d\n", rr.MaxSustained)
		}); eerr != nil {
			return eerr
		}
		return err
	}
	r, err := Live(ctx, bin, o)
	if err != nil {
		return err
	}
	return c.emit(out, r, func() { PrintLive(out, r) })
}

// CompareStep is the engine and the baselines at one camera count.
type CompareStep struct {
	Cameras   int               `json:"cameras"`
	Engine    *LiveResult       `json:"engine,omitempty"`
	Baselines []*BaselineResult `json:"baselines"`
	// Ratio is each baseline's CPU per camera over the engine's (above 1:
	// the engine is cheaper); RatioWithoutNetwork over the engine's less
	// its object network (LiveResult.NetworkCores): what the engine's
	// ingest, decoding and analysis cost against a decoder that detects
	// nothing.
	Ratio               map[string]float64 `json:"ratio_to_engine,omitempty"`
	RatioWithoutNetwork map[string]float64 `json:"ratio_to_engine_without_network,omitempty"`
}

// CompareResult is the output of `vigil bench baseline` and `compare`.
type CompareResult struct {
	Machine struct {
		Cores int `json:"cores"`
	} `json:"machine"`
	Steps []CompareStep `json:"steps"`
	Chart []Series      `json:"chart"`
}

func mainCompare(ctx context.Context, mode string, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("bench "+mode, flag.ContinueOnError)
	var c commonFlags
	c.register(fs)
	c.duration = 20 * time.Second
	steps := fs.String("steps", "", "comma-separated camera counts (default: --cameras)")
	approaches := fs.String("approaches", "ffmpeg,opencv", "baselines to run: ffmpeg, opencv")
	decodeMode := fs.String("decode-mode", "", "the engine's decode_mode (compare only)")
	withEngine := fs.Bool("with-engine", mode == "compare", "also run the engine at each step (compare does)")
	server := fs.String("server", ServerSim, "what serves the cameras: sim (vigil's simulator) or gst (GStreamer's RTSP server, scripts/gst-rtsp-server.py, clips looped)")
	objects := fs.String("objects", "", "the engine's object network: off, or a fixed budget in inferences per second (default: on, following the machine)")
	if err := cliflag.Parse(fs, args, out, errOut); err != nil {
		return err
	}
	if err := ParseObjects(*objects); err != nil {
		return fmt.Errorf("--objects: %w", err)
	}
	if err := c.resolve(); err != nil {
		return err
	}
	bin, err := vigilBinary(c.bin)
	if err != nil {
		return err
	}
	counts := []int{c.cameras}
	if *steps != "" {
		counts = counts[:0]
		for _, s := range strings.Split(*steps, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				return fmt.Errorf("--steps: %q is not a camera count", s)
			}
			counts = append(counts, n)
		}
	}
	prog := newProgress(errOut)
	res := &CompareResult{}
	res.Machine.Cores = numCPU()
	series := map[string]*Series{}
	add := func(name string, n int, cores float64) {
		if series[name] == nil {
			series[name] = &Series{Name: name}
		}
		series[name].Points = append(series[name].Points, [2]float64{float64(n), cores})
	}
	for _, n := range counts {
		step := CompareStep{Cameras: n, Ratio: map[string]float64{}, RatioWithoutNetwork: map[string]float64{}}
		if *withEngine {
			r, err := Live(ctx, bin, LiveOptions{Cameras: n, Clips: c.clips, Duration: c.duration, Warmup: c.warmup,
				DecodeMode: *decodeMode, Objects: *objects, Progress: prog, Logs: c.logs(errOut), Server: *server})
			if err != nil {
				return err
			}
			step.Engine = r
			add("vigil ("+r.DecodeMode+")", n, r.Engine.Cores)
		}
		bs, err := Baseline(ctx, bin, BaselineOptions{Cameras: n, Clips: c.clips, Duration: c.duration, Warmup: c.warmup,
			Approaches: strings.Split(*approaches, ","), Progress: prog, Logs: c.logs(errOut), Server: *server})
		if err != nil {
			return err
		}
		step.Baselines = bs
		for _, b := range bs {
			add(b.Approach+" per camera", n, b.Process.Cores)
			if step.Engine != nil && step.Engine.Engine.CoresPerCamera > 0 {
				step.Ratio[b.Approach] = b.Process.CoresPerCamera / step.Engine.Engine.CoresPerCamera
			}
			if e := step.Engine; e != nil && e.NetworkCores > 0 && e.EngineCoresWithoutNetwork > 0 {
				step.RatioWithoutNetwork[b.Approach] = b.Process.CoresPerCamera / (e.EngineCoresWithoutNetwork / float64(n))
			}
		}
		res.Steps = append(res.Steps, step)
	}
	for _, s := range series {
		res.Chart = append(res.Chart, *s)
	}
	if err := writeChartFile(c.chart, "CPU against cameras: vigil and the usual alternatives", res.Chart); err != nil {
		return err
	}
	return c.emit(out, res, func() { PrintCompare(out, res) })
}

// PrintCompare writes a compare result as a table for people.
func PrintCompare(w io.Writer, r *CompareResult) {
	fmt.Fprintf(w, "%8s %-18s %9s %10s %10s %12s %12s %10s\n", "cameras", "approach", "cores", "core/cam", "rss MiB", "frames", "expected", "max cams")
	for _, s := range r.Steps {
		if e := s.Engine; e != nil {
			fmt.Fprintf(w, "%8d %-18s %9.3f %10.4f %10.1f %12.0f %12s %10.0f\n", s.Cameras, "vigil ("+e.DecodeMode+")",
				e.Engine.Cores, e.Engine.CoresPerCamera, float64(e.Engine.RSSMaxBytes)/(1<<20), e.FramesReceived, "",
				sustainable(e.Engine.CoresPerCamera))
		}
		for _, b := range s.Baselines {
			fmt.Fprintf(w, "%8d %-18s %9.3f %10.4f %10.1f %12.0f %12.0f %10.0f\n", s.Cameras, b.Approach,
				b.Process.Cores, b.Process.CoresPerCamera, float64(b.Process.RSSMaxBytes)/(1<<20), b.FramesRead, b.FramesExpected,
				b.SustainableCameras)
		}
		for _, a := range slices.Sorted(maps.Keys(s.Ratio)) {
			fmt.Fprintf(w, "%8d %s CPU per camera / vigil's: %.2f", s.Cameras, a, s.Ratio[a])
			if r, ok := s.RatioWithoutNetwork[a]; ok {
				fmt.Fprintf(w, "; / vigil's without its object network (%.3f cores): %.2f", s.Engine.NetworkCores, r)
			}
			fmt.Fprintln(w)
		}
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func mainAccuracy(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("bench accuracy", flag.ContinueOnError)
	dir := fs.String("scenarios", "", "directory of scenario *.yaml files with their clips (required)")
	mode := fs.String("decode-mode", "", "cameras' decode_mode: all, keyframes or auto (default: the engine's)")
	model := fs.String("model", defaultModel(), "the object network's model: people from it when present, else from HOG")
	keyGap := fs.Duration("keyframe-interval", -1, "the cameras' activity.keyframe_interval (default: each scenario's, else the engine's)")
	firstLook := fs.Bool("first-look", true, "objects.first_look: each camera looks at its whole picture once at start, motion or not")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	if err := cliflag.Parse(fs, args, out, errOut); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("bench accuracy: --scenarios is required")
	}
	sc, err := LoadScenarios(*dir)
	if err != nil {
		return err
	}
	ao := AccuracyOptions{DecodeMode: *mode, Model: *model, NoFirstLook: !*firstLook}
	if *keyGap >= 0 {
		ao.KeyframeInterval = keyGap
	}
	r, err := Accuracy(ctx, sc, ao)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(out, r); err != nil {
			return err
		}
	} else {
		PrintAccuracy(out, r)
	}
	if r.Failed > 0 {
		return fmt.Errorf("bench accuracy: %d of %d scenarios failed", r.Failed, len(r.Scenarios))
	}
	return nil
}

func mainPersons(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("bench persons", flag.ContinueOnError)
	truth := fs.String("truth", "bench/persons/corpus.yaml", "hand-labelled ground truth of people and vehicles")
	model := fs.String("model", defaultModel(), "the object network's model (absent: HOG only)")
	hog := fs.String("hog", "-0.5,0,0.3,0.6,1", "HOG hit_threshold values to sweep")
	netTh := fs.String("net", "0.1,0.2,0.3,0.4,0.5,0.6,0.7", "network min_score values to sweep")
	every := fs.Int("every", 1, "take every N-th labelled frame of each clip")
	tiles := fs.Int("tiles", 1, "network passes: 1 (whole frame) or 2 (whole frame and two squares at its ends, 3 inferences)")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	verbose := fs.Bool("v", false, "print progress to stderr")
	if err := cliflag.Parse(fs, args, out, errOut); err != nil {
		return err
	}
	parse := func(key, s string) ([]float64, error) {
		var out []float64
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		for _, f := range strings.Split(s, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return nil, fmt.Errorf("bench persons: --%s: %q is not a number", key, f)
			}
			out = append(out, v)
		}
		return out, nil
	}
	o := PersonsOptions{Truth: *truth, Model: *model, Every: *every, Tiles: *tiles}
	fs.Visit(func(f *flag.Flag) { o.RequireModel = o.RequireModel || f.Name == "model" && f.Value.String() != "" })
	var err error
	if o.HOGThresholds, err = parse("hog", *hog); err != nil {
		return err
	}
	if o.NetThresholds, err = parse("net", *netTh); err != nil {
		return err
	}
	if *verbose {
		o.Progress = errOut
	}
	r, err := Persons(ctx, o)
	if err != nil {
		return err
	}
	if r.Network == "" && o.Model != "" {
		fmt.Fprintf(errOut, "bench persons: no object network at %s (make it with %s): HOG only\n", o.Model, nn.SetupCommand)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(errOut, "bench persons: %d sources not scored, their files absent (%s): the figures leave them out\n", len(r.Skipped), strings.Join(r.Skipped, "; "))
	}
	if *asJSON {
		return writeJSON(out, r)
	}
	PrintPersons(out, r)
	return nil
}

// defaultModel is objects.model's default: in $VIGIL_MODELS when set (as
// scripts/test.sh does), else .cache/models.
func defaultModel() string { return config.DefaultObjects().Model }
