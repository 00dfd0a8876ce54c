package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-video/vigil/gate"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/cpuload"
	"github.com/vigil-video/vigil/internal/sleep"
	"github.com/vigil-video/vigil/metrics"
	"github.com/vigil-video/vigil/sched"
	"github.com/vigil-video/vigil/sim"
)

// LiveOptions are the settings of `vigil bench live`.
type LiveOptions struct {
	// Binary is the vigil executable started as the simulator and the
	// engine. It defaults to the running executable.
	Binary string
	// Cameras is the number of simulated cameras.
	Cameras int
	// Clips assigns clips to cameras as `vigil sim --clips` does.
	Clips string
	// Duration is the measurement window, after the warm-up.
	Duration time.Duration
	// Warmup is waited after every camera streams, before measuring.
	Warmup time.Duration
	// DecodeMode is written into every camera's configuration when set.
	DecodeMode string
	// UDP makes the cameras use the UDP transport.
	UDP bool
	// Stagger starts the simulator's cameras of each clip at its
	// keyframes in turn (vigil sim --stagger): their people walk in at
	// different times, not all at once.
	Stagger bool
	// DropThreshold is the largest share of frames dropped that still
	// counts as sustained in real time.
	DropThreshold float64
	// Progress receives progress (see newProgress); nil is silent.
	Progress *progress
	// Logs receives the children's stderr; nil discards it.
	Logs io.Writer
	// FFmpegReference also runs `ffmpeg -threads 1 -i CLIP -f null -` on the
	// clips of the mix, for the CPU ratio.
	FFmpegReference bool
	// Person turns person detection on in every camera (person.enabled),
	// for PersonDelay, with the network asked on motion only
	// (objects.first_look: false).
	Person bool
	// FirstLook (with Person) keeps objects.first_look on, the engine's
	// default: every camera looks at its picture when it starts, and
	// re-checks the people standing in its still view about once a
	// second, as they compete for the budget in a city.
	FirstLook bool
	// Objects sets the engine's object network: "" keeps its default
	// (on, its budget following the machine), "off" turns it off
	// (objects.enabled: false), a number fixes its budget
	// (objects.max_per_second), so that runs compare at the same
	// inference work.
	Objects string
	// Server serves the cameras: ServerSim ("" too), vigil's simulator;
	// ServerGst, GStreamer's RTSP server (scripts/gst-rtsp-server.py),
	// each clip looped in a Matroska copy. With ServerGst,
	// FFmpegReference runs one `ffmpeg -threads 1 -f null` per camera
	// through the same server, after the engine, instead of on the files.
	Server string
	// FFmpegBeside (with ServerGst and FFmpegReference) runs the ffmpeg
	// processes through the server at the same time as the engine, their
	// windows together, instead of after it: both see the same load from
	// the machine's other users, which on a shared machine moves either
	// alone by ±10% from run to run. The machine carries both: pick a
	// camera count that leaves it headroom.
	FFmpegBeside bool
}

// ParseObjects checks an Objects value ("", "off" or a budget in
// 0.1..1000 inferences per second).
func ParseObjects(v string) error {
	if v == "" || v == "off" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0.1 && f <= 1000) {
		return fmt.Errorf("%q is not off or a budget in 0.1..1000 inferences per second", v)
	}
	return nil
}

// LiveResult is one `vigil bench live` run (JSON schema: bench/doc.go).
type LiveResult struct {
	Cameras    int    `json:"cameras"`
	Clips      string `json:"clips"`
	DecodeMode string `json:"decode_mode"`
	Transport  string `json:"transport"`
	// Server is what served the cameras: "sim" or "gst" (GStreamer's
	// RTSP server). Simulator then measures that server.
	Server          string  `json:"server"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Engine and Simulator are measured from outside, through /proc.
	Engine    ProcStats `json:"engine"`
	Simulator ProcStats `json:"simulator"`
	// Frames over the window, summed over cameras, from the engine's metrics.
	FramesReceived float64 `json:"frames_received"`
	FramesDecoded  float64 `json:"frames_decoded"`
	FramesAnalyzed float64 `json:"frames_analyzed"`
	FramesSkipped  float64 `json:"frames_skipped"`
	FramesDropped  float64 `json:"frames_dropped"`
	// SimulatorSent is the access units the simulator sent over its life;
	// EngineReceivedTotal what the engine received over its life.
	SimulatorSent       float64 `json:"simulator_sent"`
	EngineReceivedTotal float64 `json:"engine_received_total"`
	// DropRatio is dropped / (received - skipped): the share of the frames
	// meant for decoding that overload shed.
	DropRatio float64 `json:"drop_ratio"`
	// LagMidSeconds and LagEndSeconds are the largest receipt-to-processing
	// lag over cameras at the middle and the end of the window.
	LagMidSeconds float64 `json:"lag_mid_seconds"`
	LagEndSeconds float64 `json:"lag_end_seconds"`
	CamerasUp     int     `json:"cameras_up"`
	// ScrapeRetries counts /metrics scrapes that had to be retried (a slow
	// engine on a loaded machine); ScrapeFailed names the samples that
	// could not be read at all, whose figures are then missing (zero), the
	// run going on.
	ScrapeRetries int      `json:"scrape_retries,omitempty"`
	ScrapeFailed  []string `json:"scrape_failed,omitempty"`
	// Incidents counts incident start events read from the engine's stdout
	// during the run; Latency is from each start event's frame time (the
	// simulator's send time, from its RTCP sender reports) to the moment the
	// event was read.
	Incidents int          `json:"incidents"`
	Latency   LatencyStats `json:"latency_ms"`
	// PersonDelay (with LiveOptions.Person) is, for each motion incident
	// started during the window, the time from its start (started_at) to
	// the frame time of the camera's first person incident start after
	// it; PersonMissed counts the motion incidents followed by no person
	// incident before the camera's next motion incident or the window's
	// end.
	PersonDelay  LatencyStats `json:"person_delay_ms"`
	PersonMissed int          `json:"person_missed"`
	// PersonWaiting counts, of PersonMissed, the motion incidents still
	// waiting for a person incident when the window ended, and
	// PersonWaitedMaxMS is the longest of those waits: a walk that began
	// in the window's last second is counted missed but is one of these.
	PersonWaiting     int     `json:"person_waiting_at_end"`
	PersonWaitedMaxMS float64 `json:"person_waited_max_ms"`
	// PersonAlreadyOpen counts the motion incidents that started while
	// their camera had a person incident open (not timed, not missed).
	PersonAlreadyOpen int `json:"person_already_open"`
	// PersonCameras (with LiveOptions.Person) counts the cameras with a
	// person incident open at some time in the window (open at its start,
	// or started in it): with a clip of people looped, the cameras served.
	PersonCameras int `json:"person_cameras"`
	// Waits is, per kind of inference request (analyze.RequestKinds:
	// first, motion, leave, follow, look, recheck), the inferences run over the window
	// and how many of them started within 1 s of the camera's request
	// (vigil_objects_wait_seconds); StaleSheds the requests dropped for
	// having waited over 2 s (vigil_objects_shed_total{reason="stale"});
	// CrowdedSheds the re-checks not built, as they would have gone stale
	// ({reason="crowded"}).
	Waits        map[string]WaitStats `json:"waits,omitempty"`
	StaleSheds   float64              `json:"stale_sheds"`
	CrowdedSheds float64              `json:"crowded_sheds"`
	// StepsMid and StepsEnd count the cameras of each clip at each rung
	// of the overload ladder (vigil_camera_overload_step) at the middle
	// and the end of the window: clip → step name → cameras.
	StepsMid map[string]map[string]int `json:"steps_mid,omitempty"`
	StepsEnd map[string]map[string]int `json:"steps_end,omitempty"`
	// IdleFloorMid and IdleFloorEnd are the engine's idle floor then
	// (vigil_overload_idle_floor: 0 full to 3 sparse; absent before it
	// existed).
	IdleFloorMid float64 `json:"idle_floor_mid"`
	IdleFloorEnd float64 `json:"idle_floor_end"`
	// Wakeups and WakeupsRejected are mode auto's wake-ups over the window
	// per clip (vigil_camera_wakeups_total, and those the pixels rejected:
	// vigil_camera_wakeups_rejected_total); WakeupsDeferred the wakes that
	// waited for room to verify (vigil_camera_wakeups_deferred_total).
	Wakeups         map[string]float64 `json:"wakeups,omitempty"`
	WakeupsRejected map[string]float64 `json:"wakeups_rejected,omitempty"`
	WakeupsDeferred map[string]float64 `json:"wakeups_deferred,omitempty"`
	// KeyframesAlone counts the keyframes decoded on their own over the
	// window, by reason (vigil_keyframes_decoded_alone_total: why idle
	// cameras decode what they do).
	KeyframesAlone map[string]float64 `json:"keyframes_alone,omitempty"`
	// MachineLoad is the share of the machine's CPU time busy over the
	// window (all processes, /proc/stat); Inferences the object network's
	// inferences over it; BudgetMid and BudgetEnd its budget
	// (vigil_objects_budget_per_second, absent before it existed).
	MachineLoad float64 `json:"machine_load"`
	Inferences  float64 `json:"inferences"`
	BudgetMid   float64 `json:"budget_mid"`
	BudgetEnd   float64 `json:"budget_end"`
	// NetworkCores is the object network's time over the window
	// (vigil_objects_inference_duration_seconds, one thread per
	// inference) per second: its CPU, or more on a saturated machine.
	// EngineCoresWithoutNetwork is Engine.Cores less it; Objects the
	// option the run had ("" the default), FirstLook whether the cameras
	// looked at their still views (LiveOptions.FirstLook).
	NetworkCores              float64 `json:"network_cores"`
	EngineCoresWithoutNetwork float64 `json:"engine_cores_without_network"`
	Objects                   string  `json:"objects,omitempty"`
	FirstLook                 bool    `json:"first_look,omitempty"`
	// FFmpegCoresPerCamera is the CPU of `ffmpeg -threads 1 -i CLIP -f null -`
	// on the cameras' clips, per camera in real time (at the clip's frame rate), weighted by
	// the mix; CPURatioToFFmpeg is the engine's cores per camera over it.
	// With the GStreamer server, ffmpeg reads each camera's stream over
	// RTSP from it (FFmpegSource "rtsp") and FFmpegFPS is the frames per
	// second per camera it decoded in the window; otherwise it reads the
	// clip files (FFmpegSource "file"). CPURatioToFFmpegWithoutNetwork
	// is EngineCoresWithoutNetwork per camera over it.
	// FFmpegFileCoresPerCamera is the file figure in every run with the
	// reference; with the GStreamer server CPURatioToFFmpegFile is
	// EngineCoresWithoutNetwork per camera over it (ffmpeg then pays no
	// RTSP; and on a server that sends a keyframe's slices each with
	// parameter sets, as GStreamer's does, ffmpeg through RTSP decodes
	// each slice as a picture of its own).
	FFmpegCoresPerCamera           float64 `json:"ffmpeg_cores_per_camera,omitempty"`
	FFmpegSource                   string  `json:"ffmpeg_source,omitempty"`
	FFmpegFPS                      float64 `json:"ffmpeg_fps,omitempty"`
	CPURatioToFFmpeg               float64 `json:"cpu_ratio_to_ffmpeg,omitempty"`
	CPURatioToFFmpegWithoutNetwork float64 `json:"cpu_ratio_to_ffmpeg_without_network,omitempty"`
	FFmpegFileCoresPerCamera       float64 `json:"ffmpeg_file_cores_per_camera,omitempty"`
	// FFmpegWindowOffsetSeconds is when ffmpeg's window through the
	// server started, from the engine's: near 0 with FFmpegBeside (the
	// same seconds of the machine), the engine's window and ffmpeg's
	// warm-up later without.
	FFmpegWindowOffsetSeconds float64 `json:"ffmpeg_window_offset_seconds,omitempty"`
	// FFmpegError says why a reference is missing (the run's other
	// figures stand).
	FFmpegError          string  `json:"ffmpeg_error,omitempty"`
	CPURatioToFFmpegFile float64 `json:"cpu_ratio_to_ffmpeg_file,omitempty"`
	// Sustained: drop ratio under the threshold, lag not growing, every
	// camera up.
	Sustained bool   `json:"sustained"`
	Verdict   string `json:"verdict"`
}

// WaitStats counts inferences of one kind of request: those run and
// those started within 1 s of the request.
type WaitStats struct {
	Served   float64 `json:"served"`
	Within1s float64 `json:"within_1s"`
}

// LatencyStats are percentiles in milliseconds.
type LatencyStats struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func latencyStats(ms []float64) LatencyStats {
	if len(ms) == 0 {
		return LatencyStats{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	q := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return LatencyStats{N: len(s), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: s[len(s)-1]}
}

// simChild is a running `vigil sim`.
type simChild struct {
	*child
	urls    []string
	clips   []string // the clip of each camera, by index
	summary chan string
}

func startSimChild(ctx context.Context, bin string, n int, clips string, udp, stagger bool, logs io.Writer) (*simChild, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"sim", "--addr", addr, "--cameras", strconv.Itoa(n), "--clips", clips}
	if udp {
		args = append(args, "--udp")
	}
	if stagger {
		args = append(args, "--stagger")
	}
	c, out, err := startChild(ctx, bin, args, nil, logs, true)
	if err != nil {
		return nil, err
	}
	s := &simChild{child: c, summary: make(chan string, 1)}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		isReady := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "ready":
				isReady = true
				ready <- nil
			case strings.HasPrefix(line, "summary "):
				s.summary <- strings.TrimPrefix(line, "summary ")
			case !isReady:
				url, clip, _ := strings.Cut(line, " ")
				s.urls = append(s.urls, url)
				s.clips = append(s.clips, clip)
			}
		}
		if !isReady {
			ready <- errors.New("simulator exited before it was ready")
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			c.stop(time.Second)
			return nil, err
		}
	case <-time.After(60 * time.Second):
		c.stop(time.Second)
		return nil, errors.New("simulator not ready after 60s")
	}
	return s, nil
}

// sent stops the simulator and returns the access units it sent.
func (s *simChild) stopAndCount() float64 {
	s.stop(5 * time.Second)
	select {
	case line := <-s.summary:
		var v struct {
			Sent float64 `json:"sent_access_units"`
		}
		if json.Unmarshal([]byte(line), &v) == nil {
			return v.Sent
		}
	case <-time.After(2 * time.Second):
	}
	return 0
}

// engineChild is a running `vigil run` and what its stdout said.
type engineChild struct {
	*child
	addr string
	dir  string

	mu        sync.Mutex
	incidents int
	latencyMS []float64
	measuring bool
	// motionAt is each camera's latest motion start awaiting a person
	// incident (PersonDelay).
	motionAt      map[string]time.Time
	personMS      []float64
	personMissed  int
	personAlready int // motion incidents started with a person incident open
	// personOpen counts each camera's person incidents open (all the run);
	// personSeen holds the cameras with one open in the window.
	personOpen map[string]int
	personSeen map[string]bool
}

// engineOptions are what engineConfig writes beside the cameras' URLs.
type engineOptions struct {
	mode      string // decode_mode, "" for the engine's
	udp       bool
	person    bool   // person.enabled on every camera, with first_look off unless firstLook
	firstLook bool   // with person: objects.first_look stays on (the engine's default)
	objects   string // as LiveOptions.Objects
}

func startEngineChild(ctx context.Context, bin string, urls []string, eo engineOptions, logs io.Writer) (*engineChild, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vigil-bench-")
	if err != nil {
		return nil, err
	}
	text := engineConfig(addr, dir, urls, eo)
	cfg := filepath.Join(dir, "cameras.yaml")
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c, out, err := startChild(ctx, bin, []string{"run", "--config", cfg, "--log-level", "warn"}, nil, logs, true)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e := newEngineEvents()
	e.child, e.addr, e.dir = c, addr, dir
	go e.readEvents(out)
	return e, nil
}

// engineConfig is the engine child's configuration: its listen address,
// its state under dir, one camera per URL.
func engineConfig(addr, dir string, urls []string, eo engineOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\noutbox: {path: %q}\nevidence: {dir: %q}\n", addr,
		filepath.Join(dir, "outbox.db"), filepath.Join(dir, "evidence"))
	// With person on, PersonDelay is the time from motion to person: the
	// cameras ask on motion only, as the clips' still views hold people
	// standing from the start, whom a first look (objects.first_look)
	// would report before anything moved; firstLook keeps the looks (and
	// the re-checks of the people they find), as the engine's default.
	mode, udp, person, objects := eo.mode, eo.udp, eo.person, eo.objects
	look := ""
	if person && !eo.firstLook {
		look = ", first_look: false"
	}
	switch objects {
	case "":
		if look != "" {
			b.WriteString("objects: {first_look: false}\n")
		}
	case "off":
		b.WriteString("objects: {enabled: false}\n")
	default:
		fmt.Fprintf(&b, "objects: {max_per_second: %s%s}\n", objects, look)
	}
	b.WriteString("cameras:\n")
	for i, u := range urls {
		fmt.Fprintf(&b, "  - id: cam%03d\n    url: %q\n", i+1, u)
		if mode != "" {
			fmt.Fprintf(&b, "    decode_mode: %s\n", mode)
		}
		if udp {
			b.WriteString("    transport: udp\n")
		}
		if person {
			b.WriteString("    person: {enabled: true}\n")
		}
	}
	return b.String()
}

// newEngineEvents returns an engineChild ready to read events, with no
// process yet.
func newEngineEvents() *engineChild {
	return &engineChild{motionAt: map[string]time.Time{}, personOpen: map[string]int{}, personSeen: map[string]bool{}}
}

// readEvents reads incident events from the engine's stdout.
func (e *engineChild) readEvents(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		now := time.Now()
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Camera          string    `json:"camera"`
				StartedAt       time.Time `json:"started_at"`
				FrameTime       time.Time `json:"frame_time"`
				FrameTimeSource string    `json:"frame_time_source"`
				Kind            string    `json:"kind"`
			} `json:"data"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		start := ev.Type == incident.TypeStart
		e.mu.Lock()
		if ev.Data.Kind == "person" {
			switch {
			case start:
				e.personOpen[ev.Data.Camera]++
				if e.measuring {
					e.personSeen[ev.Data.Camera] = true
				}
			case ev.Type == incident.TypeEnd && e.personOpen[ev.Data.Camera] > 0:
				e.personOpen[ev.Data.Camera]--
			}
		}
		if e.measuring && start && ev.Data.Kind != "camera_offline" {
			e.incidents++
			if ev.Data.FrameTimeSource == "rtcp" {
				e.latencyMS = append(e.latencyMS, float64(now.Sub(ev.Data.FrameTime).Microseconds())/1000)
			}
			e.personDelay(ev.Data.Camera, ev.Data.Kind, ev.Data.StartedAt, ev.Data.FrameTime)
		}
		e.mu.Unlock()
	}
}

// startMeasuring opens the window: incidents count from now, and the
// cameras with a person incident open are served.
func (e *engineChild) startMeasuring() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.measuring = true
	for c, n := range e.personOpen {
		if n > 0 {
			e.personSeen[c] = true
		}
	}
}

// personDelay follows one incident start for PersonDelay (e.mu held).
func (e *engineChild) personDelay(camera, kind string, startedAt, frameTime time.Time) {
	switch kind {
	case "motion":
		if _, waiting := e.motionAt[camera]; waiting {
			e.personMissed++
			delete(e.motionAt, camera)
		}
		if e.personOpen[camera] > 0 {
			// Someone is reported there already (people standing in
			// view, or the last walk's): nothing to time.
			e.personAlready++
			return
		}
		e.motionAt[camera] = startedAt
	case "person":
		if at, ok := e.motionAt[camera]; ok {
			e.personMS = append(e.personMS, float64(frameTime.Sub(at).Microseconds())/1000)
			delete(e.motionAt, camera)
		}
	}
}

func (e *engineChild) close() {
	e.stop(10 * time.Second)
	os.RemoveAll(e.dir)
}

// Live runs the simulator and the engine as separate processes and
// measures the engine from outside.
func Live(ctx context.Context, bin string, o LiveOptions) (*LiveResult, error) {
	if o.Cameras < 1 {
		return nil, fmt.Errorf("cameras: %d must be at least 1", o.Cameras)
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.DropThreshold <= 0 {
		o.DropThreshold = 0.005
	}
	if o.Clips == "" {
		o.Clips = "motion=10%,static"
	}
	logs := o.Logs
	if logs == nil {
		logs = io.Discard
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.Server == "" {
		o.Server = ServerSim
	}
	res := &LiveResult{Cameras: o.Cameras, Clips: o.Clips, DecodeMode: o.DecodeMode, Transport: "tcp", Server: o.Server}
	if o.UDP {
		res.Transport = "udp"
	}
	if res.DecodeMode == "" {
		res.DecodeMode = "default"
	}
	o.Progress.step(fmt.Sprintf("live %d cameras: starting the server (%s)", o.Cameras, o.Server), 0)
	// The GStreamer server's clips last the warm-up, the window and,
	// after the engine, ffmpeg's warm-up and window.
	src, err := startSource(ctx, bin, o.Server, o.Cameras, o.Clips, o.UDP, o.Stagger, o.Warmup+o.Duration+ffmpegThroughWarmup+o.Duration, logs)
	if err != nil {
		return nil, err
	}
	res.Server = src.server
	defer src.stop()
	eng, err := startEngineChild(ctx, bin, src.urls, engineOptions{mode: o.DecodeMode, udp: o.UDP, person: o.Person, firstLook: o.FirstLook, objects: o.Objects}, logs)
	if err != nil {
		return nil, err
	}
	defer eng.close()

	client := &http.Client{Timeout: 10 * time.Second}
	o.Progress.step(fmt.Sprintf("live %d cameras: waiting for every camera", o.Cameras), 0)
	deadline := time.Now().Add(60*time.Second + time.Duration(o.Cameras)*50*time.Millisecond)
	for {
		s, err := scrapeMetrics(client, eng.addr)
		if err == nil && int(s.sum("vigil_camera_up")) == o.Cameras {
			break
		}
		if time.Now().After(deadline) {
			up := 0.0
			if s != nil {
				up = s.sum("vigil_camera_up")
			}
			return nil, fmt.Errorf("only %g of %d cameras streaming after the start-up wait", up, o.Cameras)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-eng.wait:
			eng.wait <- err
			return nil, fmt.Errorf("engine exited during start-up: %v", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	beside := o.FFmpegBeside && o.FFmpegReference && o.Server == ServerGst
	type ffmpegResult struct {
		cores, fps float64
		start      time.Time
		err        error
	}
	var besideDone chan ffmpegResult
	if beside {
		// ffmpeg's warm-up ends when the engine's does: the engine's
		// window starts o.Warmup from here, at least ffmpegThroughWarmup.
		o.Warmup = max(o.Warmup, ffmpegThroughWarmup)
		besideDone = make(chan ffmpegResult, 1)
		warmup := o.Warmup
		go func() {
			cores, fps, start, err := ffmpegThrough(ctx, src.urls, o.UDP, warmup, o.Duration, logs)
			besideDone <- ffmpegResult{cores, fps, start, err}
		}()
	}

	if o.Warmup > 0 {
		o.Progress.step(fmt.Sprintf("live %d cameras: warming up", o.Cameras), 0)
		if !sleep.For(ctx, o.Warmup) {
			return nil, ctx.Err()
		}
	}

	s0 := res.scrapeSample(ctx, client, eng.addr, "start")
	eng.startMeasuring()
	mEng := startMeter([]int{eng.pid()})
	machine := cpuload.New()
	if _, err := machine.Load(); err != nil {
		o.Progress.done(fmt.Sprintf("machine load not measured: %v", err))
	}
	mSim := startMeter([]int{src.pid})
	start := time.Now()
	var sMid *scrape
	for time.Since(start) < o.Duration {
		el := time.Since(start)
		o.Progress.step(fmt.Sprintf("live %d cameras: measuring", o.Cameras), float64(el)/float64(o.Duration))
		if sMid == nil && el >= o.Duration/2 {
			sMid = res.scrapeSample(ctx, client, eng.addr, "middle")
		}
		if !sleep.For(ctx, min(time.Second, o.Duration-el)) {
			return nil, ctx.Err()
		}
	}
	s1 := res.scrapeSample(ctx, client, eng.addr, "end")
	res.DurationSeconds = time.Since(start).Seconds()
	res.Engine = mEng.end(o.Cameras)
	res.Simulator = mSim.end(o.Cameras)
	o.Progress.done(fmt.Sprintf("live %d cameras: measured", o.Cameras))

	d := func(name string, match ...string) float64 { return s1.sum(name, match...) - s0.sum(name, match...) }
	res.FramesReceived = d("vigil_camera_frames_received_total")
	res.FramesDecoded = d("vigil_camera_frames_decoded_total")
	res.FramesAnalyzed = d("vigil_camera_frames_analyzed_total")
	res.FramesSkipped = d("vigil_camera_frames_skipped_total")
	res.FramesDropped = d("vigil_camera_frames_dropped_total", "reason", "!closed")
	if want := res.FramesReceived - res.FramesSkipped; want > 0 {
		res.DropRatio = res.FramesDropped / want
	}
	res.MachineLoad, _ = machine.Load()
	res.Inferences = d("vigil_objects_inferences_total")
	res.StaleSheds = d("vigil_objects_shed_total", "reason", "stale")
	res.CrowdedSheds = d("vigil_objects_shed_total", "reason", "crowded")
	for _, k := range metrics.RequestKinds {
		n1, w1 := s1.histogramAt("vigil_objects_wait_seconds", 1, "request", k)
		n0, w0 := s0.histogramAt("vigil_objects_wait_seconds", 1, "request", k)
		if n1-n0 > 0 {
			if res.Waits == nil {
				res.Waits = map[string]WaitStats{}
			}
			res.Waits[k] = WaitStats{Served: n1 - n0, Within1s: w1 - w0}
		}
	}
	res.BudgetMid = sMid.maxOf("vigil_objects_budget_per_second")
	res.BudgetEnd = s1.maxOf("vigil_objects_budget_per_second")
	if res.DurationSeconds > 0 {
		res.NetworkCores = d("vigil_objects_inference_duration_seconds") / res.DurationSeconds
	}
	res.EngineCoresWithoutNetwork = max(res.Engine.Cores-res.NetworkCores, 0)
	res.Objects, res.FirstLook = o.Objects, o.FirstLook
	res.LagMidSeconds = sMid.maxOf("vigil_camera_lag_seconds")
	res.LagEndSeconds = s1.maxOf("vigil_camera_lag_seconds")
	res.CamerasUp = int(s1.sum("vigil_camera_up"))
	res.StepsMid = sMid.steps(src.clips)
	res.StepsEnd = s1.steps(src.clips)
	res.IdleFloorMid = sMid.sum("vigil_overload_idle_floor")
	res.IdleFloorEnd = s1.sum("vigil_overload_idle_floor")
	res.Wakeups = perClipDelta(s0, s1, "vigil_camera_wakeups_total", src.clips)
	res.WakeupsRejected = perClipDelta(s0, s1, "vigil_camera_wakeups_rejected_total", src.clips)
	res.WakeupsDeferred = perClipDelta(s0, s1, "vigil_camera_wakeups_deferred_total", src.clips)
	for _, r := range gate.KeyReasons {
		if v := d("vigil_keyframes_decoded_alone_total", "reason", r.String()); v > 0 {
			if res.KeyframesAlone == nil {
				res.KeyframesAlone = map[string]float64{}
			}
			res.KeyframesAlone[r.String()] = v
		}
	}
	res.EngineReceivedTotal = s1.sum("vigil_camera_frames_received_total")
	eng.mu.Lock()
	res.Incidents = eng.incidents
	res.Latency = latencyStats(eng.latencyMS)
	res.PersonDelay = latencyStats(eng.personMS)
	res.PersonMissed = eng.personMissed + len(eng.motionAt)
	res.PersonWaiting = len(eng.motionAt)
	for _, at := range eng.motionAt {
		res.PersonWaitedMaxMS = max(res.PersonWaitedMaxMS, float64(time.Since(at).Microseconds())/1000)
	}
	res.PersonAlreadyOpen = eng.personAlready
	res.PersonCameras = len(eng.personSeen)
	eng.mu.Unlock()

	eng.close()
	if beside {
		r := <-besideDone
		if r.err != nil {
			res.FFmpegError = r.err.Error()
		} else {
			res.FFmpegCoresPerCamera, res.FFmpegFPS, res.FFmpegSource = r.cores, r.fps, "rtsp"
			res.FFmpegWindowOffsetSeconds = r.start.Sub(start).Seconds()
		}
	} else if o.FFmpegReference && o.Server == ServerGst {
		o.Progress.step(fmt.Sprintf("live %d cameras: ffmpeg -threads 1 -f null through the server", o.Cameras), 0)
		// A reference that fails keeps the engine's figures, with why.
		if ref, fps, at, err := ffmpegThrough(ctx, src.urls, o.UDP, ffmpegThroughWarmup, o.Duration, logs); err != nil {
			res.FFmpegError = err.Error()
		} else {
			res.FFmpegCoresPerCamera, res.FFmpegFPS, res.FFmpegSource = ref, fps, "rtsp"
			res.FFmpegWindowOffsetSeconds = at.Sub(start).Seconds()
		}
	}
	res.SimulatorSent = src.stop()

	if o.FFmpegReference {
		ref, err := ffmpegReference(ctx, o.Clips, o.Cameras)
		if err != nil {
			if res.FFmpegError != "" {
				res.FFmpegError += "; "
			}
			res.FFmpegError += err.Error()
		}
		res.FFmpegFileCoresPerCamera = ref
		if o.Server != ServerGst {
			res.FFmpegCoresPerCamera, res.FFmpegSource = ref, "file"
		} else if ref > 0 {
			res.CPURatioToFFmpegFile = res.EngineCoresWithoutNetwork / float64(o.Cameras) / ref
		}
	}
	if ref := res.FFmpegCoresPerCamera; ref > 0 {
		res.CPURatioToFFmpeg = res.Engine.CoresPerCamera / ref
		res.CPURatioToFFmpegWithoutNetwork = res.EngineCoresWithoutNetwork / float64(o.Cameras) / ref
	}
	lagGrowing := res.LagEndSeconds > 1 && res.LagEndSeconds > 2*res.LagMidSeconds
	// A lag that grows more slowly is no more real time once it is long:
	// 100 1080p cameras ended a run 38 s behind, from 20 s at its middle.
	lagLong := res.LagEndSeconds > MaxSustainedLag.Seconds()
	res.Sustained = res.DropRatio <= o.DropThreshold && !lagGrowing && !lagLong && res.CamerasUp == o.Cameras
	switch {
	case res.Sustained:
		res.Verdict = "sustained in real time"
	case res.CamerasUp != o.Cameras:
		res.Verdict = fmt.Sprintf("%d of %d cameras up", res.CamerasUp, o.Cameras)
	case lagGrowing:
		res.Verdict = fmt.Sprintf("lag growing (%.2fs → %.2fs)", res.LagMidSeconds, res.LagEndSeconds)
	case lagLong:
		res.Verdict = fmt.Sprintf("lag %.2fs at the end (over %s)", res.LagEndSeconds, MaxSustainedLag)
	default:
		res.Verdict = fmt.Sprintf("%.2f%% of frames dropped (threshold %.2f%%)", 100*res.DropRatio, 100*o.DropThreshold)
	}
	return res, nil
}

// MaxSustainedLag is the longest lag at the end of a run that still counts
// as real time.
const MaxSustainedLag = 5 * time.Second

// RampResult is a `vigil bench live --ramp` run: the steps and the largest
// camera count sustained.
type RampResult struct {
	Steps        []*LiveResult `json:"steps"`
	MaxSustained int           `json:"max_sustained_cameras"`
}

// Ramp finds the largest camera count the machine sustains in real time:
// it doubles from o.Cameras until a step fails (or max), then bisects.
func Ramp(ctx context.Context, bin string, o LiveOptions, maxCameras int) (*RampResult, error) {
	rr := &RampResult{}
	run := func(n int) (bool, error) {
		oo := o
		oo.Cameras = n
		r, err := Live(ctx, bin, oo)
		if err != nil {
			return false, err
		}
		rr.Steps = append(rr.Steps, r)
		if r.Sustained {
			rr.MaxSustained = max(rr.MaxSustained, n)
		}
		return r.Sustained, nil
	}
	good, bad := 0, 0
	for n := max(1, o.Cameras); ; n *= 2 {
		n = min(n, maxCameras)
		ok, err := run(n)
		if err != nil {
			return rr, err
		}
		if !ok {
			bad = n
			break
		}
		good = n
		if n == maxCameras {
			return rr, nil
		}
	}
	// Bisect to within 10% (at least 1 camera).
	for bad-good > max(1, good/10) {
		mid := (good + bad) / 2
		ok, err := run(mid)
		if err != nil {
			return rr, err
		}
		if ok {
			good = mid
		} else {
			bad = mid
		}
	}
	return rr, nil
}

// PrintLive writes results as a table for people.
func PrintLive(w io.Writer, rs ...*LiveResult) {
	fmt.Fprintf(w, "%8s %-10s %9s %9s %10s %9s %9s %8s %8s %9s %9s %9s %s\n",
		"cameras", "mode", "cores", "core/cam", "rss MiB", "analyzed", "dropped%", "lag s", "events", "p50 ms", "p99 ms", "/ffmpeg", "verdict")
	for _, r := range rs {
		ratio := "-"
		if r.CPURatioToFFmpeg > 0 {
			ratio = fmt.Sprintf("%.2f", r.CPURatioToFFmpeg)
		}
		fmt.Fprintf(w, "%8d %-10s %9.3f %9.4f %10.1f %9.0f %9.3f %8.2f %8d %9.0f %9.0f %9s %s\n",
			r.Cameras, r.DecodeMode, r.Engine.Cores, r.Engine.CoresPerCamera, float64(r.Engine.RSSMaxBytes)/(1<<20),
			r.FramesAnalyzed, 100*r.DropRatio, r.LagEndSeconds, r.Incidents, r.Latency.P50, r.Latency.P99, ratio, r.Verdict)
		if r.PersonDelay.N > 0 || r.PersonMissed > 0 || r.PersonCameras > 0 || r.Inferences > 0 {
			fmt.Fprintf(w, "%8s ^ motion to person incident: %d, median %.0f ms, max %.0f ms; motion incidents with no person incident: %d (%d still waiting at the end, up to %.0f ms); with one open already: %d; cameras with a person incident: %d; %.0f inferences, budget %.1f/s mid, %.1f/s end; machine %.0f%% busy\n",
				"", r.PersonDelay.N, r.PersonDelay.P50, r.PersonDelay.Max, r.PersonMissed, r.PersonWaiting, r.PersonWaitedMaxMS, r.PersonAlreadyOpen, r.PersonCameras, r.Inferences, r.BudgetMid, r.BudgetEnd, 100*r.MachineLoad)
		}
		if len(r.Waits) > 0 || r.StaleSheds > 0 || r.CrowdedSheds > 0 {
			fmt.Fprintf(w, "%8s ^ inferences started within 1 s of the request:", "")
			for _, k := range metrics.RequestKinds {
				if ws, ok := r.Waits[k]; ok {
					fmt.Fprintf(w, " %s %.0f of %.0f;", k, ws.Within1s, ws.Served)
				}
			}
			fmt.Fprintf(w, " shed after waiting 2 s: %.0f; re-checks not built, crowded: %.0f\n", r.StaleSheds, r.CrowdedSheds)
		}
		if r.NetworkCores > 0 || r.Objects != "" {
			fmt.Fprintf(w, "%8s ^ object network (%s): %.3f cores; engine without it %.3f cores, %.4f per camera\n", "",
				orDefault(r.Objects, "budget following the machine"), r.NetworkCores, r.EngineCoresWithoutNetwork, r.EngineCoresWithoutNetwork/float64(max(r.Cameras, 1)))
		}
		if r.FFmpegCoresPerCamera > 0 {
			fmt.Fprintf(w, "%8s ^ ffmpeg -threads 1 -f null (%s): %.4f cores per camera", "", r.FFmpegSource, r.FFmpegCoresPerCamera)
			if r.FFmpegFPS > 0 {
				fmt.Fprintf(w, " at %.1f frames/s each", r.FFmpegFPS)
			}
			if r.FFmpegSource == "rtsp" {
				fmt.Fprintf(w, ", its window %.0f s after the engine's", r.FFmpegWindowOffsetSeconds)
			}
			fmt.Fprintf(w, "; engine over it %.2f, without the object network %.2f\n", r.CPURatioToFFmpeg, r.CPURatioToFFmpegWithoutNetwork)
		}
		if r.FFmpegError != "" {
			fmt.Fprintf(w, "%8s ^ ffmpeg reference missing: %s\n", "", r.FFmpegError)
		}
		if r.CPURatioToFFmpegFile > 0 {
			fmt.Fprintf(w, "%8s ^ ffmpeg -threads 1 -f null on the files: %.4f cores per camera; engine without the object network over it %.2f\n", "",
				r.FFmpegFileCoresPerCamera, r.CPURatioToFFmpegFile)
		}
		if r.Server == ServerGst {
			fmt.Fprintf(w, "%8s ^ served by GStreamer's RTSP server: %.3f cores\n", "", r.Simulator.Cores)
		}
		if len(r.StepsEnd) > 0 {
			fmt.Fprintf(w, "%8s ^ overload rungs at the end: %s; idle floor %s mid, %s end\n", "", formatSteps(r.StepsEnd),
				sched.Step(r.IdleFloorMid), sched.Step(r.IdleFloorEnd))
		}
		for _, clip := range slices.Sorted(maps.Keys(r.Wakeups)) {
			fmt.Fprintf(w, "%8s ^ %s: %.0f wake-ups, %.0f rejected by the pixels, %.0f deferred\n", "", clip, r.Wakeups[clip], r.WakeupsRejected[clip], r.WakeupsDeferred[clip])
		}
		if len(r.ScrapeFailed) > 0 || r.ScrapeRetries > 0 {
			fmt.Fprintf(w, "%8s ^ /metrics retried %d times; samples not read: %v (their figures are missing)\n", "", r.ScrapeRetries, r.ScrapeFailed)
		}
	}
}

// ffmpegReference is the CPU per camera of `ffmpeg -threads 1 -f null` on
// the clips assigned to n cameras, as cores at the clips' frame rates, averaged over cameras.
func ffmpegReference(ctx context.Context, clips string, n int) (float64, error) {
	assign, files, err := assignClipFiles(clips, n, 0)
	if err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "vigil-ffmpeg-ref-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	// By the clip as the spec names it: sub-motion.h264 and
	// sub-motion.h265 are both the clip sub-motion.
	perClip := map[string]float64{}
	total := 0.0
	for i, c := range assign {
		cores, ok := perClip[files[i]]
		if !ok {
			file := files[i]
			if data, ext, err := sim.EmbeddedClipData(file); err == nil {
				file = filepath.Join(dir, c.Name+ext)
				if err := os.WriteFile(file, data, 0o600); err != nil {
					return 0, err
				}
			}
			r, err := FFmpegDecode(ctx, file, 4, 4*len(c.AUs))
			if err != nil {
				return 0, err
			}
			if r.FramesPerCoreSecond > 0 {
				cores = c.FPS / r.FramesPerCoreSecond
			}
			perClip[files[i]] = cores
		}
		total += cores
	}
	return total / float64(len(assign)), nil
}
