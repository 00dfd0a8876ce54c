package service

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"sync"

	"github.com/vigil-video/vigil/cluster"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/delivery"
	"github.com/vigil-video/vigil/engine"
)

// clusterRun is `vigil run` with a cluster section: the engine runs only
// the cameras whose lease this node holds. It is the node's Runner (the
// owned set, applied to the engine) and what a reload applies (the whole
// list goes to the node, the owned part to the engine). The node observes
// the events through a delivery hook: the engine publishes straight to
// delivery.
type clusterRun struct {
	node *cluster.Node
	d    *delivery.Delivery
	log  *slog.Logger

	mu    sync.Mutex // serializes Run and Apply
	e     *engine.Engine
	full  config.Config // the whole camera list, as loaded
	owned []string
}

func newClusterRun(cfg config.Config, d *delivery.Delivery, log *slog.Logger) (*clusterRun, error) {
	r := &clusterRun{d: d, log: log, full: cfg}
	// The node's open cluster_degraded incident is kept beside the outbox
	// (the data directory), for its next run to end should it die degraded.
	n, err := cluster.New(*cfg.Cluster, cluster.Options{Runner: r, Emit: d.Emit, Discard: d.Discard, Logger: log.With("component", "cluster"),
		DegradedPath: filepath.Join(filepath.Dir(cfg.Outbox.Path), "cluster-degraded.json"),
		HeldPath:     filepath.Join(filepath.Dir(cfg.Outbox.Path), "cluster-held.json")})
	if err != nil {
		return nil, err
	}
	r.node = n
	// The node notes every event delivery stores (the open incidents of
	// its cameras), and a start is recorded for the camera's next owner
	// before any sink can have it: should this node die right after, the
	// next owner ends it. A start that cannot be recorded is held back
	// (cluster/held.go).
	d.BeforeStore(n.Filter)
	return r, nil
}

// start begins sharing once the engine runs.
func (r *clusterRun) start(e *engine.Engine) error {
	r.mu.Lock()
	r.e = e
	ids := cameraIDs(r.full.Cameras)
	r.mu.Unlock()
	r.node.SetCameras(ids)
	return r.node.Start()
}

// Run makes the engine run exactly ids (cluster.Runner): it returns once
// the others have stopped.
func (r *clusterRun) Run(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.owned = slices.Clone(ids)
	if _, err := r.e.Apply(r.part(r.full)); err != nil {
		r.log.Error("owned cameras not applied", "cameras", len(ids), "error", err)
	}
}

// Stop stops the engine, ending its cameras' incidents (cluster.Runner):
// the node is closing and hands the cameras over.
func (r *clusterRun) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.e.Close()
}

// part returns cfg with only the owned cameras.
func (r *clusterRun) part(cfg config.Config) config.Config {
	own := map[string]bool{}
	for _, id := range r.owned {
		own[id] = true
	}
	cfg.Cameras = slices.DeleteFunc(slices.Clone(cfg.Cameras), func(c config.Camera) bool { return !own[c.ID] })
	return cfg
}

// Apply is a reload: the engine gets the owned part of cfg (refused as a
// whole if invalid), the node the whole list. A change to the cluster
// section needs a restart: it is logged and the running one kept.
func (r *clusterRun) Apply(cfg config.Config) (engine.ReloadResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cfg.Cluster == nil {
		return engine.ReloadResult{}, fmt.Errorf("cluster: %w", engine.ErrNeedsRestart)
	}
	if !reflect.DeepEqual(*cfg.Cluster, *r.full.Cluster) {
		r.log.Warn("setting needs a restart; keeping the running value", "key", "cluster")
		cfg.Cluster = r.full.Cluster
	}
	res, err := r.e.Apply(r.part(cfg))
	if err != nil {
		return res, err
	}
	r.full = cfg
	r.node.SetCameras(cameraIDs(cfg.Cameras))
	return res, nil
}

func cameraIDs(cs []config.Camera) []string {
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}
