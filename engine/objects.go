package engine

import (
	"errors"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/cpuload"
)

// The object detector: one network and one inference goroutine for all
// cameras, under a budget that follows the machine (analyze/budget.go)
// up to objects.max_per_second.

// objectsFallback is what runs instead of the network.
const objectsFallback = "people by HOG where person.enabled, motion otherwise"

// openObjects loads the object network when objects.enabled. Without its
// model file, or with one that cannot be loaded, the engine runs without
// it and says so once.
func (e *Engine) openObjects() {
	o := e.cfg.Objects
	if !o.Enabled {
		return
	}
	e.metrics.ObjectsEnabled.Set(1)
	// The tracker continues objects on detections under min_score.
	open := func(model string) (*analyze.Network, error) {
		return analyze.OpenNetwork(model, o.Threads, analyze.TrackLowScore(min(o.MinScore, o.VehicleMinScore)))
	}
	net, err := open(o.Model)
	if def := config.DefaultObjects().Model; errors.Is(err, fs.ErrNotExist) && o.Model == def {
		// A cache made when the float model was the default: run it.
		float := filepath.Join(filepath.Dir(def), filepath.Base(config.FloatModelPath))
		if fnet, ferr := open(float); ferr == nil {
			e.log.Warn("the 8-bit object model is absent; running the float one beside it (bash scripts/models.sh makes the 8-bit one, 2.3 times cheaper an inference)",
				"model", o.Model, "running", float)
			net, err, o.Model = fnet, nil, float
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		e.log.Warn("object model absent; running without the network", "fallback", objectsFallback, "model", o.Model, "error", err)
		return
	}
	if err != nil {
		e.log.Error("object model unusable; running without the network", "fallback", objectsFallback, "model", o.Model, "error", err)
		return
	}
	e.net = net
	e.infer = analyze.NewInference(net, analyze.InferenceConfig{MaxPerSecond: o.MaxPerSecond, Load: e.loadMeter(),
		MinScore: o.MinScore, VehicleMinScore: o.VehicleMinScore, Labels: o.Labels, FirstLook: o.FirstLook}, e.metrics)
	infer := e.infer
	e.metrics.Reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigil_objects_budget_per_second",
		Help: "The object network's budget now, inferences per second, all cameras together: it follows the machine's load under objects.max_per_second.",
	}, infer.Rate))
	e.metrics.ObjectModel.Set(1)
	e.log.Info("object network loaded", "model", o.Model, "kind", net.Family(), "min_score", o.MinScore,
		"vehicle_min_score", o.VehicleMinScore, "max_per_second", o.MaxPerSecond, "threads", o.Threads, "labels", o.Labels)
}

// loadMeter returns the load the inference budget follows: the busier of
// the machine's CPUs (/proc/stat) and the analysis workers (the share of
// their time in the handler), since the previous call. For the
// inference goroutine alone. Without /proc/stat it says so once and
// follows the workers.
func (e *Engine) loadMeter() func() float64 {
	cpu := cpuload.New()
	var lastBusy time.Duration
	var lastAt time.Time
	warned := false
	return func() float64 {
		load, err := cpu.Load()
		if err != nil && !warned {
			warned = true
			e.log.Warn("machine load unreadable; the inference budget follows the analysis workers alone", "error", err)
		}
		now := time.Now()
		_, busy := e.pool.Busy()
		if !lastAt.IsZero() && now.After(lastAt) {
			w := float64(now.Sub(lastAt)) * float64(e.pool.Workers())
			load = max(load, float64(busy-lastBusy)/w)
		}
		lastBusy, lastAt = busy, now
		return min(load, 1)
	}
}

// objectSlot returns a camera's place in the inference queue, nil without
// the network.
func (e *Engine) objectSlot(camera string) *analyze.ObjectSlot {
	if e.infer == nil {
		return nil
	}
	return e.infer.Slot(camera)
}

// closeObjects stops inference and frees the network; after the cameras.
func (e *Engine) closeObjects() {
	if e.infer != nil {
		e.infer.Close()
		e.infer = nil
	}
	if e.net != nil {
		e.net.Close()
		e.net = nil
	}
	e.metrics.ObjectModel.Set(0)
}

// ObjectsLoaded reports whether the object network runs.
func (e *Engine) ObjectsLoaded() bool { return e.infer != nil }
