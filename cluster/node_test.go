package cluster

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// runs records what a node's Runner was told: the cameras it runs now.
type runs struct {
	mu    sync.Mutex
	ids   []string
	stops int // Stop calls
}

func (r *runs) Run(ids []string) {
	r.mu.Lock()
	r.ids = slices.Clone(ids)
	r.mu.Unlock()
}

func (r *runs) Stop() {
	r.mu.Lock()
	r.ids = nil
	r.stops++
	r.mu.Unlock()
}

func (r *runs) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

type testNode struct {
	*Node
	runs      *runs
	out       *incidenttest.Memory
	discarded *incidenttest.Memory // what Options.Discard was told (newDeliveringNode)
}

func testConfig(url, id string, ttl time.Duration) config.Cluster {
	return config.Cluster{NATSURL: url, NodeID: id, Weight: 1, LeaseTTL: ttl, RenewInterval: ttl / 5,
		Settle: ttl / 4, UnreachableGrace: 3 * ttl, Buckets: "test", Advertise: id}
}

func newTestNode(t testing.TB, cfg config.Cluster) *testNode {
	t.Helper()
	tn := &testNode{runs: &runs{}, out: &incidenttest.Memory{}}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("node", cfg.NodeID)
	}
	n, err := New(cfg, Options{Runner: tn.runs, Emit: tn.out.Emit, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	return tn
}

// crash stops a node as SIGKILL would: no release, no last write.
func (n *Node) crash() {
	n.cancel()
	<-n.done
	n.nc.Close()
}

func natsURL(t testing.TB) (string, int, string) {
	t.Helper()
	dir := t.TempDir()
	var port int
	fmt.Sscanf(testkit.ClosedPort(t), "127.0.0.1:%d", &port) //nolint:errcheck // checked by use
	testkit.StartNATS(t, port, dir)
	return fmt.Sprintf("nats://127.0.0.1:%d", port), port, dir
}

// TestNodeLifecycle: New connects nothing (no NATS client goroutine);
// Close without Start stops no camera; Start connects, and Close stops the
// cameras once, however often it is called.
func TestNodeLifecycle(t *testing.T) {
	url, _, _ := natsURL(t)
	const nats = "github.com/nats-io/"
	before := testkit.Goroutines(nats)
	idle := newTestNode(t, testConfig(url, "idle", 2*time.Second))
	if started := testkit.Started(before, testkit.Goroutines(nats)); len(started) > 0 {
		t.Errorf("New started %d NATS goroutines:\n%s", len(started), strings.Join(started, "\n\n"))
	}
	idle.Close()
	if idle.runs.stops != 0 {
		t.Errorf("Close without Start: Runner.Stop called %d times, want 0", idle.runs.stops)
	}
	n := newTestNode(t, testConfig(url, "n", 2*time.Second))
	n.SetCameras([]string{"cam"})
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 10*time.Second, "the node to run its camera", func() bool { return len(n.runs.get()) == 1 })
	n.Close()
	n.Close()
	if err := n.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if n.runs.stops != 1 {
		t.Errorf("Runner.Stop called %d times, want 1", n.runs.stops)
	}
}

// TestLeaseSemantics: against a real JetStream, a lease is taken by one
// node only (create-if-absent), renewed with its revision, expires after
// lease_ttl without renewal, and a renewal after another node took it is
// rejected; a lease that merely expired is re-asserted by its holder.
func TestLeaseSemantics(t *testing.T) {
	url, _, _ := natsURL(t)
	ttl := 2 * time.Second
	a := newTestNode(t, testConfig(url, "a", ttl))
	b := newTestNode(t, testConfig(url, "b", ttl))
	for _, n := range []*testNode{a, b} {
		if err := n.connect(); err != nil {
			t.Fatal(err)
		}
		defer n.nc.Close()
		if err := n.ensureBuckets(); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := a.acquire("cam.1")
	if err != nil {
		t.Fatalf("a takes a free lease: %v", err)
	}
	if _, err := b.acquire("cam.1"); err != errLost {
		t.Fatalf("b takes a's lease: err %v, want errLost", err)
	}
	rev2, err := a.renewOne("cam.1", rev)
	if err != nil || rev2 <= rev {
		t.Fatalf("a renews: rev %d -> %d, err %v", rev, rev2, err)
	}
	if _, err := a.leases.Update(t.Context(), key("cam.1"), []byte("a"), rev); !isConflict(err) {
		t.Fatalf("update with a stale revision: err %v, want a wrong-last-sequence conflict", err)
	}
	// Not renewed for lease_ttl: the lease expires on the server; b takes it.
	await.Until(t, 3*ttl, "a's lease to expire and b to take it", func() bool {
		_, err := b.acquire("cam.1")
		return err == nil
	})
	if _, err := a.renewOne("cam.1", rev2); err != errLost {
		t.Fatalf("a renews the lease b took: err %v, want errLost", err)
	}
	// A lease that expired with no one taking it is re-asserted.
	rev, err = a.acquire("cam.2")
	if err != nil {
		t.Fatal(err)
	}
	// The server's age timer expires it: on a slow machine a while after
	// lease_ttl.
	await.Until(t, 3*ttl, "the lease to expire after lease_ttl", func() bool {
		_, err := a.leases.Get(t.Context(), key("cam.2"))
		return err != nil
	})
	if _, err := a.renewOne("cam.2", rev); err != nil {
		t.Fatalf("a re-asserts its expired lease: %v", err)
	}
	// A previous run's lease under the same node id is adopted.
	a2 := newTestNode(t, testConfig(url, "a", ttl))
	if err := a2.connect(); err != nil {
		t.Fatal(err)
	}
	defer a2.nc.Close()
	if err := a2.ensureBuckets(); err != nil {
		t.Fatal(err)
	}
	if _, err := a2.acquire("cam.2"); err != nil {
		t.Fatalf("a restarted adopts its lease: %v", err)
	}
}

// owners returns, per camera, the nodes whose runner runs it.
func owners(nodes []*testNode) map[string][]string {
	out := map[string][]string{}
	for _, n := range nodes {
		if n == nil {
			continue
		}
		for _, id := range n.runs.get() {
			out[id] = append(out[id], n.cfg.NodeID)
		}
	}
	return out
}

// TestNodesShareHandOverAndEndOrphans: three nodes share 30 cameras, each
// run by exactly one node at every sample; a crashed node's cameras run
// elsewhere after its leases expire, and its open incident is ended once
// by the next owner with the derived id; a node shutting down hands its
// cameras over at once; a node joining gets a share.
func TestNodesShareHandOverAndEndOrphans(t *testing.T) {
	url, _, _ := natsURL(t)
	ttl := 2 * time.Second
	var cams []string
	for i := range 30 {
		cams = append(cams, fmt.Sprintf("cam-%02d", i))
	}
	nodes := make([]*testNode, 4)
	for i := range 3 {
		nodes[i] = newTestNode(t, testConfig(url, fmt.Sprintf("n%d", i), ttl))
		nodes[i].SetCameras(cams)
		if err := nodes[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var doubled []string
	var wg sync.WaitGroup
	var mu sync.Mutex
	check := func(what string) map[string][]string {
		mu.Lock()
		defer mu.Unlock()
		o := owners(nodes)
		for c, ns := range o {
			if len(ns) > 1 {
				doubled = append(doubled, fmt.Sprintf("%s on %v (%s)", c, ns, what))
			}
		}
		return o
	}
	wg.Add(1)
	go func() { // sample ownership all along
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				check("sample")
			}
		}
	}()
	all := func(what string) {
		t.Helper()
		await.Until(t, 4*ttl, what, func() bool { return len(check(what)) == len(cams) })
	}
	all("every camera run at start")
	// A node whose first heartbeat comes after the others settled gets its
	// share a few cameras a round: wait for it, with every camera run.
	share := map[string]int{}
	await.Until(t, 30*time.Second, "every camera run, by all three nodes", func() bool {
		clear(share)
		o := check("start")
		for _, ns := range o {
			share[ns[0]]++
		}
		return len(o) == len(cams) && len(share) == 3
	})

	// An incident open on n0 when it crashes.
	victim := nodes[0].runs.get()[0]
	inc := incident.Incident{IncidentID: "inc-1", Camera: victim, Kind: "motion", StartedAt: time.Now().UTC()}
	nodes[0].Observe(incident.New(incident.TypeStart, inc, time.Now()))
	await.Until(t, 5*time.Second, "the open incident recorded", func() bool {
		_, err := nodes[0].incidents.Get(t.Context(), key(victim))
		return err == nil
	})
	crashed := time.Now()
	mu.Lock()
	nodes[0].crash()
	nodes[0] = nil
	mu.Unlock()
	all("every camera run after a crash")
	if d := time.Since(crashed); d > ttl+2*time.Second {
		t.Errorf("cameras of the crashed node ran again after %s, want at most lease_ttl %s + 2 s", d, ttl)
	}
	var ends []incident.Event
	await.Until(t, 5*time.Second, "the orphaned incident ended", func() bool {
		ends = nil
		for _, n := range nodes[1:3] {
			ends = append(ends, n.out.Events()...)
		}
		return len(ends) > 0
	})
	if len(ends) != 1 || ends[0].ID != incident.EndID("inc-1") || ends[0].Type != incident.TypeEnd || ends[0].Data.IncidentID != "inc-1" {
		t.Errorf("orphan ends %+v, want one end of inc-1 with id %s", ends, incident.EndID("inc-1"))
	}

	// A node joins and gets a share.
	n3 := newTestNode(t, testConfig(url, "n3", ttl))
	mu.Lock()
	nodes[3] = n3
	mu.Unlock()
	nodes[3].SetCameras(cams)
	if err := nodes[3].Start(); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 4*ttl, "the new node to run cameras", func() bool { return len(nodes[3].runs.get()) > 0 })
	all("every camera run after a join")

	// Shutdown hands over at once: far sooner than lease_ttl.
	n1 := nodes[1].runs.get()
	start := time.Now()
	nodes[1].Close()
	if len(n1) > 0 {
		all("every camera run after a shutdown")
		if d := time.Since(start); d >= ttl {
			t.Errorf("handover at shutdown took %s, want less than lease_ttl %s", d, ttl)
		}
	}
	close(stop)
	wg.Wait()
	for _, n := range nodes[2:] {
		n.Close()
	}
	if len(doubled) > 0 {
		t.Errorf("cameras run by two nodes at once: %v", doubled[:min(len(doubled), 10)])
	}
}

// TestCloseIsNotALoss: a clean Close logs no "lost nats" warning (the
// client reports its own close as a disconnection, and Close waits for its
// callbacks), while a server that goes away under a node is logged as lost.
func TestCloseIsNotALoss(t *testing.T) {
	var port int
	fmt.Sscanf(testkit.ClosedPort(t), "127.0.0.1:%d", &port) //nolint:errcheck // checked by use
	srv := testkit.StartNATS(t, port, t.TempDir())
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	start := func(id string, logs *testkit.SyncBuffer) *Node {
		n, err := New(testConfig(url, id, 2*time.Second), Options{Runner: &runs{}, Emit: (&incidenttest.Memory{}).Emit,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		n.SetCameras([]string{"cam"})
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		await.Until(t, 10*time.Second, "the node to connect", func() bool { return strings.Contains(logs.String(), "cluster connected to nats") })
		return n
	}

	var clean testkit.SyncBuffer
	start("clean", &clean).Close()
	if strings.Contains(clean.String(), "lost nats") {
		t.Errorf("a clean Close logged a loss:\n%s", clean.String())
	}

	var lost testkit.SyncBuffer
	n := start("lost", &lost)
	defer n.Close()
	srv.Shutdown()
	await.Until(t, 10*time.Second, "the loss of the server to be logged", func() bool { return strings.Contains(lost.String(), "lost nats") })
}

// TestFlickeringMemberMovesNothing: a heartbeat seen for less than settle
// (a node that started and died, or one whose entry expired for a moment
// while its round ran late) hands no camera over: every camera keeps
// running where it ran, while the nodes' views hold the extra member.
func TestFlickeringMemberMovesNothing(t *testing.T) {
	url, _, _ := natsURL(t)
	ttl := 2 * time.Second
	var cams []string
	for i := range 30 {
		cams = append(cams, fmt.Sprintf("cam-%02d", i))
	}
	var nodes []*testNode
	for i := range 3 {
		cfg := testConfig(url, fmt.Sprintf("n%d", i), ttl)
		cfg.Settle = ttl
		nodes = append(nodes, newTestNode(t, cfg))
	}
	startNodes(t, cams, nodes...)
	settled(t, 2*ttl, nodes...)
	before := fmt.Sprint(owners(nodes))

	saw := func() int { // how many nodes' views hold the ghost
		c := 0
		for _, n := range nodes {
			n.mu.Lock()
			_, ok := n.members["ghost"]
			n.mu.Unlock()
			if ok {
				c++
			}
		}
		return c
	}
	hb, _ := json.Marshal(Heartbeat{NodeID: "ghost", Weight: 1, Addr: "ghost", Accepting: true, StartedAt: time.Now()})
	if _, err := nodes[0].nodes.Put(t.Context(), "ghost", hb); err != nil {
		t.Fatal(err)
	}
	waiting := func() (w float64) { // vigil_cluster_handovers_waiting, summed
		for _, n := range nodes {
			w += testutil.ToFloat64(n.m.waiting)
		}
		return w
	}
	seen, short, waited := 0, 0, 0.0
	for end := time.Now().Add(ttl / 2); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		seen = max(seen, saw())
		short = max(short, len(cams)-len(owners(nodes)))
		waited = max(waited, waiting())
	}
	if err := nodes[0].nodes.Delete(t.Context(), "ghost"); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(ttl); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		short = max(short, len(cams)-len(owners(nodes)))
	}
	if seen == 0 {
		t.Fatal("no node saw the ghost's heartbeat: the test tests nothing")
	}
	if short > 0 {
		t.Errorf("a member seen for %s (settle %s) stopped up to %d cameras", ttl/2, ttl, short)
	}
	if after := fmt.Sprint(owners(nodes)); after != before {
		t.Errorf("owners changed:\nbefore %s\nafter  %s", before, after)
	}
	// The handovers held back are in the metrics while the ghost is seen,
	// and gone with it.
	if waited == 0 {
		t.Error("vigil_cluster_handovers_waiting stayed 0 while the nodes saw an accepting member that owns cameras")
	}
	await.Until(t, 5*time.Second, "vigil_cluster_handovers_waiting back to 0", func() bool { return waiting() == 0 })
}
