// Package service is the process behind `vigil run`: it loads the
// configuration (or starts the embedded demo), opens event delivery and
// evidence, runs the engine, reloads on SIGHUP and file changes, and shuts
// everything down in order when its context ends.
package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/delivery"
	"github.com/vigil-video/vigil/engine"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/history"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/memtrim"
	"github.com/vigil-video/vigil/sim"
	"github.com/vigil-video/vigil/sinks"
)

// Options are the settings of `vigil run`.
type Options struct {
	// ConfigPath is the YAML file; empty runs the embedded demo.
	ConfigPath string
	// Listen overrides the configuration's listen address when set.
	Listen string
	// LogLevel is debug, info, warn or error. It defaults to info.
	LogLevel string
	// LogFormat is text or json. It defaults to text.
	LogFormat string
	// DataDir holds the outbox, the evidence and the incident history
	// when the configuration gives no absolute path for them
	// (outbox.path, evidence.dir, history.path).
	// It defaults to DefaultDataDir.
	DataDir string
	// Events receives incident events as JSON lines (stdout).
	Events io.Writer
	// Logs receives logs (stderr).
	Logs io.Writer
	// Logger, when set, is used instead of one made of Logs, LogLevel and
	// LogFormat (main makes it, to log the run's failure in the same way).
	Logger *slog.Logger
}

// NewLogger returns the slog logger of a log level and format.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(orDefault(level, "info")))); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		// Durations in seconds (a number a log pipeline can compare), not
		// integer nanoseconds.
		ho.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				return slog.Float64(a.Key, a.Value.Duration().Seconds())
			}
			return a
		}
	}
	switch orDefault(format, "text") {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Run runs the engine until ctx is done, then shuts it down gracefully:
// open incidents are ended and every event is written before it returns.
func Run(ctx context.Context, o Options) (err error) {
	log := o.Logger
	if log == nil {
		if log, err = NewLogger(o.Logs, o.LogLevel, o.LogFormat); err != nil {
			return err
		}
	}
	var cfg config.Config
	var sum []byte // of the configuration file, to notice changes
	if o.ConfigPath == "" {
		srv, demo, err := startDemo(log)
		if err != nil {
			return err
		}
		defer srv.Close()
		cfg = demo
		log.Info("running the embedded demo", "simulator", srv.Addr())
	} else {
		sum = fileSum(o.ConfigPath)
		if cfg, err = config.Load(o.ConfigPath); err != nil {
			return err
		}
	}
	prepare := func(c *config.Config) {
		if o.Listen != "" {
			c.Listen = o.Listen // --metrics-addr overrides the file
		}
		if o.ConfigPath != "" {
			dataPaths(c, orDefault(o.DataDir, DefaultDataDir))
		}
	}
	prepare(&cfg)
	if o.ConfigPath != "" {
		for _, dir := range []string{filepath.Dir(cfg.Outbox.Path), cfg.Evidence.Dir, filepath.Dir(cfg.History.Path)} {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("data directory (--data-dir, outbox.path, evidence.dir, history.path): %w", err)
			}
		}
	}
	if o.ConfigPath == "" { // the demo keeps its outbox and evidence in a temporary directory
		dir, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Outbox.Path = filepath.Join(dir, cfg.Outbox.Path)
		cfg.Evidence.Dir = filepath.Join(dir, cfg.Evidence.Dir)
		cfg.History.Path = filepath.Join(dir, cfg.History.Path)
	}
	ev, err := evidence.Open(cfg.Evidence)
	if err != nil {
		return err
	}
	dc := delivery.Config{Outbox: cfg.Outbox, Sinks: cfg.Sinks}
	env := sinks.Env{Stdout: o.Events, Evidence: ev}
	d, err := delivery.New(dc, env.Open, log.With("component", "delivery"))
	if err != nil {
		return err
	}
	d.Start()
	// The API serves what delivery stored: the incident history (on disk),
	// the recent events (to resume the live stream) and the live stream,
	// whose clients are let go when the API stops (api.Server closes it;
	// closed again, idempotently, once delivery has stopped).
	hist := history.Open(cfg.History, log.With("component", "history"))
	recent := api.NewIncidentLog(10000)
	live := api.NewEventHub(256, recent)
	d.OnStored(func(ev incident.Event) { hist.Add(ev); recent.Add(ev); live.Publish(ev) })
	defer func() {
		if derr := d.Close(); derr != nil && err == nil {
			err = fmt.Errorf("close delivery: %w", derr)
		}
		live.Close()
		if herr := hist.Close(); herr != nil {
			log.Error("close incident history", "path", cfg.History.Path, "error", herr)
		}
	}()
	eo := engine.Options{Logger: log, Events: d, Incidents: incidentsAPI{hist}, Live: live, Collectors: append(d.Collectors(), hist.Collectors()...), Evidence: ev,
		Ready: outboxReady(d, cfg.Outbox.Path), CamerasChanged: d.SetCameras}
	// Open incidents are kept beside the outbox (the data directory), and
	// the next run ends those a crash left open. In a cluster too: the
	// next owner of a camera ends those recorded in the incidents bucket,
	// but a start made while NATS was away is recorded there only once it
	// is back; a node killed meanwhile ends it at its next run (both ends
	// carry the one id incident.EndID gives).
	eo.OpenIncidents = filepath.Join(filepath.Dir(cfg.Outbox.Path), "open-incidents.json")
	ecfg := cfg
	var cl *clusterRun
	var reload applier
	if cfg.Cluster != nil {
		// The engine starts with no camera; the node gives it those it owns.
		if cl, err = newClusterRun(cfg, d, log); err != nil {
			return err
		}
		ecfg.Cameras = nil
		eo.Cluster, eo.Collectors = cl.node.Handler(), append(eo.Collectors, cl.node.Collectors()...)
	}
	e, err := engine.New(ecfg, eo)
	if err != nil {
		return err
	}
	if err := e.Start(); err != nil {
		e.Close()
		return err
	}
	reload = e
	// stop closes the engine and returns what did not stop cleanly.
	stop := func() error { e.Close(); return e.Wait() }
	if cl != nil {
		if err := cl.start(e); err != nil {
			e.Close()
			return err
		}
		reload = cl
		// At shutdown the node stops its rounds, the engine its cameras
		// (ending their incidents, clusterRun.Stop), then the node
		// releases every lease.
		stop = func() error { cl.node.Close(); return e.Wait() }
	}
	if o.ConfigPath != "" {
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		go func() {
			defer close(done)
			watchConfig(wctx, reload, log, o.ConfigPath, 2*time.Second, hup, sum, prepare)
		}()
		defer func() { cancel(); <-done; signal.Stop(hup) }()
	}
	// The C allocator's freed heaps go back to the system every 30 s
	// (internal/memtrim: decoders freed by idle cameras).
	tctx, tcancel := context.WithCancel(ctx)
	tdone := make(chan struct{})
	go func() {
		defer close(tdone)
		memtrim.Run(tctx, memtrim.IntervalFromEnv(), log.With("component", "memtrim"))
	}()
	defer func() { tcancel(); <-tdone }()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
		return stop()
	case <-e.Done():
		werr := e.Wait()
		log.Error("engine failed, shutting down", "error", werr)
		if cerr := stop(); cerr != nil {
			log.Error("close", "error", cerr)
		}
		return fmt.Errorf("http server: %w", werr)
	}
}

// incidentsAPI is what the API reads of the incidents: GET /api/incidents
// and Frigate's event list (api.IncidentRecords), both from the history
// on disk (one record per incident, with its Frigate objects, across
// restarts).
type incidentsAPI struct {
	hist *history.Store
}

func (a incidentsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.hist.ServeHTTP(w, r) }

func (a incidentsAPI) Scan(q history.ScanQuery, visit func(*history.Record) bool) error {
	return a.hist.Scan(q, visit)
}

func (a incidentsAPI) Get(id string) (*history.Record, error) { return a.hist.Get(id) }

// DefaultDataDir is where the outbox and the evidence go by default.
const DefaultDataDir = "/var/lib/vigil"

// dataPaths puts the outbox, the evidence and the incident history under
// dir unless the configuration gives them absolute paths; relative ones
// (as their defaults, outbox.db, evidence and history.db) are taken from
// dir.
func dataPaths(c *config.Config, dir string) {
	under := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Outbox.Path = under(c.Outbox.Path)
	c.Evidence.Dir = under(c.Evidence.Dir)
	c.History.Path = under(c.History.Path)
}

// minOutboxFree is the free space under which the outbox's filesystem
// makes the engine not ready.
const minOutboxFree = 1 << 20

// outboxReady is the readiness check of event delivery: the delivery's own
// Ready method when it has one (did the last outbox write fail? does a
// sink lag past outbox.max_lag?), then a
// best-effort check from outside that the outbox file (path) can be written and its filesystem has at
// least minOutboxFree bytes free. The second catches a full or lost disk
// before an event is refused, which on quiet cameras may be a long time.
func outboxReady(d any, path string) func() error {
	own := func() error { return nil }
	if r, ok := d.(interface{ Ready() error }); ok {
		own = r.Ready
	}
	return func() error {
		if err := own(); err != nil {
			return err
		}
		if err := syscall.Access(path, 2 /* W_OK */); err != nil {
			return fmt.Errorf("outbox: %s cannot be written: %w", path, err)
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
			return fmt.Errorf("outbox: %s: %w", path, err)
		}
		if free := st.Bavail * uint64(st.Bsize); free < minOutboxFree { //nolint:gosec // Bsize is positive
			return fmt.Errorf("outbox: %s: %d bytes free on its filesystem", path, free)
		}
		return nil
	}
}

// startDemo serves the embedded clips on loopback and returns a
// configuration that pulls them.
func startDemo(log *slog.Logger) (*sim.Server, config.Config, error) {
	motion, err := sim.EmbeddedClip("motion")
	if err != nil {
		return nil, config.Config{}, err
	}
	static, err := sim.EmbeddedClip("static")
	if err != nil {
		return nil, config.Config{}, err
	}
	srv, err := sim.Start(sim.Config{
		Address: "127.0.0.1:0",
		Logger:  log.With("component", "sim"),
		Cameras: []sim.Camera{{Path: "demo-motion", Clip: motion}, {Path: "demo-static", Clip: static}},
	})
	if err != nil {
		return nil, config.Config{}, fmt.Errorf("start demo simulator: %w", err)
	}
	cfg := config.Default()
	for _, id := range []string{"demo-motion", "demo-static"} {
		c := config.DefaultCamera()
		c.ID, c.URL = id, srv.URL(id)
		cfg.Cameras = append(cfg.Cameras, c)
	}
	cfg.Derive()
	return srv, cfg, nil
}
