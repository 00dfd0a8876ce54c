package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-video/vigil/incident"
)

// Incidents held while a node is in doubt.
//
// A node that cannot record a start in the incidents bucket (NATS does not
// answer and is not known to be down) cannot tell whether another node has
// taken the camera or is about to: its lease may expire while it is cut
// off, and the next owner, which never saw the start, detects the same
// thing as an incident of its own. A consumer would see one event as two.
// So such a start is held, with every later event of its incident, instead
// of delivered (Filter), and settled later (settleHeld):
//
//   - released (delivered late, with their own times and ids), on a lease
//     held since before the hold began, once a renewal of it sent after
//     the hold began succeeds (nobody else had the camera), or once the
//     store is known down (nobody can take a lease);
//   - reconciled once the node no longer holds the camera, its incident
//     has ended and NATS answers again: if the camera's owner recorded an
//     incident of the same kind and zone whose times overlap it (its open
//     incidents, and those it started in the takeover window after taking
//     the camera: record.Recent), it is dropped, counted
//     (vigil_cluster_held_incidents_total{outcome="merged"}) and logged;
//     any other is released.
//
// What is held is kept in Options.HeldPath, so that the next run of a node
// that dies holding incidents settles them (those with no end get one, at
// their last event): a held incident is delayed, never lost. The cost: an
// incident that starts on a cut-off node reaches the sinks after the cut
// (and not at all when the camera's next owner reported it), and a start
// during a NATS blip waits for the next renewal.

// maxHeld bounds the incidents held at once: beyond it the oldest is
// released at once (a consumer may then see it twice; never lost).
const maxHeld = 256

// heldIncident is one incident whose events are held: its start, its last
// update (earlier ones are dropped: each says less than the last) and its
// end.
type heldIncident struct {
	Camera string          `json:"camera"`
	Since  time.Time       `json:"since"` // when the hold began (this node's clock)
	Start  incident.Event  `json:"start"`
	Update *incident.Event `json:"update,omitempty"`
	End    *incident.Event `json:"end,omitempty"`
	// Previous: held by an earlier run of this node (read from the file):
	// only a reconciliation settles it.
	Previous bool `json:"-"`
	// releasing: its start was published again (release); when it comes
	// back through Filter, the held update and end and the late events
	// (published before the release, reaching Filter before the start)
	// follow it, in order.
	releasing bool
	late      []incident.Event
}

// holds are the held incidents.
type holds struct {
	mu     sync.Mutex
	byID   map[string]*heldIncident
	passed map[string]bool // released incidents still open: their events pass
	order  []string        // incident ids, oldest hold first
	saved  time.Time       // last written to Options.HeldPath
	saveMu sync.Mutex      // one write of the file at a time, each the latest state
}

func (h *holds) init() { h.byID, h.passed = map[string]*heldIncident{}, map[string]bool{} }

// Filter is the delivery hook (delivery.BeforeStore): it notes each event
// (Observe), records the starts for the camera's next owner
// (RecordIncidents), and returns the events to store now. The events of
// a start that could not be recorded while the store is not known down
// are held (see above); a released incident's events follow its start
// when it comes back.
func (n *Node) Filter(evs []incident.Event) []incident.Event {
	h := &n.holds
	var hold []incident.Event
	var ended []string
	released := false
	kept := make([]incident.Event, 0, len(evs))
	h.mu.Lock()
	for _, ev := range evs {
		id := ev.Data.IncidentID
		hi := h.byID[id]
		switch {
		case hi == nil:
			if ev.Type == incident.TypeEnd && h.passed[id] {
				ended = append(ended, id)
			}
			kept = append(kept, ev)
		case hi.releasing && ev.Type == incident.TypeStart && ev.ID == hi.Start.ID:
			// The released start is back: it passes, and what was held
			// and what came meanwhile follow it.
			delete(h.byID, id)
			h.order = slices.DeleteFunc(h.order, func(x string) bool { return x == id })
			released = true
			kept = append(kept, ev)
			rest := slices.DeleteFunc([]*incident.Event{hi.Update, hi.End}, func(e *incident.Event) bool { return e == nil })
			for _, e := range rest {
				kept = append(kept, *e)
			}
			kept = append(kept, hi.late...)
			// Its events pass from now on, however their record goes,
			// until its end has passed.
			h.passed[id] = true
			if hi.End != nil || slices.ContainsFunc(hi.late, func(e incident.Event) bool { return e.Type == incident.TypeEnd }) {
				ended = append(ended, id)
			}
		case ev.Type == incident.TypeStart:
			// The same start again while held: it is already here.
		case hi.releasing:
			hi.late = append(hi.late, ev)
		default:
			hold = append(hold, ev)
		}
	}
	n.m.held.Set(float64(len(h.byID)))
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		for _, id := range ended {
			delete(h.passed, id)
		}
		h.mu.Unlock()
	}()
	for _, ev := range kept {
		n.Observe(ev)
	}
	unrecorded := n.RecordIncidents(kept)
	if len(unrecorded) > 0 && !n.storeDown() {
		out := kept[:0]
		h.mu.Lock()
		for _, ev := range kept {
			if ev.Type == incident.TypeStart && unrecorded[ev.Data.Camera] && !h.passed[ev.Data.IncidentID] &&
				ev.Data.Kind != KindClusterDegraded {
				n.unobserve(ev)
				h.byID[ev.Data.IncidentID] = &heldIncident{Camera: ev.Data.Camera, Since: time.Now(), Start: ev}
				h.order = append(h.order, ev.Data.IncidentID)
				n.log.Warn("incident held: its start could not be recorded for the camera's next owner; delivered once the lease is renewed or the next owner's incidents are known",
					"camera", ev.Data.Camera, "incident", ev.Data.IncidentID, "kind", ev.Data.Kind)
				continue
			}
			if hi := h.byID[ev.Data.IncidentID]; hi != nil { // a later event of an incident held above
				hold = append(hold, ev)
				continue
			}
			out = append(out, ev)
		}
		h.mu.Unlock()
		kept = out
	}
	if len(hold) > 0 || len(unrecorded) > 0 || released {
		n.holdEvents(hold)
	}
	return kept
}

// holdEvents adds the later events of held incidents, bounds the hold and
// saves it.
func (n *Node) holdEvents(evs []incident.Event) {
	h := &n.holds
	h.mu.Lock()
	for _, ev := range evs {
		hi := h.byID[ev.Data.IncidentID]
		if hi == nil {
			continue
		}
		switch ev.Type {
		case incident.TypeUpdate:
			hi.Update = &ev
		case incident.TypeEnd:
			hi.End = &ev
		}
	}
	var over []*heldIncident
	for _, id := range h.order {
		if len(h.order)-len(over) <= maxHeld {
			break
		}
		if hi := h.byID[id]; hi != nil && !hi.releasing {
			over = append(over, hi)
		}
	}
	h.mu.Unlock()
	for _, hi := range over {
		n.log.Warn("too many incidents held; releasing the oldest now (a consumer may see it twice)", "camera", hi.Camera, "incident", hi.Start.Data.IncidentID)
		n.release(hi, "overflow")
	}
	n.saveHeld()
}

// release delivers a held incident: its start is published again and,
// when it comes back through Filter, the rest follows it (releasing).
func (n *Node) release(hi *heldIncident, outcome string) {
	n.holds.mu.Lock()
	if hi.releasing || n.holds.byID[hi.Start.Data.IncidentID] != hi { // settled meanwhile
		n.holds.mu.Unlock()
		return
	}
	hi.releasing = true
	n.holds.mu.Unlock()
	if err := n.opts.Emit(hi.Start); err != nil {
		n.log.Error("held incident not delivered", "camera", hi.Camera, "incident", hi.Start.Data.IncidentID, "error", err)
	}
	n.m.heldSettled.WithLabelValues(outcome).Inc()
}

// settleHeld releases or reconciles what can be (see above); the incident
// writer calls it every renew_interval, and Close.
func (n *Node) settleHeld() {
	h := &n.holds
	h.mu.Lock()
	if len(h.byID) == 0 {
		h.mu.Unlock()
		return
	}
	pending := slices.DeleteFunc(slices.Collect(maps.Values(h.byID)), func(hi *heldIncident) bool { return hi.releasing })
	h.mu.Unlock()
	down := n.storeDown()
	n.mu.Lock()
	contact, connected := n.contact, !n.connectedAt.IsZero()
	leases := map[string]lease{}
	for id, l := range n.held {
		leases[id] = *l
	}
	kv := n.incidents
	n.mu.Unlock()
	// One deadline for the pass's reads: a NATS that answers slowly must
	// not hold the writer (or Close) for a read per held incident.
	ctx, cancel := context.WithTimeout(context.Background(), min(2*time.Second, n.cfg.RenewInterval))
	defer cancel()
	records := map[string]*record{}
	changed := false
	for _, hi := range pending {
		l, mine := leases[hi.Camera]
		// Held by this node since before the hold began: a renewal after it
		// proves nobody else had the camera meanwhile (a lease taken again
		// later does not).
		continuous := mine && !hi.Previous && !l.since.After(hi.Since)
		outcome := ""
		switch {
		case down && continuous:
			outcome = "store_down" // nobody can take a lease
		case continuous && l.renewed.After(hi.Since):
			outcome = "renewed"
		case !continuous && hi.End != nil && connected && contact.After(hi.Since) && kv != nil && ctx.Err() == nil:
			r, ok := records[hi.Camera]
			if !ok {
				var err error
				if r, err = readRecord(ctx, kv, hi.Camera); err != nil {
					n.m.errors.WithLabelValues("incidents").Inc()
					n.log.Warn("record of the camera's owner not read; held incident kept", "camera", hi.Camera, "error", n.hide(err))
					continue
				}
				records[hi.Camera] = r
			}
			outcome = n.compare(hi, r)
		}
		if outcome != "" && n.finish(hi, outcome) {
			changed = true
		}
	}
	if changed {
		n.saveHeld()
	}
}

// compare says whether the owner's record r reported hi (merged) or not
// (reconciled); hi has ended.
func (n *Node) compare(hi *heldIncident, r *record) string {
	if other := r.overlapping(n.cfg.NodeID, hi.Start.Data, hi.End.Data); other != "" {
		n.log.Info("held incident not delivered: the camera's owner reported it", "camera", hi.Camera,
			"incident", hi.Start.Data.IncidentID, "kind", hi.Start.Data.Kind, "owner", r.Node, "owner_incident", other)
		return "merged"
	}
	return "reconciled"
}

// finish settles hi with outcome: merged drops it (its events go to
// Options.Discard), anything else releases it. It reports whether hi left
// the hold at once (the file must be saved).
func (n *Node) finish(hi *heldIncident, outcome string) bool {
	if outcome != "merged" {
		n.log.Info("held incident delivered", "camera", hi.Camera, "incident", hi.Start.Data.IncidentID, "why", outcome)
		n.release(hi, outcome)
		return false
	}
	h := &n.holds
	h.mu.Lock()
	if hi.releasing || h.byID[hi.Start.Data.IncidentID] != hi { // settled meanwhile
		h.mu.Unlock()
		return false
	}
	delete(h.byID, hi.Start.Data.IncidentID)
	h.order = slices.DeleteFunc(h.order, func(id string) bool { return id == hi.Start.Data.IncidentID })
	n.m.held.Set(float64(len(h.byID)))
	h.mu.Unlock()
	n.m.heldSettled.WithLabelValues(outcome).Inc()
	if n.opts.Discard != nil {
		for _, ev := range []*incident.Event{&hi.Start, hi.Update, hi.End} {
			if ev != nil {
				n.opts.Discard(*ev)
			}
		}
	}
	return true
}

// settleOnTake compares the ended incidents held on camera with r, the
// record of its previous owner, as this node takes the camera (endOrphans,
// before the record goes): afterwards its Recent is gone.
func (n *Node) settleOnTake(camera string, r *record) {
	h := &n.holds
	h.mu.Lock()
	var on []*heldIncident
	for _, hi := range h.byID {
		if hi.Camera == camera && !hi.releasing && hi.End != nil {
			on = append(on, hi)
		}
	}
	h.mu.Unlock()
	changed := false
	for _, hi := range on {
		if n.finish(hi, n.compare(hi, r)) {
			changed = true
		}
	}
	if changed {
		n.saveHeld()
	}
}

// readRecord reads camera's record (an empty one when there is none).
func readRecord(ctx context.Context, kv jetstream.KeyValue, camera string) (*record, error) {
	e, err := kv.Get(ctx, key(camera))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return &record{}, nil
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return &record{}, nil //nolint:nilerr // an unreadable record names no incident
	}
	return &r, nil
}

// overlapping returns the id of an incident of another node in r of the
// same kind and zone as the one from start to end, whose times overlap
// it; "" if none.
func (r *record) overlapping(self string, start, end incident.Incident) string {
	if r.Node == "" || r.Node == self {
		return ""
	}
	from, to := start.StartedAt, end.StartedAt
	if end.EndedAt != nil {
		to = *end.EndedAt
	}
	over := func(s time.Time, e *time.Time) bool {
		return !s.After(to) && (e == nil || !e.Before(from))
	}
	for _, inc := range r.Incidents {
		if inc.Kind == start.Kind && inc.Zone == start.Zone && over(inc.StartedAt, inc.EndedAt) {
			return inc.IncidentID
		}
	}
	for _, b := range r.Recent {
		if b.Kind == start.Kind && b.Zone == start.Zone && over(b.Start, b.End) {
			return b.ID
		}
	}
	return ""
}

// touchHeld rewrites the held file every lease_ttl while anything is
// held (the fence calls it): its time says until when the node ran, the
// end of what a crash leaves open.
func (n *Node) touchHeld() {
	n.holds.mu.Lock()
	due := len(n.holds.byID) > 0 && time.Since(n.holds.saved) >= n.cfg.LeaseTTL
	n.holds.mu.Unlock()
	if due {
		n.saveHeld()
	}
}

// saveHeld writes the held incidents to Options.HeldPath (removes it when
// none is held).
func (n *Node) saveHeld() {
	if n.opts.HeldPath == "" {
		return
	}
	n.holds.saveMu.Lock()
	defer n.holds.saveMu.Unlock()
	n.holds.mu.Lock()
	list := make([]*heldIncident, 0, len(n.holds.order))
	for _, id := range n.holds.order {
		list = append(list, n.holds.byID[id])
	}
	var b []byte
	if len(list) > 0 {
		b, _ = json.Marshal(list) //nolint:errchkjson // plain data
	}
	n.holds.saved = time.Now()
	n.holds.mu.Unlock()
	var err error
	if b == nil {
		if err = os.Remove(n.opts.HeldPath); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	} else {
		tmp := n.opts.HeldPath + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, n.opts.HeldPath)
		}
	}
	if err != nil {
		n.m.errors.WithLabelValues("held_file").Inc()
		n.log.Error("held incidents not saved; a crash now loses them", "path", n.opts.HeldPath, "error", err)
	}
}

// loadHeld reads what a previous run held: each is settled by
// reconciliation once NATS answers; one with no end is ended when the
// previous run last wrote the file (at least every lease_ttl while it
// held anything) or at its last event, whichever is later.
func (n *Node) loadHeld() {
	if n.opts.HeldPath == "" {
		return
	}
	b, err := os.ReadFile(n.opts.HeldPath)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var written time.Time
	if fi, serr := os.Stat(n.opts.HeldPath); serr == nil {
		written = fi.ModTime().UTC()
	}
	var list []*heldIncident
	if err == nil {
		err = json.Unmarshal(b, &list)
	}
	if err != nil {
		n.m.errors.WithLabelValues("held_file").Inc()
		n.log.Error("held incidents of the previous run unreadable; removed", "path", n.opts.HeldPath, "error", err)
		os.Remove(n.opts.HeldPath) //nolint:errcheck // reported above
		return
	}
	h := &n.holds
	h.mu.Lock()
	for _, hi := range list {
		if hi == nil || hi.Start.Data.IncidentID == "" || h.byID[hi.Start.Data.IncidentID] != nil {
			continue
		}
		hi.Previous, hi.Since = true, time.Time{}
		if hi.End == nil {
			last := hi.Start
			if hi.Update != nil {
				last = *hi.Update
			}
			inc := last.Data
			at := later(inc.FrameTime, written)
			inc.EndedAt, inc.FrameTime, inc.FrameTimeSource = &at, at, incident.TimeReceipt
			end := incident.New(incident.TypeEnd, inc, time.Now())
			hi.End = &end
		}
		h.byID[hi.Start.Data.IncidentID] = hi
		h.order = append(h.order, hi.Start.Data.IncidentID)
	}
	n.m.held.Set(float64(len(h.byID)))
	h.mu.Unlock()
	n.log.Info("incidents held by the previous run; settled once nats answers", "incidents", len(list))
}
