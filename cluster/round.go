package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// round is one pass of the node's loop: heartbeat, renewals, membership,
// then releases and acquisitions. While NATS is unreachable it does
// nothing: the fence (fence.go) stops the cameras whose leases are stale.
func (n *Node) round() {
	n.mu.Lock()
	connectedAt := n.connectedAt
	n.mu.Unlock()
	connected := !connectedAt.IsZero()
	if connected && n.leases == nil {
		if err := n.ensureBuckets(); err != nil {
			n.m.errors.WithLabelValues("buckets").Inc()
			n.log.Warn("cluster buckets not ready", "error", n.hide(err))
			connected = false
		}
	}
	if !connected {
		return
	}
	settled := time.Since(connectedAt) >= n.cfg.Settle
	// The heartbeat first: after NATS comes back, the others must see
	// which cameras this node holds before their settle ends, however slow
	// the renewals are.
	n.heartbeat(settled)
	n.renew()
	if err := n.readMembers(); err != nil {
		n.m.errors.WithLabelValues("members").Inc()
		n.log.Warn("cluster membership not read; keeping the last view", "error", n.hide(err))
		return
	}
	n.rebalance(settled)
}

// forget drops leases from the held set (the caller then applies).
func (n *Node) forget(ids []string) {
	n.mu.Lock()
	for _, id := range ids {
		delete(n.held, id)
	}
	n.mu.Unlock()
}

// apply tells the runner the held set, if it changed, and returns once it
// runs it (the round and the fence both call it, one at a time).
func (n *Node) apply() {
	n.runMu.Lock()
	defer n.runMu.Unlock()
	n.mu.Lock()
	ids := slices.Sorted(maps.Keys(n.held))
	same := slices.Equal(ids, n.running)
	n.running = ids
	n.mu.Unlock()
	n.m.owned.Set(float64(len(ids)))
	if !same {
		n.opts.Runner.Run(ids)
	}
}

// isConflict says whether err is JetStream's "wrong last sequence": the
// key was written by someone else since our revision, or is gone.
func isConflict(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// renew renews every held lease with its revision. A lease another node
// holds now is lost at once (its camera stops in this round); a lease that
// expired (NATS was down longer than lease_ttl) is re-asserted with
// create-if-absent; any other failure is counted, and the camera kept until
// the fence finds its lease stale (checked again right after the
// renewals, whatever they waited for). A lease's renewal time is when its
// renewal was sent: the server's lease_ttl starts no sooner.
func (n *Node) renew() {
	n.mu.Lock()
	held := maps.Clone(n.held)
	n.mu.Unlock()
	var lost []string
	failed := 0
	sent := time.Now()
	results := n.renewPipelined(held)
	for id, l := range held {
		rev, err, at := results[id].rev, results[id].err, sent
		if err != nil && isConflict(err) {
			at = time.Now()
			rev, err = n.renewOne(id, l.rev) // expired, or written under us: look
		}
		switch {
		case err == nil:
			n.mu.Lock()
			if cur := n.held[id]; cur != nil && at.After(cur.renewed) {
				cur.rev, cur.renewed = rev, at
			}
			n.mu.Unlock()
		case errors.Is(err, errLost):
			lost = append(lost, id)
		default:
			failed++
			n.m.renewFailures.Inc()
			n.log.Warn("lease not renewed", "camera", id, "error", n.hide(err))
		}
	}
	if len(lost) > 0 {
		n.m.lost.WithLabelValues("rejected").Add(float64(len(lost)))
		n.m.renewFailures.Add(float64(len(lost)))
		n.log.Warn("lease renewal rejected: another node holds the camera; stopping it now", "cameras", lost)
		n.forget(lost)
		n.apply()
	}
	if failed > 0 {
		n.checkFence(time.Now())
	}
}

type renewal struct {
	rev uint64
	err error
}

// renewPipelined sends every renewal at once (an update of the lease's
// key conditioned on its last revision, as KeyValue.Update does) and then
// collects the answers: a node renews hundreds of leases in about one
// round trip instead of one round trip each, which on a loaded machine
// decides whether they are renewed within lease_ttl at all.
func (n *Node) renewPipelined(held map[string]*lease) map[string]renewal {
	out := make(map[string]renewal, len(held))
	futures := make(map[string]jetstream.PubAckFuture, len(held))
	me := []byte(n.cfg.NodeID)
	pre := "$KV." + n.cfg.Buckets + "_leases."
	for id, l := range held {
		f, err := n.js.PublishAsync(pre+key(id), me, jetstream.WithExpectLastSequencePerSubject(l.rev))
		if err != nil {
			out[id] = renewal{err: err}
			continue
		}
		futures[id] = f
	}
	timeout := time.NewTimer(max(2*time.Second, n.cfg.RenewInterval))
	defer timeout.Stop()
	for id, f := range futures {
		select {
		case ack := <-f.Ok():
			out[id] = renewal{rev: ack.Sequence}
		case err := <-f.Err():
			out[id] = renewal{err: err}
		case <-timeout.C:
			out[id] = renewal{err: context.DeadlineExceeded}
			timeout.Reset(0) // the rest are late too
		case <-n.ctx.Done():
			out[id] = renewal{err: n.ctx.Err()}
		}
	}
	return out
}

// errLost marks a lease another node holds.
var errLost = errors.New("lease held by another node")

// renewOne writes the lease of id with revision rev and returns the new
// revision.
func (n *Node) renewOne(id string, rev uint64) (uint64, error) {
	ctx, cancel := n.opCtx()
	defer cancel()
	me := []byte(n.cfg.NodeID)
	nrev, err := n.leases.Update(ctx, key(id), me, rev)
	if err == nil || !isConflict(err) {
		return nrev, err
	}
	e, err := n.leases.Get(ctx, key(id))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		// Expired while NATS was away (or deleted): re-assert.
		nrev, err = n.leases.Create(ctx, key(id), me)
		if isConflict(err) || errors.Is(err, jetstream.ErrKeyExists) {
			return 0, errLost
		}
		if err == nil {
			n.log.Info("lease re-asserted", "camera", id)
		}
		return nrev, err
	case err != nil:
		return 0, err
	case string(e.Value()) == n.cfg.NodeID:
		// Ours, at another revision (a write whose answer was lost).
		return n.leases.Update(ctx, key(id), me, e.Revision())
	}
	return 0, errLost
}

// heartbeat writes this node's entry in the nodes bucket.
func (n *Node) heartbeat(settled bool) {
	n.mu.Lock()
	hb := Heartbeat{NodeID: n.cfg.NodeID, Weight: n.cfg.Weight, Addr: n.cfg.Advertise, StartedAt: n.started,
		Accepting: settled, Cameras: slices.Sorted(maps.Keys(n.held))}
	n.mu.Unlock()
	b, _ := json.Marshal(hb) //nolint:errchkjson // plain fields
	ctx, cancel := n.opCtx()
	defer cancel()
	sent := time.Now()
	if _, err := n.nodes.Put(ctx, n.cfg.NodeID, b); err != nil {
		n.m.errors.WithLabelValues("heartbeat").Inc()
		n.log.Warn("heartbeat not written", "error", n.hide(err))
		return
	}
	n.contacted(sent)
}

// readMembers reads every live heartbeat (expired ones are gone from the
// bucket: liveness is the server's clock, not ours).
func (n *Node) readMembers() error {
	// Longer than one operation: it reads every node's heartbeat (each
	// listing its cameras), and a node that cannot read it does not
	// rebalance at all.
	ctx, cancel := context.WithTimeout(n.ctx, max(5*time.Second, n.cfg.RenewInterval))
	defer cancel()
	w, err := n.nodes.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer w.Stop() //nolint:errcheck // nothing to do about it
	members, ages := map[string]Heartbeat{}, map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("membership watch closed")
			}
			if e == nil { // every current value has been delivered
				n.mu.Lock()
				n.members, n.memberAge = members, ages
				n.mu.Unlock()
				n.m.nodes.Set(float64(len(members)))
				return nil
			}
			var hb Heartbeat
			if err := json.Unmarshal(e.Value(), &hb); err != nil || hb.NodeID != e.Key() || !(hb.Weight > 0) {
				n.log.Warn("heartbeat ignored: not a node's entry", "key", e.Key())
				continue
			}
			members[hb.NodeID], ages[hb.NodeID] = hb, e.Created()
		}
	}
}

// rebalance releases the cameras whose owner is now another accepting
// node (at most HandoverLimit per round, once the members have stayed the
// same for settle) or that left the list, then, once settled, takes the
// leases of
// the cameras it owns and does not hold, except those another live node's
// heartbeat still lists: a lease can be missing while its holder lives
// (NATS restarted after lease_ttl and the holder has not re-asserted it
// yet), and a heartbeat lives exactly as long as the leases written with
// it.
func (n *Node) rebalance(settled bool) {
	n.mu.Lock()
	cams := n.cameras // replaced, never modified
	var ms []Member
	accepting := map[string]bool{n.cfg.NodeID: true}
	claimed := map[string]bool{} // held by another live node, says its heartbeat
	for id, hb := range n.members {
		if id == n.cfg.NodeID {
			continue
		}
		ms = append(ms, Member{ID: id, Weight: hb.Weight})
		accepting[id] = hb.Accepting
		for _, c := range hb.Cameras {
			claimed[c] = true
		}
	}
	ms = append(ms, Member{ID: n.cfg.NodeID, Weight: n.cfg.Weight}) // ourselves, even if our heartbeat failed
	held := maps.Clone(n.held)
	n.mu.Unlock()

	owner, since := n.assignment(cams, ms)
	var want []string
	for _, c := range cams {
		if owner[c] == n.cfg.NodeID && !claimed[c] {
			if _, ok := held[c]; !ok {
				want = append(want, c)
			}
		}
	}
	// Release: to an accepting owner, a few per round (HandoverLimit), once
	// the members have been the same for settle; or because the camera left
	// the list. A view that changed moments ago may be one heartbeat short
	// (a node whose round ran late after NATS came back, its entry expired
	// for a moment) or one too many (a node that started and died): handing
	// cameras over on it stops them, and the next view starts them again
	// where they were.
	limit := 0
	if time.Since(since) >= n.cfg.Settle {
		limit = HandoverLimit(len(cams), ms, n.cfg.NodeID)
	}
	release, handover := Releases(n.cfg.NodeID, slices.Collect(maps.Keys(held)), owner, accepting, limit)
	due := 0 // held cameras another accepting node owns
	for id := range held {
		if o, ok := owner[id]; ok && o != n.cfg.NodeID && accepting[o] {
			due++
		}
	}
	n.m.waiting.Set(float64(due - handover))
	if limit == 0 && due > 0 && !n.waitSaid.Equal(since) {
		n.waitSaid = since
		n.log.Info("handovers wait for the members seen to stay the same for settle", "cameras", due,
			"members", len(ms), "settle", n.cfg.Settle)
	}
	if len(release) > 0 {
		n.forget(release)
		n.apply() // the cameras stop before their leases go
		for _, id := range release {
			ctx, cancel := n.opCtx()
			n.flushIncidents(ctx, id)
			cancel()
			ctx, cancel = n.opCtx()
			if err := n.leases.Delete(ctx, key(id), jetstream.LastRevision(held[id].rev)); err != nil {
				n.m.errors.WithLabelValues("release").Inc()
				n.log.Warn("lease not released; it expires after lease_ttl", "camera", id, "error", n.hide(err))
			}
			cancel()
		}
		n.m.handovers.Add(float64(handover))
		to := make(map[string][]string, len(ms))
		for _, id := range release {
			if o, ok := owner[id]; ok {
				to[o] = append(to[o], id)
			}
		}
		n.log.Info("cameras released", "cameras", len(release), "handovers", handover, "to", to, "members", len(ms))
		n.heartbeat(settled) // the new owners wait for it to drop them
	}
	if !settled || len(want) == 0 {
		return
	}
	var got []string
	begun := time.Now()
	for _, id := range want {
		// Acquisitions are sequential (create, then read the incident
		// record): past one renew_interval the rest wait for the next
		// round, so that the leases just taken are renewed in time.
		if time.Since(begun) > n.cfg.RenewInterval {
			n.poke()
			break
		}
		sent := time.Now()
		rev, err := n.acquire(id)
		if err != nil {
			if !errors.Is(err, errLost) {
				n.m.errors.WithLabelValues("acquire").Inc()
				n.log.Warn("lease not taken", "camera", id, "error", n.hide(err))
			}
			continue // held by another node until it releases it or it expires
		}
		n.endOrphans(id)
		n.tookOver(id, time.Now())
		n.mu.Lock()
		n.held[id] = &lease{rev: rev, renewed: sent, since: time.Now()}
		n.mu.Unlock()
		got = append(got, id)
	}
	if len(got) > 0 {
		n.m.acquisitions.Add(float64(len(got)))
		n.log.Info("cameras acquired", "cameras", len(got))
		n.apply()
	}
}

// acquire takes the lease of id with create-if-absent; a lease that is
// still this node's (a previous run with the same node id) is adopted.
func (n *Node) acquire(id string) (uint64, error) {
	ctx, cancel := n.opCtx()
	defer cancel()
	me := []byte(n.cfg.NodeID)
	rev, err := n.leases.Create(ctx, key(id), me)
	if err == nil || !(errors.Is(err, jetstream.ErrKeyExists) || isConflict(err)) {
		return rev, err
	}
	e, err := n.leases.Get(ctx, key(id))
	if err != nil || string(e.Value()) != n.cfg.NodeID {
		return 0, errLost
	}
	rev, err = n.leases.Update(ctx, key(id), me, e.Revision())
	if err != nil {
		return 0, errLost
	}
	return rev, nil
}

// assignment returns Assign(cams, ms), computed again only when the
// members or the list changed (10,000 cameras on 40 nodes cost 400,000
// SHA-256 sums), and since when the members (ids and weights) are the same.
func (n *Node) assignment(cams []string, ms []Member) (map[string]string, time.Time) {
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	var sig strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&sig, "%s=%g;", m.ID, m.Weight)
	}
	if sig.String() != n.assignedFor {
		n.viewSince = time.Now()
	}
	if n.assigned != nil && sig.String() == n.assignedFor && len(cams) > 0 && len(n.assignedCams) == len(cams) && &n.assignedCams[0] == &cams[0] {
		return n.assigned, n.viewSince
	}
	n.assigned, n.assignedFor, n.assignedCams = Assign(cams, ms), sig.String(), cams
	return n.assigned, n.viewSince
}
