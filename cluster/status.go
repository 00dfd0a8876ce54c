package cluster

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Status is what GET /api/cluster shows: the nodes alive at the last
// membership read with their cameras, and this node's leases with their
// ages.
type Status struct {
	NodeID    string `json:"node_id"`
	Connected bool   `json:"connected"`
	// Degraded is the cause of the open cluster_degraded incident
	// (store_down, unreachable); absent while the node reaches NATS.
	Degraded string       `json:"degraded,omitempty"`
	Nodes    []NodeStatus `json:"nodes"`
	Leases   []Lease      `json:"leases"`
}

// NodeStatus is one node's heartbeat and its age.
type NodeStatus struct {
	Heartbeat
	// HeartbeatAgeSeconds is how old its heartbeat was (server time) at
	// the last membership read.
	HeartbeatAgeSeconds float64 `json:"heartbeat_age_seconds"`
}

// Lease is one lease this node holds.
type Lease struct {
	Camera   string `json:"camera"`
	Revision uint64 `json:"revision"`
	// AgeSeconds is the time since its last successful renewal.
	AgeSeconds float64 `json:"age_seconds"`
	// HeldSeconds is the time since it was taken.
	HeldSeconds float64 `json:"held_seconds"`
}

// Status returns the node's view of the cluster.
func (n *Node) Status() Status {
	now := time.Now()
	n.degMu.Lock()
	var degraded string
	if n.deg.inc != nil {
		degraded = n.deg.inc.Cause
	}
	n.degMu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	st := Status{NodeID: n.cfg.NodeID, Connected: !n.connectedAt.IsZero(), Degraded: degraded, Nodes: []NodeStatus{}, Leases: []Lease{}}
	for id, hb := range n.members {
		st.Nodes = append(st.Nodes, NodeStatus{Heartbeat: hb, HeartbeatAgeSeconds: now.Sub(n.memberAge[id]).Seconds()})
	}
	slices.SortFunc(st.Nodes, func(a, b NodeStatus) int { return strings.Compare(a.NodeID, b.NodeID) })
	for id, l := range n.held {
		st.Leases = append(st.Leases, Lease{Camera: id, Revision: l.rev, AgeSeconds: now.Sub(l.renewed).Seconds(),
			HeldSeconds: now.Sub(l.since).Seconds()})
	}
	slices.SortFunc(st.Leases, func(a, b Lease) int { return strings.Compare(a.Camera, b.Camera) })
	return st
}

// Handler serves Status as JSON (GET /api/cluster).
func (n *Node) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(n.Status()) //nolint:errcheck // the client went away
	})
}
