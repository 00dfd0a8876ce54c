package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
	natssink "github.com/vigil-video/vigil/sink/nats"
)

// blackhole is a TCP proxy on loopback in front of a NATS server; cut
// makes it stop forwarding bytes in both directions without closing
// anything (a partition that sends no reset: the client still believes it
// is connected), and connections made after cut are accepted and answered
// nothing.
type blackhole struct {
	ln   net.Listener
	cut  atomic.Bool
	mu   sync.Mutex
	open []net.Conn
	wg   sync.WaitGroup
}

func newBlackhole(t *testing.T, upstream string) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			b.mu.Lock()
			b.open = append(b.open, c, up)
			b.mu.Unlock()
			b.wg.Add(2)
			go b.pipe(up, c)
			go b.pipe(c, up)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, c := range b.open {
			c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

// pipe copies from src to dst until either closes, dropping what it reads
// once cut.
func (b *blackhole) pipe(dst, src net.Conn) {
	defer b.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !b.cut.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (b *blackhole) url() string { return "nats://" + b.ln.Addr().String() }

// degradedEvents returns the cluster_degraded events among n's.
func degradedEvents(n *testNode) []incident.Event {
	return slices.DeleteFunc(n.out.Events(), func(ev incident.Event) bool { return ev.Data.Kind != KindClusterDegraded })
}

// startNodes starts nodes (sharing cams) and waits until every camera runs
// on exactly one of them and each runs some.
func startNodes(t *testing.T, cams []string, nodes ...*testNode) {
	t.Helper()
	for _, n := range nodes {
		n.SetCameras(cams)
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Close)
	}
	await.Until(t, 20*time.Second, "every camera run once, by every node", func() bool {
		o := owners(nodes)
		for _, n := range nodes {
			if len(n.runs.get()) == 0 {
				return false
			}
		}
		for _, ns := range o {
			if len(ns) != 1 {
				return false
			}
		}
		return len(o) == len(cams)
	})
}

// settled waits until the nodes' cameras have stayed with the same
// owners for hold.
func settled(t *testing.T, hold time.Duration, nodes ...*testNode) {
	t.Helper()
	last, since := "", time.Now()
	await.Until(t, 30*time.Second, "the cameras to stay with their owners for "+hold.String(), func() bool {
		if o := fmt.Sprint(owners(nodes)); o != last {
			last, since = o, time.Now()
		}
		return time.Since(since) >= hold
	})
}

// lastRenewal is when the newest renewal of n's leases was sent.
func lastRenewal(n *testNode) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	var last time.Time
	for _, l := range n.held {
		last = later(last, l.renewed)
	}
	return last
}

// TestStoreDownKeepsAnalyzing: NATS stopped for longer than
// unreachable_grace (itself 3 × lease_ttl): the node keeps running every
// camera it holds all along (no Runner call drops one), cluster_degraded
// starts once lease_ttl has passed without reaching NATS (camera: the
// node id; cause store_down) with vigil_cluster_degraded at 1, and ends
// when NATS is back; the leases are re-asserted and the cameras never
// stopped.
func TestStoreDownKeepsAnalyzing(t *testing.T) {
	var port int
	fmt.Sscanf(testkit.ClosedPort(t), "127.0.0.1:%d", &port) //nolint:errcheck // checked by use
	dir := t.TempDir()
	srv := testkit.StartNATS(t, port, dir)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ttl := 2 * time.Second
	cfg := testConfig(url, "solo", ttl)
	n := newTestNode(t, cfg)
	cams := []string{"cam-a", "cam-b", "cam-c"}
	startNodes(t, cams, n)

	var shrank atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample what the runner runs all along
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				if len(n.runs.get()) != len(cams) {
					shrank.Store(true)
				}
			}
		}
	}()

	srv.Shutdown()
	down := time.Now()
	await.Until(t, cfg.UnreachableGrace+ttl, "cluster_degraded to start", func() bool { return len(degradedEvents(n)) > 0 })
	if d := time.Since(down); d < ttl-cfg.RenewInterval {
		t.Errorf("cluster_degraded started %s after NATS stopped, before lease_ttl %s", d, ttl)
	}
	ev := degradedEvents(n)[0]
	if ev.Type != incident.TypeStart || ev.Data.Camera != "solo" || ev.Data.Cause != CauseStoreDown || ev.Data.Score != 1 {
		t.Errorf("cluster_degraded start %+v, want a start on camera solo, cause %s", ev, CauseStoreDown)
	}
	if g := testutil.ToFloat64(n.m.degraded); g != 1 {
		t.Errorf("vigil_cluster_degraded %g while degraded, want 1", g)
	}
	if st := n.Status(); st.Degraded != CauseStoreDown || st.Connected {
		t.Errorf("/api/cluster while NATS is down: degraded %q, connected %v; want %s, false", st.Degraded, st.Connected, CauseStoreDown)
	}
	// Well past unreachable_grace after the last renewal.
	time.Sleep(time.Until(down.Add(cfg.UnreachableGrace + 2*ttl)))
	if shrank.Load() || len(n.runs.get()) != len(cams) {
		t.Fatalf("cameras stopped while NATS was down (runs %v)", n.runs.get())
	}
	testkit.StartNATS(t, port, dir)
	await.Until(t, 10*ttl, "cluster_degraded to end", func() bool {
		evs := degradedEvents(n)
		return len(evs) > 0 && evs[len(evs)-1].Type == incident.TypeEnd
	})
	evs := degradedEvents(n)
	if end := evs[len(evs)-1]; end.Data.IncidentID != ev.Data.IncidentID || end.ID != incident.EndID(ev.Data.IncidentID) {
		t.Errorf("cluster_degraded end %+v does not end the incident started", end)
	}
	if g := testutil.ToFloat64(n.m.degraded); g != 0 {
		t.Errorf("vigil_cluster_degraded %g after NATS is back, want 0", g)
	}
	if st := n.Status(); st.Degraded != "" {
		t.Errorf("/api/cluster after NATS is back: degraded %q, want none", st.Degraded)
	}
	await.Until(t, 5*ttl, "the leases re-asserted", func() bool {
		for _, l := range n.Status().Leases {
			if l.AgeSeconds > ttl.Seconds() {
				return false
			}
		}
		return len(n.Status().Leases) == len(cams)
	})
	close(stop)
	wg.Wait()
	if shrank.Load() {
		t.Errorf("cameras stopped during the outage or after it")
	}
}

// TestSilentPartitionFences: a node whose connection to NATS goes through
// a proxy that stops forwarding bytes without closing anything (its client
// still believes it is connected, every operation times out) stops its
// cameras within unreachable_grace + fenceTick of its last renewal (with 2
// s of slack for a noisy machine), and the other node, which still reaches
// NATS, takes them once the leases expired (lease_ttl after that renewal).
// The overlap is reported against lease_ttl. Before the fence ran apart
// from the round, the decision waited for a round blocked 2 s + 2 s + 5 s
// by the silent connection: 10 s after the renewal here.
func TestSilentPartitionFences(t *testing.T) {
	url, _, _ := natsURL(t)
	ttl := 2 * time.Second
	proxy := newBlackhole(t, url[len("nats://"):])
	a := newTestNode(t, testConfig(proxy.url(), "a", ttl))
	b := newTestNode(t, testConfig(url, "b", ttl))
	var cams []string
	for i := range 8 {
		cams = append(cams, fmt.Sprintf("cam-%d", i))
	}
	startNodes(t, cams, a, b)

	proxy.cut.Store(true)
	last := lastRenewal(a)
	await.Until(t, a.cfg.UnreachableGrace+10*time.Second, "a to stop its cameras", func() bool { return len(a.runs.get()) == 0 })
	fenced := time.Since(last)
	bound := a.cfg.UnreachableGrace + a.fenceTick() + 2*time.Second
	t.Logf("a fenced %s after its last renewal (lease_ttl %s, unreachable_grace %s): overlap at most %s",
		fenced.Round(time.Millisecond), ttl, a.cfg.UnreachableGrace, (fenced - ttl).Round(time.Millisecond))
	if fenced > bound {
		t.Errorf("a stopped its cameras %s after its last renewal, want at most unreachable_grace + fenceTick + 2 s = %s", fenced, bound)
	}
	if fenced < a.cfg.UnreachableGrace {
		t.Errorf("a stopped its cameras %s after its last renewal, before unreachable_grace %s", fenced, a.cfg.UnreachableGrace)
	}
	await.Until(t, 4*ttl, "b to run a's cameras", func() bool { return len(b.runs.get()) == len(cams) })
	if !slices.ContainsFunc(degradedEvents(a), func(ev incident.Event) bool {
		return ev.Type == incident.TypeStart && ev.Data.Cause == CauseUnreachable
	}) {
		t.Errorf("a raised no cluster_degraded (cause unreachable): %+v", degradedEvents(a))
	}
}

// TestOneEndForTwoNodes: an incident open on a node cut off silently is
// ended twice, by the node itself when it fences the camera (as the engine
// does: incident.New) and by the camera's next owner (its record in the
// incidents bucket); both ends carry one event id and, published by two
// NATS sinks into one stream, JetStream keeps one message.
func TestOneEndForTwoNodes(t *testing.T) {
	url, _, _ := natsURL(t)
	ttl := 2 * time.Second
	proxy := newBlackhole(t, url[len("nats://"):])
	a := newTestNode(t, testConfig(proxy.url(), "a", ttl))
	b := newTestNode(t, testConfig(url, "b", ttl))
	var cams []string
	for i := range 8 {
		cams = append(cams, fmt.Sprintf("cam-%d", i))
	}
	startNodes(t, cams, a, b)
	victim := a.runs.get()[0]
	start := time.Now().UTC()
	inc := incident.Incident{IncidentID: incident.DeriveID(victim, "motion", "", start), Camera: victim, Kind: "motion",
		StartedAt: start, FrameTime: start, FrameTimeSource: incident.TimeReceipt, Score: 0.2}
	a.Observe(incident.New(incident.TypeStart, inc, time.Now()))
	await.Until(t, 5*time.Second, "the open incident recorded", func() bool {
		_, err := b.incidents.Get(t.Context(), key(victim))
		return err == nil
	})

	proxy.cut.Store(true)
	await.Until(t, a.cfg.UnreachableGrace+10*time.Second, "a to stop its cameras", func() bool { return len(a.runs.get()) == 0 })
	end := time.Now().UTC()
	ended := inc
	ended.EndedAt, ended.FrameTime = &end, end
	endA := incident.New(incident.TypeEnd, ended, time.Now()) // what a's engine emits when the camera stops
	var endB incident.Event
	await.Until(t, 4*ttl, "b to end a's incident", func() bool {
		for _, ev := range b.out.Events() {
			if ev.Type == incident.TypeEnd && ev.Data.IncidentID == inc.IncidentID {
				endB = ev
				return true
			}
		}
		return false
	})
	if endA.ID != endB.ID {
		t.Fatalf("two ends of one incident: ids %s (a) and %s (b)", endA.ID, endB.ID)
	}

	cfg := config.NATSSink{URL: url, SubjectPrefix: "vigil", Stream: "VIGIL", CreateStream: true, MaxAge: time.Hour, MaxBytes: 1 << 20}
	for i, ev := range []incident.Event{endA, endB} {
		s, err := natssink.New(sink.Common{Name: fmt.Sprintf("nats-%d", i), Timeout: 5 * time.Second}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(ev) //nolint:errchkjson // plain data
		if err := s.Deliver(t.Context(), js, &ev); err != nil {
			t.Fatal(err)
		}
		s.Close() //nolint:errcheck // test
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "VIGIL")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("the stream holds %d messages for the two ends, want 1", info.State.Msgs)
	}
}

// TestCloseCutOffIsBounded: a node whose connection silently stopped
// answering shuts down within closeTimeout for all its releases (plus the
// client's close, at most 5 s), not 2 s + 2 s per camera (32 s for 8).
func TestCloseCutOffIsBounded(t *testing.T) {
	url, _, _ := natsURL(t)
	ttl := 2 * time.Second
	proxy := newBlackhole(t, url[len("nats://"):])
	a := newTestNode(t, testConfig(proxy.url(), "a", ttl))
	var cams []string
	for i := range 8 {
		cams = append(cams, fmt.Sprintf("cam-%d", i))
	}
	startNodes(t, cams, a)
	proxy.cut.Store(true)
	start := time.Now()
	a.Close()
	if d, bound := time.Since(start), closeTimeout+5*time.Second+2*time.Second; d > bound {
		t.Errorf("Close of a node cut off took %s, want at most %s", d, bound)
	}
}

// TestDegradedEndedByNextRun: a node that dies (no Close) while its
// cluster_degraded incident is open leaves it in Options.DegradedPath; its
// next run ends it at Start, with the incident's id and its end's derived
// id, as ended when the dead run last saved it, and removes the file. A
// node that recovers removes the file itself.
func TestDegradedEndedByNextRun(t *testing.T) {
	var port int
	fmt.Sscanf(testkit.ClosedPort(t), "127.0.0.1:%d", &port) //nolint:errcheck // checked by use
	dir := t.TempDir()
	srv := testkit.StartNATS(t, port, dir)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ttl := 2 * time.Second
	cfg := testConfig(url, "solo", ttl)
	path := filepath.Join(t.TempDir(), "cluster-degraded.json")
	n := newTestNode(t, cfg)
	n.opts.DegradedPath = path
	n.SetCameras([]string{"cam-a"})
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 10*time.Second, "the camera to run", func() bool { return len(n.runs.get()) == 1 })
	srv.Shutdown()
	srv.WaitForShutdown()
	await.Until(t, 4*ttl, "cluster_degraded to start", func() bool { return len(degradedEvents(n)) > 0 })
	start := degradedEvents(n)[0]
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the open cluster_degraded is not saved: %v", err)
	}
	time.Sleep(ttl + time.Second) // saved again: the node still ran then
	n.crash()
	died := time.Now()

	srv = testkit.StartNATS(t, port, dir)
	next := newTestNode(t, cfg)
	next.opts.DegradedPath = path
	next.SetCameras([]string{"cam-a"})
	if err := next.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(next.Close)
	evs := degradedEvents(next)
	if len(evs) != 1 || evs[0].Type != incident.TypeEnd || evs[0].Data.IncidentID != start.Data.IncidentID || evs[0].ID != incident.EndID(start.Data.IncidentID) {
		t.Fatalf("the next run emitted %+v at Start, want the end of %s", evs, start.Data.IncidentID)
	}
	if end := *evs[0].Data.EndedAt; end.Before(start.Time.Add(ttl)) || end.After(died) {
		t.Errorf("ended at %s: want between the last save after %s and the death at %s", end, start.Time.Add(ttl), died)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the file is still there after its incident ended: %v", err)
	}

	// A node that recovers removes the file.
	srv.Shutdown()
	srv.WaitForShutdown()
	await.Until(t, 4*ttl, "cluster_degraded of the next run to start", func() bool {
		evs := degradedEvents(next)
		return evs[len(evs)-1].Type == incident.TypeStart
	})
	testkit.StartNATS(t, port, dir)
	await.Until(t, 10*ttl, "cluster_degraded to end", func() bool {
		evs := degradedEvents(next)
		return evs[len(evs)-1].Type == incident.TypeEnd
	})
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the file is still there after the node recovered: %v", err)
	}
}

// newDeliveringNode is newTestNode with the delivery hook in place: every
// event, the node's own (ends of orphans, released held incidents) and the
// test's (deliver), goes through Filter before it reaches out, as
// delivery.BeforeStore does in vigil run.
func newDeliveringNode(t *testing.T, cfg config.Cluster, heldPath string) *testNode {
	t.Helper()
	tn := &testNode{runs: &runs{}, out: &incidenttest.Memory{}, discarded: &incidenttest.Memory{}}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("node", cfg.NodeID)
	}
	n, err := New(cfg, Options{Runner: tn.runs, Logger: log, HeldPath: heldPath, Emit: func(ev incident.Event) error {
		tn.deliver(ev)
		return nil
	}, Discard: func(ev incident.Event) { tn.discarded.Emit(ev) }}) //nolint:errcheck // memory
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	return tn
}

// deliver passes evs through the node's Filter to its output.
func (n *testNode) deliver(evs ...incident.Event) {
	for _, ev := range n.Filter(slices.Clone(evs)) {
		n.out.Emit(ev) //nolint:errcheck // memory
	}
}

// motion returns the start and end events of a motion incident on camera
// from start to end, as the engine names them.
func motion(camera string, start, end time.Time) (incident.Event, incident.Event) {
	inc := incident.Incident{IncidentID: incident.DeriveID(camera, "motion", "", start), Camera: camera, Kind: "motion",
		StartedAt: start.UTC(), FrameTime: start.UTC(), FrameTimeSource: incident.TimeReceipt, Score: 0.2}
	s := incident.New(incident.TypeStart, inc, start)
	e := end.UTC()
	inc.EndedAt, inc.FrameTime = &e, e
	return s, incident.New(incident.TypeEnd, inc, end)
}

// TestPartitionIncidentSeenOnce: a node cut off silently holds back the
// incidents that start on its cameras meanwhile (their starts cannot be
// recorded for the next owner). Once the partition heals, one that the
// camera's new owner also reported (same kind, overlapping times) is
// dropped, and one it did not see (it ended before the new owner started
// the camera) is delivered, late: the consumer sees each thing once and
// loses none.
func TestPartitionIncidentSeenOnce(t *testing.T) {
	url, _, _ := natsURL(t)
	ttl := 2 * time.Second
	proxy := newBlackhole(t, url[len("nats://"):])
	a := newDeliveringNode(t, testConfig(proxy.url(), "a", ttl), filepath.Join(t.TempDir(), "held.json"))
	b := newDeliveringNode(t, testConfig(url, "b", ttl), "")
	var cams []string
	for i := range 8 {
		cams = append(cams, fmt.Sprintf("cam-%d", i))
	}
	startNodes(t, cams, a, b)
	// Cameras move from a, which started first, to b a few a round: the
	// two of a's below must not be handed over at the cut anyway (b
	// would then report "alone" during a's incident, and rightly merge
	// it; CI saw it once).
	settled(t, 2*ttl, a, b)
	mine := a.runs.get()
	if len(mine) < 2 {
		t.Fatalf("a runs %v, want two cameras at least", mine)
	}
	both, alone := mine[0], mine[1]

	// Before the cut a start is recorded and delivered at once.
	before, beforeEnd := motion(alone, time.Now(), time.Now().Add(100*time.Millisecond))
	a.deliver(before)
	if evs := a.out.Events(); !slices.ContainsFunc(evs, func(ev incident.Event) bool { return ev.ID == before.ID }) {
		t.Fatalf("a held a start it could record (NATS answering): %d events out", len(evs))
	}
	a.deliver(beforeEnd)

	proxy.cut.Store(true)
	cut := time.Now()
	// Two incidents start on a's cameras during the cut: "alone" ends at
	// once (b will not see it), "both" lasts until a's fence stops it.
	aloneStart, aloneEnd := motion(alone, cut.Add(100*time.Millisecond), cut.Add(900*time.Millisecond))
	bothStart, _ := motion(both, cut.Add(200*time.Millisecond), time.Time{})
	a.deliver(aloneStart, bothStart)
	a.deliver(aloneEnd)
	if evs := a.out.Events(); slices.ContainsFunc(evs, func(ev incident.Event) bool {
		return ev.Data.Kind == "motion" && ev.Data.IncidentID != before.Data.IncidentID
	}) {
		t.Fatalf("a delivered a start it could not record while cut off: %+v", evs)
	}
	if got := testutil.ToFloat64(a.m.held); got != 2 {
		t.Errorf("vigil_cluster_incidents_held = %v, want 2", got)
	}

	// b takes the cameras and sees the same motion on "both".
	await.Until(t, 4*ttl, "b to run both", func() bool { return slices.Contains(b.runs.get(), both) })
	bStart, bEnd := motion(both, time.Now(), time.Now().Add(time.Second))
	b.deliver(bStart)
	if !slices.ContainsFunc(b.out.Events(), func(ev incident.Event) bool { return ev.ID == bStart.ID }) {
		t.Fatal("b, the camera's owner, held a start instead of delivering it")
	}
	// On "alone" b reports motion too, but later than a's, which had
	// ended: not the same thing.
	await.Until(t, 4*ttl, "b to run alone", func() bool { return slices.Contains(b.runs.get(), alone) })
	b.deliver(motion(alone, time.Now(), time.Now().Add(500*time.Millisecond)))
	// a's fence stops the camera: its engine ends the incident.
	await.Until(t, a.cfg.UnreachableGrace+10*time.Second, "a to stop its cameras", func() bool { return len(a.runs.get()) == 0 })
	_, bothEnd := motion(both, bothStart.Data.StartedAt, time.Now())
	a.deliver(bothEnd)
	b.deliver(bEnd)

	proxy.cut.Store(false)
	await.Until(t, 30*time.Second, "a to settle what it held", func() bool { return testutil.ToFloat64(a.m.held) == 0 })
	byID := map[string][]string{}
	for _, ev := range a.out.Events() {
		if ev.Data.Kind == "motion" && ev.Data.IncidentID != before.Data.IncidentID {
			byID[ev.Data.IncidentID] = append(byID[ev.Data.IncidentID], ev.Type)
		}
	}
	if got := byID[aloneStart.Data.IncidentID]; !slices.Equal(got, []string{incident.TypeStart, incident.TypeEnd}) {
		t.Errorf("the incident only a saw: a delivered %v, want its start and end (late)", got)
	}
	if got := byID[bothStart.Data.IncidentID]; len(got) > 0 {
		t.Errorf("the incident b reported too: a delivered %v of it as well, want nothing (the consumer would see it twice)", got)
	}
	// Its end is discarded, for the engine to forget the incident: else
	// its next run would end what no consumer saw start.
	if !slices.ContainsFunc(a.discarded.Events(), func(ev incident.Event) bool {
		return ev.Type == incident.TypeEnd && ev.Data.IncidentID == bothStart.Data.IncidentID
	}) {
		t.Errorf("the dropped incident's end was not discarded: %d events discarded", len(a.discarded.Events()))
	}
	if m, r := testutil.ToFloat64(a.m.heldSettled.WithLabelValues("merged")), testutil.ToFloat64(a.m.heldSettled.WithLabelValues("reconciled")); m != 1 || r != 1 {
		t.Errorf("held incidents merged %v, reconciled %v; want 1 and 1", m, r)
	}
	if _, err := os.Stat(a.opts.HeldPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the held file is still there once nothing is held: %v", err)
	}
}

// TestHeldSurvivesACrash: a node that dies (no Close) while it holds
// incidents back leaves them in Options.HeldPath; its next run settles
// them once NATS answers: the one the camera's new owner also reported is
// dropped, the other delivered with an end at the last moment the dead
// run was known to hold it; the file goes.
func TestHeldSurvivesACrash(t *testing.T) {
	url, _, _ := natsURL(t)
	ttl := 2 * time.Second
	proxy := newBlackhole(t, url[len("nats://"):])
	held := filepath.Join(t.TempDir(), "held.json")
	a := newDeliveringNode(t, testConfig(proxy.url(), "a", ttl), held)
	b := newDeliveringNode(t, testConfig(url, "b", ttl), "")
	var cams []string
	for i := range 8 {
		cams = append(cams, fmt.Sprintf("cam-%d", i))
	}
	startNodes(t, cams, a, b)
	settled(t, 2*ttl, a, b) // as in TestPartitionIncidentSeenOnce
	mine := a.runs.get()
	if len(mine) < 2 {
		t.Fatalf("a runs %v, want two cameras at least", mine)
	}
	both, alone := mine[0], mine[1]
	proxy.cut.Store(true)
	cut := time.Now()
	aloneStart, _ := motion(alone, cut.Add(100*time.Millisecond), time.Time{})
	bothStart, _ := motion(both, cut.Add(200*time.Millisecond), time.Time{})
	a.deliver(aloneStart, bothStart)
	if _, err := os.Stat(held); err != nil {
		t.Fatalf("held incidents not saved: %v", err)
	}
	await.Until(t, 4*ttl, "b to run both", func() bool { return slices.Contains(b.runs.get(), both) })
	bStart, bEnd := motion(both, time.Now(), time.Now().Add(time.Second))
	b.deliver(bStart, bEnd)
	time.Sleep(ttl + time.Second) // a rewrites its file meanwhile: it still ran
	a.crash()

	a2 := newDeliveringNode(t, testConfig(url, "a", ttl), held)
	a2.SetCameras(cams)
	if err := a2.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a2.Close)
	await.Until(t, 20*time.Second, "the next run to settle what a held", func() bool {
		_, err := os.Stat(held)
		return errors.Is(err, fs.ErrNotExist)
	})
	byID := map[string][]incident.Event{}
	for _, ev := range a2.out.Events() {
		if ev.Data.Kind == "motion" {
			byID[ev.Data.IncidentID] = append(byID[ev.Data.IncidentID], ev)
		}
	}
	got := byID[aloneStart.Data.IncidentID]
	if len(got) != 2 || got[0].Type != incident.TypeStart || got[1].Type != incident.TypeEnd {
		t.Fatalf("the incident only a saw: the next run delivered %d events, want its start and an end", len(got))
	}
	if e := got[1].Data.EndedAt; e == nil || e.Before(bStart.Data.StartedAt) {
		t.Errorf("its end %v: want the dead run's last write, after b took the camera (%s)", e, bStart.Data.StartedAt)
	}
	if got := byID[bothStart.Data.IncidentID]; len(got) > 0 {
		t.Errorf("the incident b reported too: the next run delivered %d events of it, want none", len(got))
	}
}
