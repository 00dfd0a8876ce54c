package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/gate"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/pipeline"
	"github.com/vigil-video/vigil/sim"
	"github.com/vigil-video/vigil/unit"
)

// GateOptions configures the gate benchmark: the activity gate of mode
// auto measured offline on an encoding matrix (scripts/gatematrix.sh).
type GateOptions struct {
	// Matrix is the directory of the clips and their MANIFEST.
	Matrix string
	// Only, when not empty, keeps the clips whose name contains it.
	Only string
	// Activity tunes the activity signal as cameras[].activity does
	// (complete: start from config.DefaultActivity).
	Activity config.Activity
	// QueueBytes is the cameras' queue_bytes, which bounds the GOP a
	// wake-up replays (gate.ReplayBytes; 0: the engine's default, 8 MiB).
	QueueBytes int
	// DeblockIdle runs the in-loop filters on the keyframes an idle
	// camera decodes alone (pipeline.Config.DeblockAlone; the engine
	// skips them).
	DeblockIdle bool
}

// GateClip is the figures of one clip of the matrix. The clip is still
// until Enter, when a person or a vehicle enters (or starts moving). The
// still view's figures stop 0.5 s before Enter: an encoder's look-ahead
// (x264's macroblock tree) spends bits on a change before it is shown, and
// the 10 fps sources are resampled to 25 fps, so a wake just before Enter
// is the entering's.
type GateClip struct {
	Name  string  `json:"name"`
	Codec string  `json:"codec"`
	FPS   float64 `json:"fps"`
	Enter float64 `json:"enter_seconds"`
	// StillPictures are the pictures beyond keyframes of the still view;
	// StillDecoded of them were decoded in mode auto (a wake-up's replay
	// included), StillShare their share.
	StillPictures int     `json:"still_pictures"`
	StillDecoded  int     `json:"still_decoded"`
	StillShare    float64 `json:"still_share"`
	// StillWakes counts the wake-ups during the still view.
	StillWakes int `json:"still_wakes"`
	// StillKeys are the keyframes of the still view, StillKeysDecoded
	// those mode auto decoded.
	StillKeys        int `json:"still_keys"`
	StillKeysDecoded int `json:"still_keys_decoded"`
	// WakeLatency is the time from Enter to full decoding in mode auto
	// (seconds; 0 when awake since the still view ended; -1: never woke).
	WakeLatency float64 `json:"wake_latency_seconds"`
	// AllIncident and AutoIncident are the start of the first motion
	// incident at or after Enter in modes all and auto (seconds from the
	// clip's start; -1: none); IncidentDelay is auto minus all.
	AllIncident   float64 `json:"all_incident_seconds"`
	AutoIncident  float64 `json:"auto_incident_seconds"`
	IncidentDelay float64 `json:"incident_delay_seconds"`
	// AllFalse and AutoFalse count motion incidents of modes all and
	// auto before Enter.
	AllFalse  int `json:"all_false_incidents"`
	AutoFalse int `json:"auto_false_incidents"`
	// CostRatio is the decode time of mode auto over mode all's on the
	// still part (each unit costed at the least of 3 decode times in mode
	// all, and a keyframe auto decoded alone at the least of 3 decodes
	// alone, so that the machine's other work does not move the ratio);
	// PictureRatio the
	// decoded pictures'.
	CostRatio    float64 `json:"cost_ratio"`
	PictureRatio float64 `json:"picture_ratio"`
}

// GateTargets are the targets of issue 22, checked per clip.
const (
	GateStillShareMax  = 0.03
	GateWakeLatencyMax = 0.5
	GateIncidentMax    = 0.5
	GateCostRatioMax   = 0.1 // averaged over the matrix
)

// Pass reports whether the clip meets the per-clip targets, and why not.
func (c GateClip) Pass() (bool, string) {
	var why []string
	if c.StillShare > GateStillShareMax {
		why = append(why, fmt.Sprintf("still %.1f%%", 100*c.StillShare))
	}
	if c.WakeLatency < 0 || c.WakeLatency > GateWakeLatencyMax {
		why = append(why, fmt.Sprintf("wake %.2fs", c.WakeLatency))
	}
	if c.AllIncident >= 0 && (c.AutoIncident < 0 || c.IncidentDelay > GateIncidentMax) {
		why = append(why, fmt.Sprintf("incident %+.2fs", c.IncidentDelay))
	}
	return len(why) == 0, strings.Join(why, ", ")
}

// GateEntry is one line of a matrix MANIFEST: NAME CODEC FPS ENTER_SECONDS.
type GateEntry struct {
	Name, Path string
	FPS, Enter float64
}

// ReadGateManifest reads DIR/MANIFEST.
func ReadGateManifest(dir string) ([]GateEntry, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		return nil, fmt.Errorf("gate matrix: %w (make it with scripts/gatematrix.sh %s)", err, dir)
	}
	defer f.Close()
	var out []GateEntry
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 4 {
			return nil, fmt.Errorf("gate matrix: MANIFEST line %d: want NAME CODEC FPS ENTER_SECONDS", line)
		}
		fps, err1 := strconv.ParseFloat(fs[2], 64)
		enter, err2 := strconv.ParseFloat(fs[3], 64)
		if err1 != nil || err2 != nil || !(fps > 0) || enter < 0 {
			return nil, fmt.Errorf("gate matrix: MANIFEST line %d: bad FPS or ENTER_SECONDS", line)
		}
		out = append(out, GateEntry{Name: fs[0], Path: filepath.Join(dir, fs[0]+"."+fs[1]), FPS: fps, Enter: enter})
	}
	return out, sc.Err()
}

// Gate measures every clip of the matrix.
func Gate(ctx context.Context, o GateOptions, progress func(GateClip)) ([]GateClip, error) {
	entries, err := ReadGateManifest(o.Matrix)
	if err != nil {
		return nil, err
	}
	var out []GateClip
	for _, e := range entries {
		if o.Only != "" && !strings.Contains(e.Name, o.Only) {
			continue
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		r, err := GateOnClip(e, o)
		if err != nil {
			return out, err
		}
		if progress != nil {
			progress(r)
		}
		out = append(out, r)
	}
	return out, nil
}

// GateUnits reads a clip as the access units a camera session hands the
// gate: Annex-B data, keyframe flag, slice QP (H.264 and H.265), and the
// presentation time of display order (B-frames come before the picture
// they are shown after), found by decoding the clip once.
func GateUnits(path string, fps float64) ([]unit.AccessUnit, sim.Codec, error) {
	clip, err := sim.LoadClip(path, fps)
	if err != nil {
		return nil, "", err
	}
	codec := ingest.H264
	if clip.Codec == sim.H265 {
		codec = ingest.H265
	}
	qp := ingest.NewQPReader(codec)
	aus := make([]unit.AccessUnit, len(clip.AUs))
	var sps []byte // the last SPS seen, as the depacketizer keeps it
	for i, nalus := range clip.AUs {
		q, fade := -1, false
		if v, err := qp.QP(nalus); err == nil {
			q = v
			fade = qp.Fade()
		}
		for _, n := range nalus {
			if len(n) > 0 && (codec == ingest.H265 && n[0]>>1&0x3f == 33 || codec == ingest.H264 && n[0]&0x1f == 7) {
				sps = n
			}
		}
		aus[i] = unit.AccessUnit{Data: annexB(nalus), Key: clip.IsKeyframe(i), QP: q, NonRef: ingest.NonReference(codec, nalus),
			Droppable: ingest.Droppable(codec, sps, nalus), Fade: fade}
	}
	dc := decode.H264
	if clip.Codec == sim.H265 {
		dc = decode.H265
	}
	d, err := decode.New(dc)
	if err != nil {
		return nil, "", err
	}
	defer d.Close()
	order := make([]int, len(aus)) // decode index -> display index
	for i := range order {
		order[i] = i // the pictures still in the decoder at the end
	}
	shown := 0
	for i, au := range aus {
		ok, err := d.Decode(au.Data, int64(i))
		if err != nil {
			return nil, "", fmt.Errorf("%s: decode unit %d: %w", path, i, err)
		}
		if ok {
			if j := int(d.PicturePTS()); j >= 0 && j < len(order) {
				order[j] = shown
			}
			shown++
		}
	}
	arrival := time.Unix(1e9, 0)
	for i := range aus {
		aus[i].PTS = time.Duration(float64(order[i]) * float64(time.Second) / fps)
		aus[i].Received = arrival.Add(time.Duration(float64(i) * float64(time.Second) / fps))
	}
	return aus, clip.Codec, nil
}

// GateOnClip runs one clip in mode all and in mode auto, through the
// engine's gate, activity signal and pipeline (decode, analysis at 5 fps
// on 320-pixel frames), as a camera's worker would with an empty queue.
func GateOnClip(e GateEntry, o GateOptions) (GateClip, error) {
	queueBytes := o.QueueBytes
	if queueBytes <= 0 {
		queueBytes = config.DefaultCamera().QueueBytes
	}
	aus, codec, err := GateUnits(e.Path, e.FPS)
	if err != nil {
		return GateClip{}, err
	}
	r := GateClip{Name: e.Name, Codec: string(codec), FPS: e.FPS, Enter: e.Enter, WakeLatency: -1}
	enter := time.Duration(e.Enter * float64(time.Second))
	still := enter - stillMargin
	dc := decode.H264
	if codec == sim.H265 {
		dc = decode.H265
	}
	all, err := gateRun(aus, dc, config.ModeAll, o, enter, queueBytes)
	if err != nil {
		return r, fmt.Errorf("%s: %w", e.Name, err)
	}
	// Each unit is costed at the least of costPasses decode times: a unit
	// the scheduler interrupted costs what it costs alone, and the ratio
	// does not follow the machine's other work.
	for range costPasses - 1 {
		again, err := gateRun(aus, dc, config.ModeAll, o, enter, queueBytes)
		if err != nil {
			return r, fmt.Errorf("%s: %w", e.Name, err)
		}
		for i, c := range again.cost {
			if c > 0 && (all.cost[i] == 0 || c < all.cost[i]) {
				all.cost[i] = c
			}
		}
	}
	auto, err := gateRun(aus, dc, config.ModeAuto, o, enter, queueBytes)
	if err != nil {
		return r, fmt.Errorf("%s: %w", e.Name, err)
	}
	for _, au := range aus {
		switch {
		case au.PTS >= still:
		case au.Key:
			r.StillKeys++
		default:
			r.StillPictures++
		}
	}
	r.StillKeysDecoded = auto.stillKeys
	r.StillDecoded = auto.stillDecoded
	if r.StillPictures > 0 {
		r.StillShare = float64(r.StillDecoded) / float64(r.StillPictures)
	}
	r.StillWakes = auto.stillWakes
	if auto.awakeAt >= 0 { // awake in the margin before Enter: no latency
		r.WakeLatency = max(auto.awakeAt-enter, 0).Seconds()
	}
	r.AllIncident, r.AutoIncident = all.incident, auto.incident
	r.IncidentDelay = auto.incident - all.incident
	r.AllFalse, r.AutoFalse = all.falseIncidents, auto.falseIncidents
	alone, err := aloneCosts(aus, dc, o, auto.alone)
	if err != nil {
		return r, fmt.Errorf("%s: %w", e.Name, err)
	}
	var costAll, costAuto time.Duration
	for i, n := range all.decoded { // counted while the clip is still
		costAll += time.Duration(n) * all.cost[i]
		costAuto += time.Duration(auto.decoded[i]-auto.alone[i])*all.cost[i] + time.Duration(auto.alone[i])*alone[i]
	}
	if costAll > 0 {
		r.CostRatio = costAuto.Seconds() / costAll.Seconds()
	}
	if all.stillPictures > 0 {
		r.PictureRatio = float64(auto.stillPictures) / float64(all.stillPictures)
	}
	return r, nil
}

// costPasses is the number of decodes of each unit in mode all that cost it.
const costPasses = 3

// aloneCosts costs each keyframe decoded alone (n[i] > 0) at the least of
// costPasses decodes alone, as an idle camera decodes it
// (pipeline.ProcessKeyframe: a reset decoder, drained; the in-loop
// filters as o.DeblockIdle says).
func aloneCosts(aus []unit.AccessUnit, codec decode.Codec, o GateOptions, n []int) ([]time.Duration, error) {
	cost := make([]time.Duration, len(aus))
	pool := decode.NewPool(1)
	defer pool.Close()
	p, err := pipeline.New(pipeline.Config{AnalysisWidth: 320, AnalysisFPS: 5, Analysis: config.DefaultAnalysis(), Decoders: pool, Sparse: true, DeblockAlone: o.DeblockIdle})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if err := p.Reset(codec); err != nil {
		return nil, err
	}
	for range costPasses {
		for i, au := range aus {
			if n[i] == 0 {
				continue
			}
			pr := p.ProcessKeyframe(au.Data, au.PTS, au.Received)
			p.Release()
			if pr.Err != nil {
				return nil, fmt.Errorf("keyframe at %s decoded alone: %w", au.PTS, pr.Err)
			}
			if cost[i] == 0 || pr.DecodeTime < cost[i] {
				cost[i] = pr.DecodeTime
			}
		}
	}
	return cost, nil
}

// stillMargin ends the still view before the entering.
const stillMargin = 500 * time.Millisecond

type gateRunResult struct {
	stillDecoded   int             // pictures beyond keyframes decoded before enter
	stillKeys      int             // keyframes decoded before enter
	stillPictures  int             // every picture decoded before enter
	decoded        []int           // times each unit was decoded before enter
	alone          []int           // of which decoded alone (ProcessKeyframe)
	cost           []time.Duration // each unit's decode time
	stillWakes     int
	awakeAt        time.Duration // first PTS at or after enter decoding all; -1 never
	incident       float64       // first motion start at or after enter, seconds; -1 none
	falseIncidents int
}

func gateRun(aus []unit.AccessUnit, codec decode.Codec, mode string, o GateOptions, enter time.Duration, queueBytes int) (gateRunResult, error) {
	res := gateRunResult{awakeAt: -1, incident: -1, decoded: make([]int, len(aus)), alone: make([]int, len(aus)), cost: make([]time.Duration, len(aus))}
	index := make(map[*byte]int, len(aus)) // a unit's index by its data
	for i, au := range aus {
		index[&au.Data[0]] = i
	}
	pool := decode.NewPool(1)
	defer pool.Close()
	p, err := pipeline.New(pipeline.Config{AnalysisWidth: 320, AnalysisFPS: 5, Analysis: config.DefaultAnalysis(), Decoders: pool, Sparse: mode != config.ModeAll, DeblockAlone: o.DeblockIdle})
	if err != nil {
		return res, err
	}
	defer p.Close()
	if err := p.Reset(codec); err != nil {
		return res, err
	}
	// The engine's bounds on a wake-up's replay.
	g := gate.New(mode, gate.NewActivity(mode, o.Activity), nil, gate.ReplayUnits, gate.ReplayBytes(queueBytes))
	g.SkipIdleKeyframes(o.Activity.KeyframeInterval)
	start := time.Unix(1e9, 0)
	var now time.Duration // PTS of the unit the gate routes
	var perr error
	push := func(au unit.AccessUnit, alone bool) {
		var pr pipeline.Result
		if au.Droppable && !alone && p.Skip(au.PTS) {
			return // as the engine's worker: no picture refers to it, the analysis would not take it
		}
		if alone {
			pr = p.ProcessKeyframe(au.Data, au.PTS, au.Received)
		} else {
			pr = p.Process(au.Data, au.PTS, au.Received)
		}
		defer p.Release()
		if pr.Err != nil && perr == nil {
			perr = pr.Err
		}
		i := index[&au.Data[0]]
		res.cost[i] = pr.DecodeTime
		if now < enter-stillMargin {
			res.decoded[i]++
			if alone {
				res.alone[i]++
			}
			if pr.Decoded {
				res.stillPictures++
			}
			if au.Key {
				res.stillKeys++
			} else {
				res.stillDecoded++
			}
		}
		if !pr.Analyzed {
			return
		}
		for _, tr := range pr.Transitions {
			if tr.Kind != analyze.KindMotion || tr.Phase != analyze.PhaseStart {
				continue
			}
			at := tr.StartedAt.Sub(start) // the analysis clock is anchored on arrival
			switch {
			case at < enter-time.Second/2: // a motion before anything moves
				res.falseIncidents++
			case res.incident < 0:
				res.incident = at.Seconds()
			}
		}
		g.Analyzed(au.PTS, p.Active())
		g.Watch(p.Watching())
		g.Hold(p.Pending())
	}
	for _, au := range aus {
		now = au.PTS
		g.Route(au, push)
		if perr != nil {
			return res, fmt.Errorf("decode at %s: %w", au.PTS, perr)
		}
		if au.PTS < enter-stillMargin {
			res.stillWakes = int(g.Wakeups())
		} else if res.awakeAt < 0 && g.DecodingAll() {
			res.awakeAt = au.PTS
		}
	}
	return res, nil
}

// PrintGate writes the per-clip table and the summary.
func PrintGate(w io.Writer, clips []GateClip) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clip\tstill decoded\twakes\twake latency\tincident all\tauto delay\tfalse (all/auto)\tkeyframes\tcost auto/all\tpictures auto/all\t")
	var cost, pics float64
	failed := 0
	for _, c := range clips {
		ok, why := c.Pass()
		if !ok {
			failed++
			why = "FAIL " + why
		}
		fmt.Fprintf(tw, "%s\t%.1f%% (%d/%d)\t%d\t%s\t%s\t%s\t%d/%d\t%d/%d\t%.3f\t%.3f\t %s\n", c.Name, 100*c.StillShare, c.StillDecoded, c.StillPictures,
			c.StillWakes, secs(c.WakeLatency), secs(c.AllIncident), delay(c), c.AllFalse, c.AutoFalse, c.StillKeysDecoded, c.StillKeys, c.CostRatio, c.PictureRatio, why)
		cost += c.CostRatio
		pics += c.PictureRatio
	}
	tw.Flush()
	if n := float64(len(clips)); n > 0 {
		fmt.Fprintf(w, "%d clips, %d fail a per-clip target; idle cost auto/all averaged %.3f (target %.2f), pictures %.3f\n",
			len(clips), failed, cost/n, GateCostRatioMax, pics/n)
	}
}

func secs(s float64) string {
	if s < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2fs", s)
}

func delay(c GateClip) string {
	switch {
	case c.AllIncident < 0:
		return "-"
	case c.AutoIncident < 0:
		return "lost"
	}
	return fmt.Sprintf("%+.2fs", math.Round(c.IncidentDelay*100)/100)
}
