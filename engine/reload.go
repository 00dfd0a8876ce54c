package engine

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/vigil-video/vigil/config"
)

// ReloadResult says what Apply changed, by camera id.
type ReloadResult struct {
	Added, Removed, Restarted, Unchanged []string
	// Failed holds the cameras that could not be started (a resource
	// failed, e.g. the decoder), with why; every other camera runs.
	Failed map[string]error
}

// Apply replaces the running configuration with cfg, touching only the
// difference: cameras that are new are started, cameras that are gone are
// stopped (their open incidents ended), cameras whose settings changed are
// restarted, and every other camera keeps running untouched. cfg is
// complete and valid (config.Load validated it). A change to sinks, outbox or evidence is refused the same
// way (ErrNeedsRestart, naming the key): the running delivery and evidence
// store cannot be swapped under the cameras. Settings of the engine itself
// (listen, workers, queue_memory_mb, start_spread, web_config_file, http, pprof,
// objects)
// need a restart too: a change to them is logged and ignored, and the
// cameras are applied.
// Apply is safe for concurrent use; calls are serialized.
func (e *Engine) Apply(cfg config.Config) (ReloadResult, error) {
	var res ReloadResult
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return res, ErrClosed
	}
	old := e.cfg // never written after New: safe to read without e.mu
	for _, kv := range []struct {
		key      string
		was, now any
	}{{"sinks", old.Sinks, cfg.Sinks}, {"outbox", old.Outbox, cfg.Outbox}, {"evidence", old.Evidence, cfg.Evidence},
		{"history", old.History, cfg.History}} {
		if !reflect.DeepEqual(kv.was, kv.now) {
			return res, fmt.Errorf("%s: %w", kv.key, ErrNeedsRestart)
		}
	}
	for _, kv := range []struct {
		key      string
		was, now any
	}{{"listen", old.Listen, cfg.Listen}, {"workers", old.Workers, cfg.Workers}, {"queue_memory_mb", old.QueueMemoryMB, cfg.QueueMemoryMB}, {"stream_memory_mb", old.StreamMemoryMB, cfg.StreamMemoryMB},
		{"start_spread", old.StartSpread, cfg.StartSpread}, {"web_config_file", old.WebConfigFile, cfg.WebConfigFile}, {"pprof", old.Pprof, cfg.Pprof},
		{"objects", old.Objects, cfg.Objects}, {"http", old.HTTP, cfg.HTTP}} {
		if kv.key == "start_spread" && old.StartSpread == config.DefaultStartSpread(len(old.Cameras)) &&
			cfg.StartSpread == config.DefaultStartSpread(len(cfg.Cameras)) {
			continue // both the default, which follows the camera count: nothing was configured
		}
		if !reflect.DeepEqual(kv.was, kv.now) {
			e.log.Warn("setting needs a restart; keeping the running value", "key", kv.key, "running", kv.was, "configured", kv.now)
		}
	}
	want := map[string]config.Camera{}
	for _, cc := range cfg.Cameras {
		want[cc.ID] = cc
	}
	// Stop what is gone or changed.
	var stop []*camera
	for _, c := range e.snapshot() {
		nc, ok := want[c.id]
		switch {
		case !ok:
			res.Removed = append(res.Removed, c.id)
			stop = append(stop, c)
		case !reflect.DeepEqual(nc, c.cfg):
			res.Restarted = append(res.Restarted, c.id)
			stop = append(stop, c)
		default:
			res.Unchanged = append(res.Unchanged, c.id)
		}
	}
	for _, c := range stop {
		e.stopCamera(c)
	}
	// Start what is new or changed, in configuration order.
	unchanged := map[string]bool{}
	for _, id := range res.Unchanged {
		unchanged[id] = true
	}
	for _, cc := range cfg.Cameras {
		if unchanged[cc.ID] {
			continue
		}
		c, err := newCamera(e, cc)
		if err != nil { // validated above; only resources can fail here
			e.log.Error("camera not started", "camera", cc.ID, "error", err)
			if res.Failed == nil {
				res.Failed = map[string]error{}
			}
			res.Failed[cc.ID] = err
			continue
		}
		e.mu.Lock()
		e.cameras[cc.ID] = c
		e.mu.Unlock()
		if !containsID(res.Restarted, cc.ID) {
			res.Added = append(res.Added, cc.ID)
		}
		c.start()
	}
	e.log.Info("configuration applied", "added", len(res.Added), "removed", len(res.Removed),
		"restarted", len(res.Restarted), "unchanged", len(res.Unchanged))
	e.camerasChanged(cfg.Cameras)
	return res, nil
}

// ErrNeedsRestart marks a reload refused because it changes a key that
// only a restart applies (sinks, outbox, evidence); the error names the key.
var ErrNeedsRestart = errors.New("changes need a restart; the running configuration is kept")

// stopCamera stops one camera for good: its session, then its queue (waiting
// for the unit in progress), ends its open incidents and forgets its series.
func (e *Engine) stopCamera(c *camera) {
	c.sess.Close()
	c.queue.CloseWait()
	now := time.Now()
	c.flush(now)
	c.health.End(now)
	c.close()
	e.mu.Lock()
	delete(e.cameras, c.id)
	e.mu.Unlock()
	e.metrics.RemoveCamera(c.id)
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
