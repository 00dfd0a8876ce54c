package engine

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/gate"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/metrics"
	"github.com/vigil-video/vigil/pipeline"
	"github.com/vigil-video/vigil/sched"
)

// The worker pool's types: cameras own queues of access units with their
// metadata; no interface boxing on the way.
type (
	workPool  = sched.Pool[*camera, auMeta]
	workQueue = sched.Queue[*camera, auMeta]
	workUnit  = sched.Unit[auMeta]
)

// auMeta travels with an access unit through the camera's queue.
type auMeta struct {
	gen      uint64 // stream generation: a new one resets decoder and analyzer
	codec    ingest.Codec
	pts      time.Duration
	capture  time.Time
	received time.Time
	queued   time.Time // when the unit entered the camera's queue
	alone    bool      // a keyframe decoded alone (gate.Gate.Route)
	// droppable: no picture refers to it (unit.AccessUnit.Droppable)
	droppable bool
}

// camera is one configured camera. Its state has three sides, each
// written by one party:
//   - ingest: what the session's RTP reader writes (stream generation,
//     codec, flow, receipt counts), through atomics, and its gate;
//   - worker: wk, touched only by the one worker serving the camera's
//     queue (decoder, analyzer, ladder, evidence);
//   - status: atomics and mu-guarded fields the worker and the session
//     publish for the API, the metrics collector and the health check.
type camera struct {
	id     string
	cfg    config.Camera
	log    *slog.Logger
	e      *Engine
	sess   *ingest.Session
	queue  *workQueue
	m      metrics.Camera
	health *health.Camera // camera_offline and analysis_stalled

	// ingest side (the RTP reader)
	gate      *gate.Gate
	gen       atomic.Uint64 // bumped by StreamStarted: a new stream
	codec     atomic.Value  // ingest.Codec of the current stream
	flowing   atomic.Bool   // video flows in the current stream
	flowSince atomic.Int64  // Unix ns of the first access unit of the current stream
	keyAt     atomic.Int64  // Unix ns of the last keyframe's receipt in the current stream (0: none)
	keyGap    atomic.Int64  // the longest recent interval between keyframes, decaying (ns)

	// worker side
	wk workerSide

	// status (read by the API, the collector and the health check)
	n            counts               // running totals of access units
	drops        [4]atomic.Uint64     // by sched.DropReason
	analyzedFPS  atomic.Uint64        // float64 bits, over the last full second
	lagNano      atomic.Int64         // receipt to processing of the last unit
	load         sched.Overload       // the overload ladder's step: the worker sets it, gate and pipeline read it
	lastAnalyzed atomic.Int64         // Unix ns of the last analyzed picture
	lastFrame    atomic.Int64         // Unix ns of the last access unit received
	lastQueued   atomic.Int64         // Unix ns of the last access unit queued for decoding
	lastKeyQueue atomic.Int64         // Unix ns of the last keyframe queued for decoding
	snapReq      chan chan snapResult // served by the worker after an analysis
	mu           sync.Mutex           // guards the fields below
	lastError    string
}

// workerSide is the state only the worker serving the camera's queue
// touches (one at a time).
type workerSide struct {
	pipe        *pipeline.Pipeline
	ladder      *sched.Ladder
	dropsSeen   uint64
	evidence    map[string][]incident.Evidence // by incident id
	gen         uint64                         // stream generation being decoded
	fpsStart    time.Time
	fpsAnalyzed int
}

func newCamera(e *Engine, cfg config.Camera) (*camera, error) {
	c := &camera{id: cfg.ID, cfg: cfg, e: e, log: e.log.With("camera", cfg.ID)}
	c.load.Follow(e.pressure)
	slot := e.objectSlot(cfg.ID)
	pipe, err := pipeline.New(pipeline.Config{AnalysisWidth: cfg.AnalysisWidth, AnalysisFPS: cfg.AnalysisFPS, Analysis: cfg.Analysis, Decoders: e.decoders, Objects: slot,
		Limits: decoderLimits(cfg.Limits), Overload: &c.load, Sparse: cfg.DecodeMode != config.ModeAll})
	if err != nil {
		if slot != nil {
			slot.Release()
		}
		return nil, fmt.Errorf("camera %q: motion: %w", cfg.ID, err)
	}
	c.wk.pipe = pipe
	c.health = health.New(health.Config{Camera: cfg.ID, OfflineGrace: cfg.OfflineGrace, AnalysisFPS: cfg.AnalysisFPS,
		UpdateInterval: cfg.HealthUpdateInterval, Pause: e.pause, Log: c.log, Out: healthOut{c}})
	c.gate = gate.New(cfg.DecodeMode, gate.NewActivity(cfg.DecodeMode, cfg.Activity), &c.load, gate.ReplayUnits, gate.ReplayBytes(cfg.QueueBytes))
	c.gate.SkipIdleKeyframes(cfg.Activity.KeyframeInterval)
	c.gate.ShareVerifiers(e.verifiers)
	c.gate.CountKeys(e.keyCounts)
	if slot != nil {
		slot.OnFound(func(label string) bool {
			return label == config.LabelPerson && cfg.Person.Enabled || label == config.LabelVehicle && cfg.Vehicle.Enabled
		}, c.gate.Take)
	}
	c.wk.evidence = map[string][]incident.Evidence{}
	c.snapReq = make(chan chan snapResult, 8)
	c.wk.ladder = sched.NewLadder(sched.LadderConfig{Pressure: e.pressure})
	sc := ingest.SessionConfig(cfg)
	sc.Logger = c.log
	sc.Budget = e.streamMemory
	sc.Pause = e.pause
	sc.StartDelay = ingest.Jitter(e.cfg.StartSpread)
	sess, err := ingest.NewSession(sc, c)
	if err != nil {
		pipe.Close()
		return nil, err
	}
	c.sess = sess
	c.m = e.metrics.ForCamera(cfg.ID, incidentKinds(cfg, e.vehicles(cfg)))
	// In mode auto the queue also takes a wake-up's replay of the GOP so
	// far in one burst (as long as a GOP of 60 s; its bytes are bounded by
	// queue_bytes like any unit's).
	queueUnits := cfg.QueueFrames
	if cfg.DecodeMode == config.ModeAuto {
		queueUnits += gate.ReplayUnits
	}
	c.queue = e.pool.NewQueue(c, queueUnits, cfg.QueueBytes)
	return c, nil
}

// start runs the camera's session; until video flows it counts as down.
func (c *camera) start() {
	c.health.Down(time.Now(), "")
	c.sess.Start()
}

// close frees the worker-side state; the session and queue are closed first.
func (c *camera) close() {
	c.gate.Close()
	c.wk.pipe.Close()
	c.wk.ladder.Close()
}

func (c *camera) setError(err error) {
	c.mu.Lock()
	c.lastError = err.Error()
	c.mu.Unlock()
}

type snapResult struct {
	jpg []byte
	err error
}

// vehicles reports whether the camera can raise vehicle incidents:
// vehicle.enabled, and the object network runs and keeps vehicles.
func (e *Engine) vehicles(cfg config.Camera) bool {
	return cfg.Vehicle.Enabled && e.infer != nil && slices.Contains(e.cfg.Objects.Labels, config.LabelVehicle)
}

// incidentKinds lists the incident kinds a camera can raise with its
// configuration; vehicles: vehicle.enabled, and the object network runs and
// keeps vehicles.
func incidentKinds(cfg config.Camera, vehicles bool) []string {
	kinds := []string{"motion", health.KindCameraOffline, health.KindAnalysisStalled}
	if cfg.Tamper.Enabled {
		kinds = append(kinds, "tamper")
	}
	if cfg.Person.Enabled {
		kinds = append(kinds, "person")
	}
	if vehicles {
		kinds = append(kinds, "vehicle")
	}
	var intrusion, crowd, loiter bool
	for _, z := range cfg.Zones {
		intrusion = intrusion || z.Restricted
		crowd = crowd || z.Crowd > 0
		loiter = loiter || z.Loiter > 0
	}
	for k, on := range map[string]bool{"intrusion": intrusion, "crowd": crowd, "loitering": loiter} {
		if on {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// decoderLimits are the caps libavcodec enforces for a camera, from the
// same limits ingest checks the parameter sets against.
func decoderLimits(l config.Limits) decode.Limits {
	chroma := config.ChromaIdc[l.MaxChroma]
	return decode.Limits{MaxPixels: int64(l.MaxWidth) * int64(l.MaxHeight), MaxChroma: chroma, MaxBitDepth: l.MaxBitDepth}
}
