package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Cluster is the optional cluster section: several `vigil run` processes
// with the same camera list share it through NATS JetStream key-value
// buckets (see package cluster and the README, "Running several engines").
// Without it, the process runs every camera, as it always did. A change
// needs a restart.
type Cluster struct {
	// NATSURL is the NATS server with JetStream: nats:// or tls://, several
	// comma-separated for a NATS cluster. It may carry credentials, which
	// are never shown. Required.
	NATSURL string `yaml:"nats_url"`
	// Username and Password replace the URL's credentials when set.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// NodeID names this process in the cluster: 1 to 64 of [A-Za-z0-9_-],
	// unique among the nodes (a Kubernetes StatefulSet gives it as
	// ${env:POD_NAME}). Required.
	NodeID string `yaml:"node_id"`
	// Weight is this node's capacity relative to the others (a node of
	// weight 2 gets about twice the cameras of a node of weight 1): 0.01
	// to 100.
	// It defaults to 1.
	Weight float64 `yaml:"weight"`
	// LeaseTTL is how long a camera's lease lives without renewal: a
	// camera whose node died runs elsewhere after at most this plus one
	// renew_interval and its connection time. 1s to 10m.
	// It defaults to 10s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// RenewInterval is how often the node renews its leases, writes its
	// heartbeat and reads the membership: 100ms to lease_ttl/2.
	// It defaults to lease_ttl/5.
	RenewInterval time.Duration `yaml:"renew_interval"`
	// Settle is how long a node waits after (re)connecting to NATS before
	// taking leases it does not hold, so that holders re-assert theirs
	// first when NATS comes back, and how long the members it sees must
	// stay the same before it hands cameras over to another node: 0 to
	// 10m.
	// It defaults to lease_ttl/2.
	Settle time.Duration `yaml:"settle"`
	// UnreachableGrace is how long a node that cannot renew its leases
	// keeps running their cameras after their last renewal was sent; then
	// it stops them (within min(renew_interval, 500ms) more, plus the
	// time a camera takes to stop), whether the connection was reset or
	// silently answers nothing. A node cut off alone therefore runs a
	// camera another node took over for at most unreachable_grace -
	// lease_ttl (plus that tick and stop time); below lease_ttl, never.
	// While NATS is known down (every server refuses connections: no node
	// can take a lease) the cameras are kept for as long as it lasts, and
	// the grace counts again from the last moment it was seen down.
	// 0 to 1h.
	// It defaults to 30s.
	UnreachableGrace time.Duration `yaml:"unreachable_grace"`
	// Buckets prefixes the key-value buckets' names (<buckets>_nodes,
	// <buckets>_leases, <buckets>_incidents), so that several clusters can
	// share one NATS: 1 to 32 of [A-Za-z0-9_-].
	// It defaults to "vigil".
	Buckets string `yaml:"buckets"`
	// Advertise is the HTTP address other nodes and operators are told
	// (in /api/cluster) to reach this node at.
	// It defaults to the listen address.
	Advertise string `yaml:"advertise"`
}

// Ranges of the cluster keys.
const (
	minLeaseTTL         = time.Second
	maxLeaseTTL         = 10 * time.Minute
	minRenewInterval    = 100 * time.Millisecond
	maxSettle           = 10 * time.Minute
	maxUnreachableGrace = time.Hour
	minWeight           = 0.01
	maxWeight           = 100
)

var (
	nodeIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	bucketsPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
)

// derive fills the cluster keys left at zero (their default, or the key
// they follow); listen is the engine's HTTP address (the default of
// advertise).
func (c *Cluster) derive(listen string) {
	if c.Weight == 0 {
		c.Weight = 1
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 10 * time.Second
	}
	if c.RenewInterval == 0 {
		c.RenewInterval = max(c.LeaseTTL/5, minRenewInterval)
	}
	if c.Settle == 0 {
		c.Settle = c.LeaseTTL / 2
	}
	if c.UnreachableGrace == 0 {
		c.UnreachableGrace = 30 * time.Second
	}
	if c.Buckets == "" {
		c.Buckets = "vigil"
	}
	if c.Advertise == "" {
		c.Advertise = listen
	}
}

// validate checks the cluster keys; the error names the key.
func (c *Cluster) validate() error {
	if c.NATSURL == "" {
		return errors.New("cluster.nats_url: required")
	}
	for _, s := range strings.Split(c.NATSURL, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Host == "" {
			return errors.New("cluster.nats_url: want nats://host:port or tls://host:port (comma-separated for several)")
		}
		if u.Scheme != "nats" && u.Scheme != "tls" {
			return fmt.Errorf("cluster.nats_url: scheme %q is not nats or tls", u.Scheme)
		}
	}
	switch {
	case !nodeIDPattern.MatchString(c.NodeID):
		return fmt.Errorf("cluster.node_id: %q must be 1 to 64 of A-Z a-z 0-9 _ -", c.NodeID)
	case !(c.Weight >= minWeight && c.Weight <= maxWeight) || math.IsNaN(c.Weight):
		return fmt.Errorf("cluster.weight: %g is not in %g..%g", c.Weight, float64(minWeight), float64(maxWeight))
	case c.LeaseTTL < minLeaseTTL || c.LeaseTTL > maxLeaseTTL:
		return fmt.Errorf("cluster.lease_ttl: %s is not in %s..%s", c.LeaseTTL, minLeaseTTL, maxLeaseTTL)
	case c.RenewInterval < minRenewInterval || c.RenewInterval > c.LeaseTTL/2:
		return fmt.Errorf("cluster.renew_interval: %s is not in %s..%s (lease_ttl/2)", c.RenewInterval, minRenewInterval, c.LeaseTTL/2)
	case c.Settle < 0 || c.Settle > maxSettle:
		return fmt.Errorf("cluster.settle: %s is not in 0s..%s", c.Settle, maxSettle)
	case c.UnreachableGrace < 0 || c.UnreachableGrace > maxUnreachableGrace:
		return fmt.Errorf("cluster.unreachable_grace: %s is not in 0s..%s", c.UnreachableGrace, maxUnreachableGrace)
	case !bucketsPattern.MatchString(c.Buckets):
		return fmt.Errorf("cluster.buckets: %q must be 1 to 32 of A-Z a-z 0-9 _ -", c.Buckets)
	}
	return nil
}
