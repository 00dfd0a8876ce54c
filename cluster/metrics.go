package cluster

import "github.com/prometheus/client_golang/prometheus"

// nodeMetrics are the node's Prometheus metrics (Collectors).
type nodeMetrics struct {
	owned, nodes, connected, degraded, held, waiting prometheus.Gauge
	renewFailures, handovers, acquisitions, orphans  prometheus.Counter
	lost, errors, heldSettled                        *prometheus.CounterVec
}

func newMetrics() *nodeMetrics {
	m := &nodeMetrics{
		owned: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_cameras_owned",
			Help: "Cameras whose lease this node holds (and runs)."}),
		nodes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_nodes",
			Help: "Nodes with a live heartbeat, this one included, at the last membership read."}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_nats_connected",
			Help: "1 while the node's NATS connection is up, else 0."}),
		degraded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_degraded",
			Help: "1 while the node has not reached NATS for lease_ttl and analyzes its cameras without coordination (the cluster_degraded incident is open), else 0."}),
		renewFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_cluster_lease_renew_failures_total",
			Help: "Lease renewals that failed (NATS unreachable, timeout, or rejected)."}),
		handovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_cluster_handovers_total",
			Help: "Cameras this node released to their new rendezvous owner."}),
		acquisitions: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_cluster_acquisitions_total",
			Help: "Camera leases this node took."}),
		orphans: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_cluster_orphan_incidents_ended_total",
			Help: "Incidents left open by a previous owner that this node ended."}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_handovers_waiting",
			Help: "Cameras this node runs whose owner is now another node that accepts cameras, not handed over yet: a few go each round once the members seen have stayed the same for settle."}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_incidents_held",
			Help: "Incidents whose events this node holds back: their start could not be recorded for the camera's next owner (NATS did not answer)."}),
		heldSettled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_cluster_held_incidents_total",
			Help: "Held incidents settled, by outcome: delivered once the lease was renewed (renewed), the store was known down (store_down), the camera's owner had not reported it (reconciled) or too many were held (overflow); or not delivered because the camera's owner reported it (merged)."},
			[]string{"outcome"}),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_cluster_leases_lost_total",
			Help: "Cameras stopped because their lease was lost: rejected (another node holds it) or unreachable (not renewed for unreachable_grace)."},
			[]string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_cluster_errors_total",
			Help: "Failed key-value operations other than renewals, by operation (heartbeat, members, acquire, release, incidents, buckets), and failed writes of the open cluster_degraded incident's file (degraded_file)."},
			[]string{"op"}),
	}
	for _, r := range []string{"rejected", "unreachable"} {
		m.lost.WithLabelValues(r)
	}
	for _, o := range []string{"renewed", "store_down", "reconciled", "overflow", "merged"} {
		m.heldSettled.WithLabelValues(o)
	}
	for _, op := range []string{"heartbeat", "members", "acquire", "release", "incidents", "buckets", "degraded_file", "held_file"} {
		m.errors.WithLabelValues(op)
	}
	return m
}

// Collectors returns the node's metrics, to register beside the engine's.
func (n *Node) Collectors() []prometheus.Collector {
	m := n.m
	return []prometheus.Collector{m.owned, m.nodes, m.connected, m.degraded, m.renewFailures, m.handovers, m.acquisitions, m.orphans, m.lost, m.errors, m.held, m.heldSettled, m.waiting}
}
