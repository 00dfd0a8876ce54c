package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/engine"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/sleep"
	"github.com/vigil-video/vigil/sim"
)

// Scenario is one scored replay: a clip, the camera settings to run it
// with, and its ground truth. It is read from <name>.yaml in the
// scenarios directory.
type Scenario struct {
	Name string `yaml:"-"`
	// Clip is the H.264/H.265 recording (elementary stream or container),
	// absolute or relative to the file.
	Clip string `yaml:"clip"`
	// FPS is the clip's frame rate.
	FPS float64 `yaml:"fps"`
	// Length is how long the clip is watched (one loop at most).
	Length time.Duration `yaml:"length"`
	// Camera holds engine camera keys (zones, masks, motion, tamper, ...)
	// for this clip; id and url are set by the harness.
	Camera map[string]any `yaml:"camera"`
	// Expect lists the incidents that must be raised.
	Expect []Expectation `yaml:"expect"`
	// Forbid lists incident kinds that must not be raised (beyond the
	// expected ones).
	Forbid []string `yaml:"forbid"`
	// Present labels when an object is in view, for persistence: the
	// share of that time during which an incident of its kind is open.
	Present []Presence `yaml:"present"`
}

// Presence is a labelled object's time in view, clip offsets [from, to]
// (During), and the least persistence it must have (Min, 0: reported
// only).
type Presence struct {
	Kind   string          `yaml:"kind"`
	During []time.Duration `yaml:"during"`
	Min    float64         `yaml:"min"`
}

// Expectation is one incident of the ground truth. Times are offsets in
// the clip.
type Expectation struct {
	Kind  string `yaml:"kind"`
	Zone  string `yaml:"zone"`
	Cause string `yaml:"cause"`
	// Start is the window [from, to] in which the start event's frame must
	// fall; from is when the thing happens, so the start delay is the
	// start frame's offset minus from.
	Start []time.Duration `yaml:"start"`
	// End, when given, is the window in which ended_at (the incident's
	// last active frame) must fall.
	End []time.Duration `yaml:"end"`
}

// LoadScenarios reads every *.yaml in dir. Errors name the file and key.
func LoadScenarios(dir string) ([]Scenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("scenarios %s: no *.yaml file", dir)
	}
	sort.Strings(files)
	var out []Scenario
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var s Scenario
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", f, err)
		}
		s.Name = strings.TrimSuffix(filepath.Base(f), ".yaml")
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", f, err)
		}
		if !filepath.IsAbs(s.Clip) {
			s.Clip = filepath.Join(filepath.Dir(f), s.Clip)
		}
		out = append(out, s)
	}
	return out, nil
}

func (s *Scenario) validate() error {
	switch {
	case s.Clip == "":
		return errors.New("clip: required")
	case s.FPS <= 0:
		return errors.New("fps: must be positive")
	case s.Length <= 0:
		return errors.New("length: must be positive")
	}
	for i, e := range s.Expect {
		if e.Kind == "" {
			return fmt.Errorf("expect[%d].kind: required", i)
		}
		if !slices.Contains(incidentKinds, e.Kind) {
			return fmt.Errorf("expect[%d].kind: %q is not an incident kind (%s)", i, e.Kind, strings.Join(incidentKinds, ", "))
		}
		if len(e.Start) != 2 || e.Start[1] < e.Start[0] {
			return fmt.Errorf("expect[%d].start: want [from, to]", i)
		}
		if e.End != nil && (len(e.End) != 2 || e.End[1] < e.End[0]) {
			return fmt.Errorf("expect[%d].end: want [from, to]", i)
		}
	}
	for i, p := range s.Present {
		switch {
		case !slices.Contains(incidentKinds, p.Kind):
			return fmt.Errorf("present[%d].kind: %q is not an incident kind (%s)", i, p.Kind, strings.Join(incidentKinds, ", "))
		case len(p.During) != 2 || p.During[1] <= p.During[0] || p.During[0] < 0:
			return fmt.Errorf("present[%d].during: want [from, to], from < to", i)
		case p.During[1] > s.Length:
			return fmt.Errorf("present[%d].during: ends after length (%v)", i, s.Length)
		case p.Min < 0 || p.Min > 1:
			return fmt.Errorf("present[%d].min: want a share, 0 to 1", i)
		}
	}
	for i, k := range s.Forbid {
		// A misspelt kind would forbid nothing, and the scenario pass
		// whatever the engine raised.
		if !slices.Contains(incidentKinds, k) {
			return fmt.Errorf("forbid[%d]: %q is not an incident kind (%s)", i, k, strings.Join(incidentKinds, ", "))
		}
	}
	return nil
}

// incidentKinds are the kinds a scenario may expect or forbid.
var incidentKinds = []string{analyze.KindMotion, analyze.KindIntrusion, analyze.KindPerson, analyze.KindVehicle,
	analyze.KindCrowd, analyze.KindLoitering, analyze.KindTamper, health.KindCameraOffline, health.KindAnalysisStalled}

// AccuracyOptions configures Accuracy.
type AccuracyOptions struct {
	// DecodeMode is the cameras' decode_mode ("" keeps the default, auto).
	DecodeMode string
	// KeyframeInterval, when set, is every camera's
	// activity.keyframe_interval (nil keeps each scenario's, else the
	// default).
	KeyframeInterval *time.Duration
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// Model is the object network's model (objects.model): when the file
	// is there, people come from the network; otherwise from HOG (the
	// scenarios' person settings). "" is the default path.
	Model string
	// NoFirstLook sets objects.first_look false: cameras ask the network
	// on motion only.
	NoFirstLook bool
}

// Observed is an incident raised during a scenario, in clip offsets.
type Observed struct {
	Kind  string `json:"kind"`
	Zone  string `json:"zone,omitempty"`
	Cause string `json:"cause,omitempty"`
	// Start is the start event's frame; StartedAt the incident's first
	// frame; End its ended_at, -1 if still open when the clip ended.
	Start     time.Duration `json:"start_ns"`
	StartedAt time.Duration `json:"started_at_ns"`
	End       time.Duration `json:"end_ns"`
	Matched   bool          `json:"matched"`
}

// ScenarioResult is one scenario's outcome.
type ScenarioResult struct {
	Name     string     `json:"name"`
	Pass     bool       `json:"pass"`
	Failures []string   `json:"failures,omitempty"`
	Observed []Observed `json:"observed"`
	// Hours is the camera time watched.
	Hours float64 `json:"hours"`
	// Delays are the start delays of matched incidents, by kind.
	Delays map[string][]time.Duration `json:"delays_ns"`
	// Present and Covered are, by kind, the labelled time in view and the
	// part of it during which an incident of the kind was open (from its
	// start event to its end, or the scenario's end).
	Present map[string]time.Duration `json:"present_ns,omitempty"`
	Covered map[string]time.Duration `json:"covered_ns,omitempty"`
	tp, fp  map[string]int
	fn      map[string]int
}

// KindScore is one incident kind's score over all scenarios.
type KindScore struct {
	Kind      string  `json:"kind"`
	Expected  int     `json:"expected"`
	Found     int     `json:"found"` // true positives
	False     int     `json:"false_alarms"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// DelayMedian and DelayMax are start delays in seconds.
	DelayMedian float64 `json:"start_delay_median_s"`
	DelayMax    float64 `json:"start_delay_max_s"`
	// FalsePerHour is false alarms per camera-hour watched.
	FalsePerHour float64 `json:"false_alarms_per_camera_hour"`
	// Persistence is the share of the labelled time in view (Present)
	// during which an incident of the kind was open; -1 without labels.
	Persistence float64 `json:"persistence"`
	PresentSecs float64 `json:"present_s"`
}

// AccuracyResult is the scored replay of a scenario set.
type AccuracyResult struct {
	DecodeMode string `json:"decode_mode"`
	// People is what found people: "network" or "hog".
	People    string           `json:"people"`
	Scenarios []ScenarioResult `json:"scenarios"`
	Kinds     []KindScore      `json:"kinds"`
	Failed    int              `json:"failed"`
}

// Accuracy runs the scenarios through the real engine path, all at once,
// one camera each: the project's RTSP simulator serves the clips over
// loopback, the engine pulls, decodes and analyzes them, and its incident
// events are scored against the ground truth.
func Accuracy(ctx context.Context, scenarios []Scenario, o AccuracyOptions) (*AccuracyResult, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var cams []sim.Camera
	var longest time.Duration
	for _, s := range scenarios {
		clip, err := sim.LoadClip(s.Clip, s.FPS)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		if s.Length > clip.Duration() {
			return nil, fmt.Errorf("scenario %s: length %v is longer than the clip (%v)", s.Name, s.Length, clip.Duration())
		}
		cams = append(cams, sim.Camera{Path: s.Name, Clip: clip})
		longest = max(longest, s.Length)
	}
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", Cameras: cams, Logger: log.With("component", "sim")})
	if err != nil {
		return nil, err
	}
	defer srv.Close()

	doc := map[string]any{"listen": "127.0.0.1:0"}
	model := o.Model
	if model == "" {
		model = config.DefaultModelPath
	}
	people := "hog"
	if _, err := os.Stat(model); err == nil {
		doc["objects"] = map[string]any{"enabled": true, "model": model, "first_look": !o.NoFirstLook}
		people = "network"
	} else {
		doc["objects"] = map[string]any{"enabled": false}
	}
	var list []map[string]any
	for _, s := range scenarios {
		c := map[string]any{}
		for k, v := range s.Camera {
			c[k] = v
		}
		c["id"], c["url"] = s.Name, srv.URL(s.Name)
		if o.DecodeMode != "" {
			c["decode_mode"] = o.DecodeMode
		}
		if o.KeyframeInterval != nil {
			act, _ := c["activity"].(map[string]any)
			act = maps.Clone(act)
			if act == nil {
				act = map[string]any{}
			}
			act["keyframe_interval"] = o.KeyframeInterval.String()
			c["activity"] = act
		}
		list = append(list, c)
	}
	doc["cameras"] = list
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("scenario camera settings: %w", err)
	}
	evDir, err := os.MkdirTemp("", "vigil-accuracy-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(evDir)
	ec := config.DefaultEvidence()
	ec.Dir = evDir
	store, err := evidence.Open(ec)
	if err != nil {
		return nil, err
	}
	col := &incidenttest.Memory{}
	e, err := engine.New(cfg, engine.Options{Logger: log, Events: col, Evidence: store})
	if err != nil {
		return nil, err
	}
	if err := e.Start(); err != nil {
		e.Close()
		return nil, err
	}
	// Watch the longest clip from its first frame; the clock starts when
	// the simulator starts playing.
	deadline := time.Now().Add(longest + 15*time.Second)
	for time.Now().Before(deadline) {
		started := true
		var last time.Time
		for _, s := range scenarios {
			rs := srv.RunStart(s.Name)
			started = started && !rs.IsZero()
			if rs.After(last) {
				last = rs
			}
		}
		if started && time.Since(last) >= longest {
			break
		}
		if !sleep.For(ctx, 100*time.Millisecond) {
			e.Close()
			return nil, ctx.Err()
		}
	}
	stopped := time.Now()
	e.Close()
	if err := e.Wait(); err != nil {
		return nil, err
	}
	evs := col.Events()

	res := &AccuracyResult{DecodeMode: o.DecodeMode, People: people}
	if res.DecodeMode == "" {
		res.DecodeMode = config.DefaultCamera().DecodeMode
	}
	for _, s := range scenarios {
		base := srv.RunStart(s.Name)
		res.Scenarios = append(res.Scenarios, score(s, base, stopped, evs))
	}
	res.Kinds = kindScores(res.Scenarios)
	for _, r := range res.Scenarios {
		if !r.Pass {
			res.Failed++
		}
	}
	return res, nil
}

// score matches a scenario's incidents (clip offsets from base) with its
// ground truth.
func score(s Scenario, base, stopped time.Time, evs []incident.Event) ScenarioResult {
	r := ScenarioResult{Name: s.Name, Delays: map[string][]time.Duration{},
		tp: map[string]int{}, fp: map[string]int{}, fn: map[string]int{}}
	if base.IsZero() {
		r.Failures = append(r.Failures, "the camera never played")
		persistence(&r, s, 0) // its labelled time counts, uncovered
		return r
	}
	r.Hours = min(stopped.Sub(base), s.Length).Hours()
	byID := map[string]int{}
	for _, ev := range evs {
		d := ev.Data
		if d.Camera != s.Name || d.Kind == "camera_offline" {
			continue
		}
		switch ev.Type {
		case incident.TypeStart:
			if d.FrameTime.Sub(base) > s.Length {
				// Past the scenario's own length: the clip goes on (or
				// loops) while longer scenarios play; it is not scored.
				continue
			}
			byID[d.IncidentID] = len(r.Observed)
			r.Observed = append(r.Observed, Observed{Kind: d.Kind, Zone: d.Zone, Cause: d.Cause,
				Start: d.FrameTime.Sub(base), StartedAt: d.StartedAt.Sub(base), End: -1})
		case incident.TypeEnd:
			if i, ok := byID[d.IncidentID]; ok && d.EndedAt != nil && d.EndedAt.Before(base.Add(s.Length)) &&
				!d.EndedAt.After(stopped.Add(-time.Second)) {
				r.Observed[i].End = d.EndedAt.Sub(base)
			}
		}
	}
	for _, e := range s.Expect {
		found := -1
		for i, o := range r.Observed {
			if o.Matched || o.Kind != e.Kind || (e.Zone != "" && o.Zone != e.Zone) || (e.Cause != "" && o.Cause != e.Cause) {
				continue
			}
			if o.Start >= e.Start[0] && o.Start <= e.Start[1] {
				found = i
				break
			}
		}
		what := e.Kind + suffix(e.Zone, e.Cause)
		if found < 0 {
			r.fn[e.Kind]++
			r.Failures = append(r.Failures, fmt.Sprintf("%s: no start in [%v, %v]", what, e.Start[0], e.Start[1]))
			continue
		}
		o := &r.Observed[found]
		o.Matched = true
		if e.End != nil && (o.End < e.End[0] || o.End > e.End[1]) {
			r.fn[e.Kind]++
			end := "still open"
			if o.End >= 0 {
				end = o.End.String()
			}
			r.Failures = append(r.Failures, fmt.Sprintf("%s: ended at %s, want [%v, %v]", what, end, e.End[0], e.End[1]))
			continue
		}
		r.tp[e.Kind]++
		r.Delays[e.Kind] = append(r.Delays[e.Kind], o.Start-e.Start[0])
	}
	persistence(&r, s, min(stopped.Sub(base), s.Length))
	for _, o := range r.Observed {
		if o.Matched {
			continue
		}
		expected := slices.ContainsFunc(s.Expect, func(e Expectation) bool { return e.Kind == o.Kind })
		if expected || slices.Contains(s.Forbid, o.Kind) {
			r.fp[o.Kind]++
			r.Failures = append(r.Failures, fmt.Sprintf("false %s%s at %v", o.Kind, suffix(o.Zone, o.Cause), o.Start.Round(time.Millisecond)))
		}
	}
	r.Pass = len(r.Failures) == 0
	return r
}

// persistence sums, for each labelled presence, its time in view and the
// part of it an incident of its kind covered (watched: how much of the
// scenario was watched), and fails the scenario where a presence's share
// is under its Min. Presences that overlap count each (time weighted by
// object).
func persistence(r *ScenarioResult, s Scenario, watched time.Duration) {
	for _, p := range s.Present {
		from, to := p.During[0], p.During[1]
		// The incidents' open spans, clipped to the presence and to what
		// was watched (an incident open at the end counts to the
		// scenario's end or the engine's stop), merged.
		var spans [][2]time.Duration
		for _, o := range r.Observed {
			if o.Kind != p.Kind {
				continue
			}
			end := o.End
			if end < 0 {
				end = watched
			}
			a, b := max(o.Start, from), min(end, to)
			if b > a {
				spans = append(spans, [2]time.Duration{a, b})
			}
		}
		slices.SortFunc(spans, func(x, y [2]time.Duration) int { return cmp.Compare(x[0], y[0]) })
		var covered, reach time.Duration
		reach = from
		for _, sp := range spans {
			a := max(sp[0], reach)
			if sp[1] > a {
				covered += sp[1] - a
				reach = sp[1]
			}
		}
		if r.Present == nil {
			r.Present, r.Covered = map[string]time.Duration{}, map[string]time.Duration{}
		}
		r.Present[p.Kind] += to - from
		r.Covered[p.Kind] += covered
		if share := float64(covered) / float64(to-from); share < p.Min {
			r.Failures = append(r.Failures, fmt.Sprintf("%s in view [%v, %v]: an incident open %.0f%% of the time, want %.0f%%",
				p.Kind, from, to, 100*share, 100*p.Min))
		}
	}
}

func suffix(zone, cause string) string {
	var parts []string
	if zone != "" {
		parts = append(parts, "zone "+zone)
	}
	if cause != "" {
		parts = append(parts, cause)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// kindScores sums the scenarios by kind.
func kindScores(rs []ScenarioResult) []KindScore {
	kinds := map[string]*KindScore{}
	delays := map[string][]time.Duration{}
	present, covered := map[string]time.Duration{}, map[string]time.Duration{}
	var hours float64
	get := func(k string) *KindScore {
		if kinds[k] == nil {
			kinds[k] = &KindScore{Kind: k}
		}
		return kinds[k]
	}
	for _, r := range rs {
		hours += r.Hours
		for k, n := range r.tp {
			get(k).Found += n
			get(k).Expected += n
		}
		for k, n := range r.fn {
			get(k).Expected += n
		}
		for k, n := range r.fp {
			get(k).False += n
		}
		for k, d := range r.Delays {
			delays[k] = append(delays[k], d...)
		}
		for k, d := range r.Present {
			present[k] += d
			covered[k] += r.Covered[k]
			get(k)
		}
	}
	var out []KindScore
	for k, s := range kinds {
		s.Precision, s.Recall = 1, 1
		if s.Found+s.False > 0 {
			s.Precision = float64(s.Found) / float64(s.Found+s.False)
		}
		if s.Expected > 0 {
			s.Recall = float64(s.Found) / float64(s.Expected)
		}
		if d := delays[k]; len(d) > 0 {
			slices.Sort(d)
			s.DelayMedian = d[len(d)/2].Seconds()
			s.DelayMax = d[len(d)-1].Seconds()
		}
		if hours > 0 {
			s.FalsePerHour = float64(s.False) / hours
		}
		s.Persistence = -1
		if p := present[k]; p > 0 {
			s.Persistence, s.PresentSecs = float64(covered[k])/float64(p), p.Seconds()
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b KindScore) int { return strings.Compare(a.Kind, b.Kind) })
	return out
}

// PrintAccuracy writes the per-scenario outcome and the per-kind scores.
func PrintAccuracy(w io.Writer, r *AccuracyResult) {
	if r.People != "" {
		fmt.Fprintf(w, "people by: %s\n", r.People)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\tresult\tincidents (kind@start..end, clip seconds)\n")
	for _, s := range r.Scenarios {
		res := "pass"
		if !s.Pass {
			res = "FAIL: " + strings.Join(s.Failures, "; ")
		}
		var inc []string
		for _, o := range s.Observed {
			end := "open"
			if o.End >= 0 {
				end = fmt.Sprintf("%.2f", o.End.Seconds())
			}
			inc = append(inc, fmt.Sprintf("%s%s@%.2f..%s", o.Kind, suffix(o.Zone, o.Cause), o.Start.Seconds(), end))
		}
		if len(inc) == 0 {
			inc = []string{"none"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, res, strings.Join(inc, ", "))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "kind\texpected\tfound\tfalse\tprecision\trecall\tstart delay median\tmax\tfalse/camera-hour\tpersistence (labelled time)\n")
	for _, k := range r.Kinds {
		pers := "-"
		if k.Persistence >= 0 {
			pers = fmt.Sprintf("%.2f (%.1fs)", k.Persistence, k.PresentSecs)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\t%.2f\t%.2fs\t%.2fs\t%.1f\t%s\n", k.Kind, k.Expected, k.Found, k.False,
			k.Precision, k.Recall, k.DelayMedian, k.DelayMax, k.FalsePerHour, pers)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d of %d scenarios passed (decode mode %s)\n", len(r.Scenarios)-r.Failed, len(r.Scenarios), r.DecodeMode)
}
