package cluster

import (
	"errors"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// The fence and its bounds.
//
// A node stops (fences) a camera whose lease it could not renew for
// unreachable_grace: at most unreachable_grace + fenceTick + the time the
// Runner takes to stop the camera after the moment the last successful
// renewal of its lease was sent. The bound holds however NATS fails,
// because the check does not run in the round: the watchdog (fence) wakes
// every fenceTick and reads only the node's own state, never the NATS
// client (whose methods wait for a reconnect's dial); and every KV
// operation of a round has a deadline (opCtx, renewPipelined, readMembers),
// so a round that blocks on a connection that silently lost its peer does
// not hold the decision either.
//
// The lease itself expires on the server lease_ttl after that renewal was
// written (no sooner than it was sent), and another node takes the camera
// once the lease and this node's heartbeat are both gone. So two nodes run
// one camera for at most unreachable_grace - lease_ttl + fenceTick + the
// stop time (20.5 s with the defaults), and never when unreachable_grace is
// below lease_ttl by more than fenceTick + the stop time.
//
// The one exception is a coordination store known to be down: NATS is
// disconnected and the last dial to every configured server was refused
// (the server's host answered that nothing listens: the process is down, or
// a Kubernetes Service has no endpoint). No node can take a lease then, so
// the node keeps every camera it holds, however long the outage lasts: the
// store's outage must not become a detection outage. The grace of each lease
// counts from its last renewal or from the last moment the store was seen
// down, whichever is later, so a node whose store comes back has
// unreachable_grace to re-assert its leases. Anything else (dials that time
// out, a connection that answers nothing) cannot be told from this node
// alone being cut off while the others take its cameras, and the fence
// applies. (A firewall that rejects this node's connections with a reset
// looks like a store that is down: the node keeps its cameras until the
// path is back and its renewals are rejected.)
//
// While the node has not reached NATS for lease_ttl (its leases are gone,
// or about to be) it is degraded: the cluster_degraded incident (camera: the
// node id), vigil_cluster_degraded and a WARN line, until a heartbeat is
// written again.

// KindClusterDegraded is the incident kind of a node that cannot reach the
// coordination store (NATS) for lease_ttl: it keeps analyzing the cameras
// it holds (until unreachable_grace, or for as long as the store is down),
// and two nodes may analyze one camera meanwhile. Its camera field is the
// node id.
const KindClusterDegraded = "cluster_degraded"

// Causes of a cluster_degraded incident.
const (
	// CauseStoreDown: every NATS server refuses connections; the cameras
	// are kept until it is back.
	CauseStoreDown = "store_down"
	// CauseUnreachable: NATS does not answer (timeouts, a silent
	// connection); the cameras stop unreachable_grace after their last
	// renewal.
	CauseUnreachable = "unreachable"
)

// fenceTick is how often the watchdog checks the leases: the fence's
// resolution.
func (n *Node) fenceTick() time.Duration {
	return min(n.cfg.RenewInterval, 500*time.Millisecond)
}

// fence is the watchdog: every fenceTick it stops the cameras whose lease
// is stale (see above) and starts or updates the cluster_degraded
// incident. It runs until the node stops.
func (n *Node) fence() {
	t := time.NewTicker(n.fenceTick())
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		n.checkFence(time.Now())
		n.touchHeld()
	}
}

// checkFence is one pass of the watchdog at now.
func (n *Node) checkFence(now time.Time) {
	down := n.storeDown()
	n.mu.Lock()
	if down {
		n.downSeen = now
	}
	safe := n.downSeen
	var drop []string
	for id, l := range n.held {
		if now.Sub(later(l.renewed, safe)) > n.cfg.UnreachableGrace {
			drop = append(drop, id)
			delete(n.held, id) // here, so that a concurrent check counts it once
		}
	}
	lost := now.Sub(n.contact) > n.cfg.LeaseTTL
	n.mu.Unlock()
	if len(drop) > 0 {
		slices.Sort(drop)
		n.m.lost.WithLabelValues("unreachable").Add(float64(len(drop)))
		n.log.Warn("leases not renewed for unreachable_grace; stopping cameras", "cameras", drop)
		n.apply()
	}
	if lost {
		cause := CauseUnreachable
		if down {
			cause = CauseStoreDown
		}
		n.degrade(now, cause)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// contacted notes that a write reached NATS (a heartbeat sent at sent):
// a degraded node is so no more.
func (n *Node) contacted(sent time.Time) {
	n.mu.Lock()
	if sent.After(n.contact) {
		n.contact = sent
	}
	n.mu.Unlock()
	n.recover(time.Now(), "cluster no longer degraded: nats reached again")
}

// degraded is the open cluster_degraded incident and what was last sent.
type degraded struct {
	inc       *incident.Incident
	sentCause string
	sentAt    time.Time
	savedAt   time.Time // last written to Options.DegradedPath
}

// degrade opens the cluster_degraded incident, or updates its cause (at
// most once per lease_ttl).
func (n *Node) degrade(now time.Time, cause string) {
	n.degMu.Lock()
	defer n.degMu.Unlock()
	d := &n.deg
	if d.inc != nil {
		if now.Sub(d.savedAt) >= n.cfg.LeaseTTL {
			n.saveDegraded(*d.inc, now) // the node still runs
		}
		if cause == d.sentCause || now.Sub(d.sentAt) < n.cfg.LeaseTTL {
			return
		}
		d.inc.Cause, d.inc.FrameTime = cause, now.UTC()
		d.sentCause, d.sentAt = cause, now
		n.log.Warn("cluster still degraded; cause changed", "cause", cause)
		n.emitDegraded(incident.New(incident.TypeUpdate, *d.inc, now))
		return
	}
	n.mu.Lock()
	since := n.contact.UTC()
	cams := len(n.held)
	n.mu.Unlock()
	d.inc = &incident.Incident{
		IncidentID:      incident.DeriveID(n.cfg.NodeID, KindClusterDegraded, "", since),
		Camera:          n.cfg.NodeID,
		Kind:            KindClusterDegraded,
		Cause:           cause,
		StartedAt:       since,
		FrameTime:       now.UTC(),
		FrameTimeSource: incident.TimeReceipt,
		Score:           1,
		Boxes:           [][4]float64{},
	}
	d.sentCause, d.sentAt = cause, now
	n.m.degraded.Set(1)
	n.log.Warn("cluster degraded: nats not reached for lease_ttl; analyzing the cameras held without coordination",
		"cause", cause, "since", since, "cameras", cams)
	// Saved first: should the node die now, its next run ends it (an end
	// with no start is harmless; a start with no end is not).
	n.saveDegraded(*d.inc, now)
	n.emitDegraded(incident.New(incident.TypeStart, *d.inc, now))
}

// recover ends the cluster_degraded incident, if open, logging msg.
func (n *Node) recover(now time.Time, msg string) {
	n.degMu.Lock()
	defer n.degMu.Unlock()
	d := &n.deg
	if d.inc == nil {
		return
	}
	inc := *d.inc
	end := now.UTC()
	inc.EndedAt, inc.FrameTime = &end, end
	*d = degraded{}
	n.m.degraded.Set(0)
	n.log.Info(msg, "degraded_for", now.Sub(inc.StartedAt).Round(time.Millisecond))
	n.emitDegraded(incident.New(incident.TypeEnd, inc, now))
	n.dropDegraded()
}

func (n *Node) emitDegraded(ev incident.Event) {
	if err := n.opts.Emit(ev); err != nil {
		n.m.errors.WithLabelValues("incidents").Inc()
		n.log.Error("cluster_degraded event not emitted", "type", ev.Type, "error", err)
	}
}

// storeDown reports whether NATS is known to be down: disconnected, and the
// last dials, one per configured server at least, were all refused. It
// reads only the node's own state (the NATS client's may wait for a dial).
func (n *Node) storeDown() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.connectedAt.IsZero() && n.refusedRun >= len(strings.Split(n.cfg.NATSURL, ","))
}

// dialer is the NATS client's dialer: it notes whether each dial was
// refused (storeDown).
type dialer struct {
	n *Node
	d net.Dialer
}

// Dial dials and notes the outcome: a refusal lengthens the run of refused
// dials, anything else (a connection, a timeout) ends it.
func (d *dialer) Dial(network, address string) (net.Conn, error) {
	c, err := d.d.Dial(network, address)
	d.n.mu.Lock()
	if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
		d.n.refusedRun++
	} else {
		d.n.refusedRun = 0
	}
	d.n.mu.Unlock()
	return c, err
}
