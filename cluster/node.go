// Package cluster shares one camera list among several vigil processes
// through NATS JetStream key-value buckets: membership (a heartbeat per
// node, expiring), leases (one per camera, taken with create-if-absent and
// renewed with a revision check) and rendezvous ownership with bounded
// loads (Assign: every node within 10% of its fair share, above and below;
// a node that returns takes its share back a few cameras a round). It knows
// nothing of the engine: it is given the whole camera list (SetCameras) and
// tells its Runner which cameras this process must run now. It also keeps,
// per camera, the incidents open on this node, so that the next owner of a
// camera whose node died ends them (see Observe).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/natsconn"
)

// Runner runs the cameras this node owns. Run makes the process run
// exactly ids (sorted) and returns once the cameras not in ids have
// stopped: the node deletes a lease only after Run returned without it.
// Stop, called once by Close, stops every camera for good and ends their
// open incidents (publishing the end events), and returns once they have
// stopped: the node then releases every lease. Run and Stop are called
// from one goroutine at a time.
type Runner interface {
	Run(ids []string)
	Stop()
}

// Options are a Node's collaborators.
type Options struct {
	// Runner runs the owned cameras. Required.
	Runner Runner
	// Emit publishes the end events of incidents left open by a node that
	// lost its cameras (see Observe). Required.
	Emit func(incident.Event) error
	// Logger receives the node's logs. It defaults to discarding them.
	Logger *slog.Logger
	// DegradedPath is a file where the node keeps its open cluster_degraded
	// incident, so that its next run ends it should it die degraded (see
	// degraded_file.go). Empty: not kept (such an incident stays open).
	DegradedPath string
	// Discard is told each event of a held incident that is dropped
	// (held.go: the camera's owner reported it), which will never be
	// delivered. Optional.
	Discard func(incident.Event)
	// HeldPath is a file where the node keeps the incidents it holds back
	// (held.go), so that its next run settles them should it die holding
	// them. Empty: not kept (they are lost with the process).
	HeldPath string
}

// lease is a camera lease this node holds.
type lease struct {
	rev     uint64    // revision of the last write
	renewed time.Time // local time of the last successful write
	since   time.Time // when it was taken
}

// Node is one process of the cluster: New builds it, Start connects and
// runs its rounds, Close hands its cameras over and waits.
type Node struct {
	cfg  config.Cluster
	opts Options
	log  *slog.Logger
	m    *nodeMetrics

	conn natsconn.Config
	nc   *nats.Conn
	js   jetstream.JetStream
	// The buckets, set by the loop once NATS answers; nil before.
	nodes, leases, incidents jetstream.KeyValue

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the loop has returned
	closed chan struct{} // closed when Close has returned
	once   sync.Once
	kick   chan struct{}
	loop   atomic.Bool // Start was called
	// ncClosed is closed by NATS's closed callback, the last of its
	// callbacks: Close waits for it, so no handler runs after Close.
	ncClosed chan struct{}

	started time.Time

	mu          sync.Mutex // guards what Status reads and SetCameras writes
	cameras     []string
	held        map[string]*lease
	members     map[string]Heartbeat
	memberAge   map[string]time.Time // server time of each heartbeat
	connectedAt time.Time            // zero while disconnected
	running     []string             // what Runner was last told
	// contact is when the last heartbeat that reached NATS was sent (the
	// node's start before the first); downSeen the last time the store was
	// seen down (storeDown); refusedRun the refused dials in a row.
	contact, downSeen time.Time
	refusedRun        int

	runMu sync.Mutex // one Runner call at a time: the round's and the fence's

	degMu sync.Mutex // orders the cluster_degraded events
	deg   degraded

	inc   incidents
	holds holds

	// The last assignment and what it was computed from; the loop's only.
	assigned     map[string]string
	assignedFor  string
	assignedCams []string
	// Since when the members (ids and weights, assignedFor) are the same;
	// the loop's only.
	viewSince time.Time
	waitSaid  time.Time // the viewSince whose held-back handovers were logged
}

// Heartbeat is a node's entry in the nodes bucket, rewritten every
// renew_interval; it expires after lease_ttl.
type Heartbeat struct {
	NodeID    string    `json:"node_id"`
	Weight    float64   `json:"weight"`
	Addr      string    `json:"addr"`
	StartedAt time.Time `json:"started_at"`
	// Accepting is true once the node is connected and settled: only then
	// do the others hand cameras over to it.
	Accepting bool `json:"accepting"`
	// Cameras are the cameras it holds leases of.
	Cameras []string `json:"cameras"`
}

// New returns the node; nothing connects or runs until Start.
func New(cfg config.Cluster, opts Options) (*Node, error) {
	if opts.Runner == nil || opts.Emit == nil {
		return nil, errors.New("cluster: Options.Runner and Options.Emit are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, opts: opts, log: opts.Logger, m: newMetrics(), held: map[string]*lease{},
		members: map[string]Heartbeat{}, memberAge: map[string]time.Time{}, kick: make(chan struct{}, 1),
		done: make(chan struct{}), closed: make(chan struct{}), ncClosed: make(chan struct{}), started: time.Now().UTC()}
	n.contact = n.started
	n.inc.init()
	n.holds.init()
	n.loadHeld() // before the engine ends what a crash left open: those ends are held too
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.conn = natsconn.Config{Name: "vigil-cluster-" + cfg.NodeID, URL: cfg.NATSURL, Username: cfg.Username,
		Password: cfg.Password, ReconnectWait: 500 * time.Millisecond, Timeout: 2 * time.Second}
	return n, nil
}

// connect connects to NATS, in the background: the server may be down.
func (n *Node) connect() error {
	connected := func(*nats.Conn) {
		n.mu.Lock()
		n.connectedAt = time.Now()
		n.refusedRun = 0
		n.mu.Unlock()
		n.m.connected.Set(1)
		n.log.Info("cluster connected to nats")
		n.poke()
	}
	nc, err := natsconn.Connect(n.conn, nats.ConnectHandler(connected), nats.ReconnectHandler(connected),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			n.mu.Lock()
			n.connectedAt = time.Time{}
			n.mu.Unlock()
			n.m.connected.Set(0)
			if c.IsClosed() {
				return // Close: the node let go of the connection, nothing was lost
			}
			n.log.Warn("cluster lost nats; keeping the cameras while it refuses connections, else until unreachable_grace after their last renewal", "error", n.hide(err))
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(n.ncClosed) }),
		nats.SetCustomDialer(&dialer{n: n, d: net.Dialer{Timeout: n.conn.Timeout}}))
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if nc.IsConnected() {
		connected(nc)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("cluster: %w", err)
	}
	n.nc, n.js = nc, js
	return nil
}

// hide returns err's message without the NATS URL's credentials or the
// password (natsconn.Config.Hide).
func (n *Node) hide(err error) string { return n.conn.Hide(err) }

// SetCameras replaces the whole camera list (at start and on every
// reload); the node takes or releases leases on its next round.
func (n *Node) SetCameras(ids []string) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	n.mu.Lock()
	n.cameras = ids
	n.mu.Unlock()
	n.poke()
}

func (n *Node) poke() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Start connects to NATS (in the background: the server may be down) and
// runs the node's rounds (heartbeat, renewals, membership, rebalancing)
// every renew_interval, and writes the incident records. After a failed
// Start, nothing runs.
func (n *Node) Start() error {
	if err := n.connect(); err != nil {
		return err
	}
	n.endLeftDegraded() // before this run can open one
	n.loop.Store(true)
	go func() {
		defer close(n.done)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			n.incidentWriter()
		}()
		go func() {
			defer wg.Done()
			n.fence()
		}()
		t := time.NewTicker(n.cfg.RenewInterval)
		defer t.Stop()
		for {
			n.round()
			select {
			case <-n.ctx.Done():
				wg.Wait()
				return
			case <-t.C:
			case <-n.kick:
			}
		}
	}()
	return nil
}

// Close hands every camera over at once and waits: it stops the rounds,
// stops the cameras (Runner.Stop, after a Start), writes the incident
// records, deletes this node's leases and heartbeat so that the others
// take over without waiting for them to expire, and closes the connection.
// Idempotent.
func (n *Node) Close() {
	n.once.Do(n.close)
}

// Wait blocks until Close has returned; a node does not stop by itself
// (it rides out NATS outages), so it returns nil.
func (n *Node) Wait() error {
	<-n.closed
	return nil
}

func (n *Node) close() {
	defer close(n.closed)
	n.cancel()
	if !n.loop.Load() {
		return // not started: nothing runs, nothing is held
	}
	<-n.done
	n.runMu.Lock()
	n.opts.Runner.Stop()
	n.runMu.Unlock()
	n.recover(time.Now(), "cluster_degraded ended: the node stops") // nothing is watched any more
	n.mu.Lock()
	held := n.held
	n.held = map[string]*lease{}
	n.mu.Unlock()
	n.m.owned.Set(0)
	if n.connected() && n.leases != nil {
		// One deadline for every release: a connection that silently lost
		// its peer must not hold the shutdown 4 s per camera.
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		tried, released := 0, 0
		for id, l := range held {
			if ctx.Err() != nil {
				n.m.errors.WithLabelValues("release").Add(float64(len(held) - tried))
				n.log.Warn("leases not released at shutdown in time; they expire after lease_ttl", "cameras", len(held)-tried)
				break
			}
			tried++
			n.flushIncidents(ctx, id)
			if derr := n.leases.Delete(ctx, key(id), jetstream.LastRevision(l.rev)); derr != nil {
				n.m.errors.WithLabelValues("release").Inc()
				n.log.Warn("lease not released at shutdown; it expires after lease_ttl", "camera", id, "error", n.hide(derr))
				continue
			}
			released++
		}
		if ctx.Err() == nil {
			n.nodes.Delete(ctx, n.cfg.NodeID) //nolint:errcheck // it expires after lease_ttl anyway
		}
		if ctx.Err() == nil {
			n.settleHeld() // what cannot be settled now stays in HeldPath
		}
		cancel()
		n.log.Info("cluster leases released", "cameras", released)
	} else if len(held) > 0 {
		n.log.Warn("nats unreachable at shutdown; leases expire after lease_ttl", "cameras", len(held))
	}
	n.nc.Close()
	select {
	case <-n.ncClosed:
	case <-time.After(5 * time.Second): // the client's callbacks are stuck; do not hang the shutdown
	}
}

// connected reports whether the NATS connection is up, from the client's
// callbacks: the client's own IsConnected waits while it dials.
func (n *Node) connected() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.connectedAt.IsZero()
}

// closeTimeout bounds the releases at shutdown, all of them.
const closeTimeout = 5 * time.Second

// opCtx bounds one KV operation: never longer than a round.
func (n *Node) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(n.ctx, min(2*time.Second, n.cfg.RenewInterval))
}

// key is a camera's key in the buckets: camera ids may hold dots, which
// separate subject tokens, so "." and "=" are escaped (injectively).
func key(camera string) string {
	return strings.NewReplacer("=", "=3D", ".", "=2E").Replace(camera)
}

// ensureBuckets creates (or updates) the three buckets.
func (n *Node) ensureBuckets() error {
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	// An existing bucket is used as it is (updating a stream while other
	// nodes create it races inside nats-server 2.11.6, seen under -race).
	mk := func(name string, ttl time.Duration) (jetstream.KeyValue, error) {
		bucket := n.cfg.Buckets + "_" + name
		kv, err := n.js.KeyValue(ctx, bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = n.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, TTL: ttl, History: 1, Storage: jetstream.FileStorage})
			if errors.Is(err, jetstream.ErrBucketExists) {
				kv, err = n.js.KeyValue(ctx, bucket) // another node was first
			}
		}
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", bucket, err)
		}
		return kv, nil
	}
	nodes, err := mk("nodes", n.cfg.LeaseTTL)
	if err != nil {
		return err
	}
	leases, err := mk("leases", n.cfg.LeaseTTL)
	if err != nil {
		return err
	}
	inc, err := mk("incidents", 0)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.nodes, n.leases, n.incidents = nodes, leases, inc
	n.mu.Unlock()
	return nil
}
