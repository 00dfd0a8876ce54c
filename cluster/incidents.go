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
	// flush is held by one write of a record at a time (in order); taken
	// with a deadline, so that RecordIncidents, on delivery's writer,
	// never waits for the writer's slow writes past its own.
	flush chan struct{}
	// taken is when this node took each camera it took from another
	// (acquired, not re-asserted); recent the incidents it started on it
	// within takeoverWindow of that, kept in the record for recentKeep so
	// that a node that analyzed the camera meanwhile, cut off, can tell
	// (held.go).
	taken  map[string]time.Time
	recent map[string][]brief
}

func (in *incidents) init() {
	in.open, in.dirty, in.kick = map[string]map[string]incident.Incident{}, map[string]bool{}, make(chan struct{}, 1)
	in.taken, in.recent = map[string]time.Time{}, map[string][]brief{}
	in.flush = make(chan struct{}, 1)
}

// record is a camera's entry in the incidents bucket.
type record struct {
	Node      string              `json:"node"`
	Incidents []incident.Incident `json:"incidents"`
	// Recent are the incidents Node started in its takeover window (see
	// incidents.taken), open or ended.
	Recent []brief `json:"recent,omitempty"`
}

// brief is an incident in record.Recent.
type brief struct {
	ID    string     `json:"id"`
	Kind  string     `json:"kind"`
	Zone  string     `json:"zone,omitempty"`
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end,omitempty"`
}

// recentKeep is how long a record keeps Recent: a node cut off for longer
// delivers what it held without comparing (a consumer may then see an
// incident twice).
const recentKeep = time.Hour

// maxRecent bounds Recent per camera.
const maxRecent = 32

// takeoverWindow is how long after taking a camera the incidents this node
// starts on it go into Recent: a cut-off previous owner analyzes it for at
// most unreachable_grace - lease_ttl + the fence's tick + its stop time
// after, and its incidents end by then; lease_ttl covers the rest.
func (n *Node) takeoverWindow() time.Duration {
	return n.cfg.UnreachableGrace + n.cfg.LeaseTTL
}

// tookOver notes that this node took camera from another at t.
func (n *Node) tookOver(camera string, t time.Time) {
	n.inc.mu.Lock()
	n.inc.taken[camera] = t
	delete(n.inc.recent, camera)
	n.inc.mu.Unlock()
}

// expireRecent forgets the takeovers older than recentKeep (their records
// are then rewritten without Recent).
func (n *Node) expireRecent(now time.Time) {
	in := &n.inc
	in.mu.Lock()
	for c, t := range in.taken {
		if now.Sub(t) > recentKeep {
			delete(in.taken, c)
			if len(in.recent[c]) > 0 {
				in.dirty[c] = true
			}
			delete(in.recent, c)
		}
	}
	in.mu.Unlock()
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
		if t, ok := in.taken[cam]; ok && ev.Type == incident.TypeStart && inc.StartedAt.Before(t.Add(n.takeoverWindow())) &&
			len(in.recent[cam]) < maxRecent && !slices.ContainsFunc(in.recent[cam], func(b brief) bool { return b.ID == inc.IncidentID }) {
			in.recent[cam] = append(in.recent[cam], brief{ID: inc.IncidentID, Kind: inc.Kind, Zone: inc.Zone, Start: inc.StartedAt})
		}
	case incident.TypeEnd:
		delete(in.open[cam], ev.Data.IncidentID)
		if len(in.open[cam]) == 0 {
			delete(in.open, cam)
		}
		for i, b := range in.recent[cam] {
			if b.ID == ev.Data.IncidentID {
				end := ev.Data.FrameTime
				if ev.Data.EndedAt != nil {
					end = *ev.Data.EndedAt
				}
				in.recent[cam][i].End = &end
			}
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
			n.expireRecent(time.Now())
			n.settleHeld()
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
// writer. It returns the cameras whose record could not be written (nil
// when all were).
func (n *Node) RecordIncidents(evs []incident.Event) map[string]bool {
	var unrecorded map[string]bool
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
		if !n.flushIncidents(ctx, ev.Data.Camera) {
			if unrecorded == nil {
				unrecorded = map[string]bool{}
			}
			unrecorded[ev.Data.Camera] = true
		}
	}
	return unrecorded
}

// unobserve takes back the start Observe noted (its incident is held).
func (n *Node) unobserve(ev incident.Event) {
	in := &n.inc
	cam := ev.Data.Camera
	in.mu.Lock()
	delete(in.open[cam], ev.Data.IncidentID)
	if len(in.open[cam]) == 0 {
		delete(in.open, cam)
	}
	in.recent[cam] = slices.DeleteFunc(in.recent[cam], func(b brief) bool { return b.ID == ev.Data.IncidentID })
	in.dirty[cam] = true
	in.mu.Unlock()
}

// flushIncidents writes camera's record if it changed: its open incidents
// (and Recent), or no key when there are none. It writes only a record
// that is this node's (or none, for a camera it holds): a node that lost
// the camera never overwrites its next owner's. It reports false if an
// open incident is not recorded (NATS away, an error, another node's
// camera).
func (n *Node) flushIncidents(ctx context.Context, camera string) bool {
	n.mu.Lock()
	kv := n.incidents
	l := n.held[camera]
	// Confirmed: a renewal of the lease sent less than lease_ttl ago
	// succeeded, so no other node can hold the camera now. A node cut off
	// still holds the lease in its own eyes until its fence.
	confirmed := l != nil && time.Since(l.renewed) < n.cfg.LeaseTTL
	n.mu.Unlock()
	if kv == nil || !n.connected() {
		return false
	}
	in := &n.inc
	select {
	case in.flush <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-in.flush }()
	in.mu.Lock()
	if !in.dirty[camera] {
		in.mu.Unlock()
		return true
	}
	delete(in.dirty, camera)
	open := slices.Collect(maps.Values(in.open[camera]))
	recent := slices.Clone(in.recent[camera])
	in.mu.Unlock()
	// notOurs: the record cannot be this node's now; what is open here is
	// not recorded (tried again on the next tick while it stays open).
	notOurs := func() bool {
		if len(open) == 0 {
			return true
		}
		in.mu.Lock()
		in.dirty[camera] = true
		in.mu.Unlock()
		return false
	}
	var rev uint64
	e, err := kv.Get(ctx, key(camera))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		err = nil
	case err == nil:
		var r record
		if json.Unmarshal(e.Value(), &r) == nil && r.Node != "" && r.Node != n.cfg.NodeID {
			if !confirmed {
				return notOurs() // the camera's next owner's: its incidents are its own
			}
			// Left by a previous owner whose record endOrphans could not
			// end when this node took the camera: end it now, then write.
			n.endRecord(camera, r)
		}
		rev = e.Revision()
	}
	switch {
	case err != nil:
	case len(open) == 0 && len(recent) == 0:
		if rev != 0 {
			err = kv.Delete(ctx, key(camera), jetstream.LastRevision(rev))
		}
	case rev == 0 && !confirmed:
		// No record and the camera not surely this node's: its next owner
		// ended what was open (endOrphans), or is about to take it;
		// writing now would leave it open, or block the owner.
		return notOurs()
	default:
		slices.SortFunc(open, func(a, b incident.Incident) int { return a.StartedAt.Compare(b.StartedAt) })
		b, _ := json.Marshal(record{Node: n.cfg.NodeID, Incidents: open, Recent: recent}) //nolint:errchkjson // plain data
		if rev == 0 {
			_, err = kv.Create(ctx, key(camera), b)
		} else {
			_, err = kv.Update(ctx, key(camera), b, rev)
		}
	}
	if err != nil {
		in.mu.Lock()
		in.dirty[camera] = true // retried on the next tick
		in.mu.Unlock()
		n.m.errors.WithLabelValues("incidents").Inc()
		n.log.Warn("open incidents not recorded", "camera", camera, "error", n.hide(err))
		return false
	}
	return true
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
		n.settleOnTake(camera, &record{})
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
	// What this node held on the camera is compared with the previous
	// owner's record before it goes (its Recent with it).
	n.settleOnTake(camera, &r)
	n.endRecord(camera, r)
	if err := n.incidents.Delete(ctx, key(camera), jetstream.LastRevision(e.Revision())); err != nil {
		n.m.errors.WithLabelValues("incidents").Inc()
		n.log.Warn("open incidents record not deleted", "camera", camera, "error", n.hide(err))
	}
}

// endRecord ends the incidents r (another node's record of camera) holds
// open: an end event each, with its derived id (incident.EndID), ended at
// the time it is found.
func (n *Node) endRecord(camera string, r record) {
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
}
