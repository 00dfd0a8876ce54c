// Package engine wires cameras, the worker pool, incident output, metrics
// and the HTTP API together.
package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/gate"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/internal/pause"
	"github.com/vigil-video/vigil/metrics"
	"github.com/vigil-video/vigil/sched"
	"github.com/vigil-video/vigil/sink"
)

// ErrClosed is returned by Apply after Close.
var ErrClosed = errors.New("engine: closed")

// Publisher receives incident events. It is called from worker goroutines
// and must be safe for concurrent use.
type Publisher interface {
	Emit(ev incident.Event) error
}

// Options are the engine's collaborators.
type Options struct {
	// Logger receives structured logs. It defaults to discarding them.
	Logger *slog.Logger
	// Events receives incident events. Required.
	Events Publisher
	// Incidents serves GET /api/incidents and Live GET /api/events when set.
	Incidents, Live http.Handler
	// Cluster serves GET /api/cluster when set.
	Cluster http.Handler
	// Collectors are registered beside the engine's own metrics.
	Collectors []prometheus.Collector
	// Evidence keeps incident snapshots; nil takes none.
	Evidence EvidenceStore
	// OpenIncidents is a file (of the data directory) keeping the open
	// incidents, so that those a crash leaves open are ended, with their
	// ids, at the next start. Empty keeps none.
	OpenIncidents string
	// Ready is consulted by GET /readyz once the engine has started (e.g.
	// can the outbox be written?); its error, which should name what
	// fails ("outbox: ..."), makes the engine not ready. It must be quick
	// and safe for concurrent use. Nil means no check.
	Ready func() error
	// CamerasChanged, when set, is told the configured cameras (in the
	// configuration's order) and the incident kinds each can raise at
	// Start and after each reload Apply applies: the engine owns the
	// camera list; what describes cameras elsewhere (delivery's Home
	// Assistant discovery) follows it. It is called with reloads
	// serialized.
	CamerasChanged func(cams []sink.Camera)
}

// EvidenceStore keeps incident snapshots (evidence.Store).
type EvidenceStore interface {
	Save(camera, incidentID, role string, jpg []byte, now time.Time) (incident.Evidence, error)
	Open(camera, name string) (*os.File, error)
	OpenIncident(incidentID string) (*os.File, error)
}

// Engine runs the cameras of one configuration.
type Engine struct {
	opts Options
	// cfg is the configuration the engine was built with. It is never
	// written after New (the cameras' current settings are each camera's
	// cfg), so it is read without a lock.
	cfg    config.Config
	log    *slog.Logger
	events Publisher

	pool     *workPool
	decoders *decode.Pool // lent to keyframes decoded alone and to awake chains
	// verifiers bounds the cameras in mode auto verifying a wake of their
	// activity signal at once (gate.Verifiers).
	verifiers *gate.Verifiers
	// keyCounts counts the keyframes its cameras decoded alone, by reason.
	keyCounts *gate.KeyCounts
	pressure  *sched.Pressure // the idle cameras shed before a busy one steps down
	// streamMemory is stream_memory_mb: the decoder memory every camera's
	// stream reserves before it is decoded.
	streamMemory *ingest.Budget
	metrics      *metrics.Set

	net   *analyze.Network   // the object network; nil when off or absent
	infer *analyze.Inference // its budgeted queue; nil without it

	reloadMu sync.Mutex // serializes Apply
	mu       sync.Mutex
	cameras  map[string]*camera

	watch  *watch          // the analysis health check, from Start
	pause  *pause.Detector // process stalls, read by health and the sessions; runs from Start
	api    *api.Server     // HTTP, from Start
	closed bool

	// ledger keeps the open incidents across restarts (nil: none kept);
	// leftOpen are those the last run left open, as of leftSeen.
	ledger       *ledger
	leftOpen     []incident.Incident
	leftSeen     time.Time
	ledgerEnded  prometheus.Counter
	ledgerFailed prometheus.Counter

	started atomic.Bool // Start has finished
	closing atomic.Bool // Close has begun
}

// New builds the engine; nothing runs (no worker, no connection, no
// listener) until Start. cfg is complete and valid: from config.Load or
// config.Parse, or built in Go from config.Default and checked with
// Validate.
func New(cfg config.Config, opts Options) (*Engine, error) {
	if opts.Events == nil {
		return nil, errors.New("engine: Options.Events is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, log: opts.Logger, events: opts.Events, cameras: map[string]*camera{}, opts: opts}
	e.metrics = metrics.New(func() metrics.PoolStats { return e.pool }, sessionCollector{e})
	e.pause = pause.New(pause.Config{Log: e.log, OnStall: func(time.Duration) { e.metrics.ProcessStalls.Inc() }})
	for _, c := range opts.Collectors {
		if err := e.metrics.Reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	pool, err := sched.New(sched.Config[*camera, auMeta]{
		Workers:  cfg.Workers,
		MaxBytes: cfg.QueueMemoryMB << 20,
		Handler:  (*camera).process,
		OnDrop: func(c *camera, r sched.DropReason, n int) {
			if int(r) < len(c.drops) {
				c.drops[r].Add(uint64(n))
			}
			e.metrics.FramesDropped.WithLabelValues(c.id, r.String()).Add(float64(n))
		},
	})
	if err != nil {
		return nil, err
	}
	e.pool = pool
	e.api = api.New(api.Config{Listen: cfg.Listen, WebConfigFile: cfg.WebConfigFile, Pprof: cfg.Pprof, Limits: cfg.HTTP,
		Registry: e.metrics.Reg, Incidents: opts.Incidents, Live: opts.Live, Evidence: opts.Evidence, Cluster: opts.Cluster,
		Logger: e.log.With("component", "http")}, e)
	// A decoder is lent per worker at a time, plus the chains of the
	// cameras awake now: keep as many free as there are workers.
	e.decoders = decode.NewPool(cfg.Workers)
	e.verifiers = gate.NewVerifiers(gate.VerifiersFor(cfg.Workers))
	e.keyCounts = &gate.KeyCounts{}
	e.pressure = sched.NewPressure(sched.LadderConfig{}, e.loadMeter())
	e.streamMemory = ingest.NewBudget(int64(cfg.StreamMemoryMB) << 20)
	e.metrics.Reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_overload_idle_floor",
			Help: "The least overload step of the idle cameras in mode auto, to which busy cameras' overload presses them before a busy camera steps down: 0 full to 3 sparse.",
		}, func() float64 { return float64(e.pressure.Floor(time.Now())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_decoders_open",
			Help: "Decoders open: one per camera decoding every frame now, and those shared by the cameras that decode keyframes alone.",
		}, func() float64 { _, n := e.decoders.Stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_stream_memory_reserved_bytes",
			Help: "Estimated decoder memory reserved by all cameras' streams, within stream_memory_mb.",
		}, func() float64 { return float64(e.streamMemory.Used()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_stream_memory_limit_bytes",
			Help: "stream_memory_mb in bytes: a stream that would take the reserved memory over it is refused.",
		}, func() float64 { return float64(e.streamMemory.Max()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_wake_verifications",
			Help: "Cameras in mode auto verifying now, on their decoded pictures, a wake their activity signal caused.",
		}, func() float64 { return float64(e.verifiers.InUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_wake_verifications_max",
			Help: "The most wake verifications at once (4 per worker, at least 16); a camera's wake waits while they run (vigil_camera_wakeups_deferred_total).",
		}, func() float64 { return float64(e.verifiers.Max()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_decoders_lent",
			Help: "Decoders in use now (the others wait in the shared pool).",
		}, func() float64 { n, _ := e.decoders.Stats(); return float64(n) }),
	)
	if opts.OpenIncidents != "" {
		e.openLedger(opts.OpenIncidents)
	}
	e.openObjects()
	for _, cc := range cfg.Cameras {
		c, err := newCamera(e, cc)
		if err != nil {
			e.closeCameras()
			e.closeObjects()
			pool.Close()
			return nil, err
		}
		e.cameras[cc.ID] = c
	}
	return e, nil
}

// Start serves HTTP and starts every camera, staggered over StartSpread.
// GET /readyz answers "starting" until it returns.
func (e *Engine) Start() error {
	// First: the time New took (the model, the cameras) is no stall, and
	// the sessions started below may ask it.
	e.pause.Start()
	if err := e.api.Start(); err != nil {
		e.pause.Close()
		return err
	}
	if e.ledger != nil {
		// Before any camera can open an incident.
		e.endLeftOpen(e.leftOpen, e.leftSeen)
		e.ledger.start()
	}
	e.pool.Start()
	e.camerasChanged(e.cfg.Cameras)
	if e.infer != nil {
		e.infer.Start()
	}
	e.log.Info("engine started", "listen", e.api.Addr(), "cameras", len(e.cameras), "workers", e.pool.Workers())
	for _, c := range e.snapshot() {
		c.start()
	}
	e.watch = startWatch(e, e.log)
	e.started.Store(true)
	return nil
}

// Done is closed when the engine can no longer serve (its HTTP server
// failed); Wait says why. Close the engine then.
func (e *Engine) Done() <-chan struct{} { return e.api.Done() }

// Wait blocks until the HTTP server stops (Close, or a failure) and
// returns its failure, if any, or after Close the HTTP requests that did
// not finish in time.
func (e *Engine) Wait() error { return e.api.Wait() }

// Addr returns the HTTP listener's address (after Start).
func (e *Engine) Addr() string { return e.api.Addr() }

// Registry returns the engine's Prometheus registry.
func (e *Engine) Registry() *prometheus.Registry { return e.metrics.Reg }

// Close stops the cameras, lets the workers finish, ends every open
// incident (publishing its end event), and stops HTTP. It waits for all of
// it; nothing runs after it returns. Idempotent; Wait says whether HTTP
// stopped cleanly.
func (e *Engine) Close() {
	e.reloadMu.Lock() // no Apply runs during or after Close
	defer e.reloadMu.Unlock()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	e.watch.close()
	e.closing.Store(true) // not ready from now on

	cams := e.snapshot()
	var wg sync.WaitGroup
	for _, c := range cams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.sess.Close()
			c.queue.Close()
		}()
	}
	wg.Wait()
	e.pool.Close()
	e.pause.Close() // after the sessions: a slow session Close is no stall
	now := time.Now()
	for _, c := range cams {
		c.flush(now)
		c.health.End(now)
	}
	if e.ledger != nil {
		e.ledger.close()
	}
	e.closeCameras()
	e.decoders.Close()
	e.closeObjects()
	e.api.Close()
	e.log.Info("engine stopped")
}

// camerasChanged tells Options.CamerasChanged the configured cameras.
func (e *Engine) camerasChanged(cams []config.Camera) {
	if e.opts.CamerasChanged == nil {
		return
	}
	out := make([]sink.Camera, 0, len(cams))
	for _, c := range cams {
		out = append(out, sink.Camera{ID: c.ID, Kinds: incidentKinds(c, e.vehicles(c))})
	}
	e.opts.CamerasChanged(out)
}

func (e *Engine) closeCameras() {
	for _, c := range e.snapshot() {
		c.close()
	}
}

// snapshot returns the cameras sorted by id.
func (e *Engine) snapshot() []*camera {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*camera, 0, len(e.cameras))
	for _, c := range e.cameras {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *camera) int {
		if a.id < b.id {
			return -1
		}
		if a.id > b.id {
			return 1
		}
		return 0
	})
	return out
}

func (e *Engine) publish(ev incident.Event) {
	if e.ledger != nil {
		e.ledger.track(ev)
	}
	if err := e.events.Emit(ev); err != nil {
		e.log.Error("event not published", "camera", ev.Data.Camera, "event_id", ev.ID, "error", err)
	}
}
