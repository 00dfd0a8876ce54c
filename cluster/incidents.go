package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-video/vigil/incident"
)

// incidents are the incidents open on this node, per camera, mirrored to
// the incidents bucket (one key per camera) so that the next owner of a
// camera whose node died can end them.
type incidents struct {
	mu    sync.Mutex
	open  map[string]map[string]incident.Incident // camera → incident id → data
	dirty map[string]bool
	kick  chan struct{}
	flush sync.Mutex // one write per camera at a time, in order
}

func (in *incidents) init() {
	in.open, in.dirty, in.kick = map[string]map[string]incident.Incident{}, map[string]bool{}, make(chan struct{}, 1)
}

// record is a camera's entry in the incidents bucket.
type record struct {
	Node      string              `json:"node"`
	Incidents []incident.Incident `json:"incidents"`
}

// Observe notes an event this node emits (call it for every event, before
// or after publishing it): a start or update records the incident as open
// on its camera, an end forgets it. The record is written to the incidents
// bucket in the background, a few milliseconds later. It never blocks.
func (n *Node) Observe(ev incident.Event) {
	in := &n.inc
	cam := ev.Data.Camera
	in.mu.Lock()
	switch ev.Type {
	case incident.TypeStart, incident.TypeUpdate:
		if ev.Data.Kind == KindClusterDegraded {
			in.mu.Unlock()
			return // the node's own, not a camera's
		}
		if in.open[cam] == nil {
			in.open[cam] = map[string]incident.Incident{}
		}
		inc := ev.Data
		inc.Evidence = nil // on this node's disk; the record stays small
		in.open[cam][inc.IncidentID] = inc
	case incident.TypeEnd:
		delete(in.open[cam], ev.Data.IncidentID)
		if len(in.open[cam]) == 0 {
			delete(in.open, cam)
		}
	default:
		in.mu.Unlock()
		return
	}
	in.dirty[cam] = true
	in.mu.Unlock()
	select {
	case in.kick <- struct{}{}:
	default:
	}
}

// incidentWriter writes the dirty records until the node stops, retrying
// every renew_interval while NATS is away.
func (n *Node) incidentWriter() {
	t := time.NewTicker(n.cfg.RenewInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.inc.kick:
		case <-t.C:
		}
		n.inc.mu.Lock()
		cams := slices.Collect(maps.Keys(n.inc.dirty))
		n.inc.mu.Unlock()
		for _, c := range cams {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			n.flushIncidents(ctx, c)
			cancel()
		}
	}
}

// RecordIncidents writes now the records of the cameras that have a start
// among evs (Observe noted it), within 1 s in all: delivery calls it before
// it stores the events, so that a start any consumer sees is recorded for
// the camera's next owner, should this node die right after. It does
// nothing while NATS is away; a record not written in time is left to the
// writer.
func (n *Node) RecordIncidents(evs []incident.Event) {
	var ctx context.Context
	for i, ev := range evs {
		if ev.Type != incident.TypeStart || slices.ContainsFunc(evs[:i], func(e incident.Event) bool {
			return e.Type == incident.TypeStart && e.Data.Camera == ev.Data.Camera
		}) {
			continue
		}
		if ctx == nil {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(context.Background(), time.Second)
			defer cancel()
		}
		n.flushIncidents(ctx, ev.Data.Camera)
	}
}

// flushIncidents writes camera's record if it changed: its open incidents,
// or no key when there are none.
func (n *Node) flushIncidents(ctx context.Context, camera string) {
	n.mu.Lock()
	kv := n.incidents
	n.mu.Unlock()
	if kv == nil || !n.connected() {
		return
	}
	in := &n.inc
	in.flush.Lock()
	defer in.flush.Unlock()
	in.mu.Lock()
	if !in.dirty[camera] {
		in.mu.Unlock()
		return
	}
	delete(in.dirty, camera)
	open := slices.Collect(maps.Values(in.open[camera]))
	in.mu.Unlock()
	var err error
	if len(open) == 0 {
		err = kv.Delete(ctx, key(camera))
	} else {
		slices.SortFunc(open, func(a, b incident.Incident) int { return a.StartedAt.Compare(b.StartedAt) })
		b, _ := json.Marshal(record{Node: n.cfg.NodeID, Incidents: open}) //nolint:errchkjson // plain data
		_, err = kv.Put(ctx, key(camera), b)
	}
	if err != nil {
		in.mu.Lock()
		in.dirty[camera] = true // retried on the next tick
		in.mu.Unlock()
		n.m.errors.WithLabelValues("incidents").Inc()
		n.log.Warn("open incidents not recorded", "camera", camera, "error", n.hide(err))
	}
}

// endOrphans ends the incidents another node (or this node's previous
// run) left open on camera, before this node starts it: an end event each,
// with its derived id (incident.EndID), ended at the time it is found; then the
// record goes.
func (n *Node) endOrphans(camera string) {
	ctx, cancel := n.opCtx()
	defer cancel()
	e, err := n.incidents.Get(ctx, key(camera))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return
	}
	if err != nil {
		n.m.errors.WithLabelValues("incidents").Inc()
		n.log.Warn("open incidents of the previous owner not read", "camera", camera, "error", n.hide(err))
		return
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		n.log.Warn("open incidents record ignored: not JSON", "camera", camera)
	}
	now := time.Now().UTC()
	for _, inc := range r.Incidents {
		inc.EndedAt, inc.FrameTime, inc.FrameTimeSource = &now, now, incident.TimeReceipt
		ev := incident.New(incident.TypeEnd, inc, now) // its id: incident.EndID
		if err := n.opts.Emit(ev); err != nil {
			n.m.errors.WithLabelValues("incidents").Inc()
			n.log.Error("end of an orphaned incident not emitted", "camera", camera, "incident", inc.IncidentID, "error", err)
			continue
		}
		n.m.orphans.Inc()
		n.log.Info("incident of the previous owner ended", "camera", camera, "incident", inc.IncidentID, "previous_owner", r.Node)
	}
	if err := n.incidents.Delete(ctx, key(camera), jetstream.LastRevision(e.Revision())); err != nil {
		n.m.errors.WithLabelValues("incidents").Inc()
		n.log.Warn("open incidents record not deleted", "camera", camera, "error", n.hide(err))
	}
}
