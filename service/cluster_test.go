package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/cluster"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// Cluster timings of the test: a lease lives 4 s, renewed every 800 ms; a
// node waits 3 s after (re)connecting before taking leases; a node that
// cannot reach NATS keeps its cameras 30 s after their last renewal, longer
// than the test's 20 s outage (see the README's failure cases).
const (
	testLeaseTTL = 4 * time.Second
	testOutage   = 20 * time.Second
)

// vigilNode is one `vigil run` child process of the cluster test.
type vigilNode struct {
	id, cfg, data, addr string
	cmd                 *exec.Cmd
	logs                *testkit.SyncBuffer
	past                string // the logs of its earlier runs
}

func (n *vigilNode) start(t *testing.T, bin string) {
	t.Helper()
	if n.logs != nil {
		n.past += n.logs.String()
	}
	n.logs = &testkit.SyncBuffer{}
	n.cmd = exec.Command(bin, "run", "--config", n.cfg, "--data-dir", n.data, "--log-level", "info")
	n.cmd.Stderr = n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// running returns the cameras the node lists as streaming; ok is false if
// it does not answer.
func (n *vigilNode) running(c *http.Client) (ids []string, ok bool) {
	res, err := c.Get("http://" + n.addr + "/api/cameras")
	if err != nil {
		return nil, false
	}
	defer res.Body.Close()
	var cams []api.CameraStatus
	if err := json.NewDecoder(res.Body).Decode(&cams); err != nil {
		return nil, false
	}
	for _, c := range cams {
		if c.State == "streaming" {
			ids = append(ids, c.ID)
		}
	}
	return ids, true
}

// sample is one poll of every node: who streams each camera.
type sample struct {
	at  time.Time
	on  map[string][]string // camera → nodes streaming it
	per map[string]int      // node → cameras streaming
}

// TestClusterThreeNodes: three `vigil run` processes share 60 simulated
// cameras through an embedded NATS JetStream. The spread is even; a node
// killed with SIGKILL has its cameras streaming on the others within
// lease_ttl + 5 s and gets a share back when it returns; NATS stopped for
// 20 s and restarted loses and doubles no camera; no sample (every ~200 ms
// on each node's /api/cameras) ever shows a camera streaming on two nodes;
// every incident reaches the stream once per event id, and every incident
// started has exactly one end (those open on the killed node are ended by
// their next owner).
func TestClusterThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vigil and runs three engines for about two minutes")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/vigil").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var natsPort int
	fmt.Sscanf(testkit.ClosedPort(t), "127.0.0.1:%d", &natsPort) //nolint:errcheck // a bad port fails below
	jsDir := filepath.Join(dir, "js")
	ns := testkit.StartNATS(t, natsPort, jsDir)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)

	motion := testkit.Clip(t, "motion")
	var simCams []sim.Camera
	var cams []string
	for i := range 60 {
		id := fmt.Sprintf("cam-%02d", i)
		cams = append(cams, id)
		simCams = append(simCams, sim.Camera{Path: id, Clip: motion})
	}
	srv := testkit.StartSim(t, simCams...)
	var camYAML strings.Builder
	for _, id := range cams {
		fmt.Fprintf(&camYAML, "  - {id: %s, url: %q, analysis_fps: 2, analysis_width: 160}\n", id, srv.URL(id))
	}
	nodes := make([]*vigilNode, 3)
	for i := range nodes {
		n := &vigilNode{id: fmt.Sprintf("vigil-%d", i), addr: testkit.ClosedPort(t), data: filepath.Join(dir, fmt.Sprintf("data-%d", i))}
		n.cfg = filepath.Join(dir, n.id+".yaml")
		y := fmt.Sprintf(`listen: %s
start_spread: 1ms
sinks:
  - {name: js, type: nats, url: %s, create_stream: true, timeout: 2s, backoff_min: 200ms, backoff_max: 1s}
cluster:
  nats_url: %s
  node_id: %s
  lease_ttl: %s
  renew_interval: 800ms
  settle: 3s
  unreachable_grace: 30s
cameras:
%s`, n.addr, natsURL, natsURL, n.id, testLeaseTTL, camYAML.String())
		if err := os.WriteFile(n.cfg, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		n.start(t, bin)
		nodes[i] = n
	}
	defer func() {
		for _, n := range nodes {
			if n.cmd.ProcessState == nil {
				n.cmd.Process.Kill() //nolint:errcheck // the test failed midway
				n.cmd.Wait()         //nolint:errcheck
			}
			if d := os.Getenv("VIGIL_CLUSTER_LOGS"); d != "" {
				// Every node's whole log, for a failure the tails do not explain.
				if err := os.WriteFile(filepath.Join(d, n.id+".log"), []byte(n.past+n.logs.String()), 0o600); err != nil {
					t.Logf("VIGIL_CLUSTER_LOGS: %v", err)
				}
			}
			if t.Failed() {
				t.Logf("%s logs (tail):\n%s", n.id, tail(n.logs.String(), 4000))
			}
		}
	}()

	// Sample every node every ~200 ms, all three at once, for the whole test.
	hc := &http.Client{Timeout: time.Second}
	var mu sync.Mutex
	var samples []sample
	var doubled []string
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			s := sample{at: time.Now(), on: map[string][]string{}, per: map[string]int{}}
			var wg sync.WaitGroup
			var smu sync.Mutex
			for _, n := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ids, ok := n.running(hc)
					if !ok {
						return
					}
					smu.Lock()
					defer smu.Unlock()
					s.per[n.id] = len(ids)
					for _, id := range ids {
						s.on[id] = append(s.on[id], n.id)
					}
				}()
			}
			wg.Wait()
			mu.Lock()
			samples = append(samples, s)
			for c, ns := range s.on {
				if len(ns) > 1 {
					doubled = append(doubled, fmt.Sprintf("%s on %v at %s", c, ns, s.at.Format("15:04:05.000")))
				}
			}
			mu.Unlock()
		}
	}()
	last := func() sample {
		mu.Lock()
		defer mu.Unlock()
		if len(samples) == 0 {
			return sample{}
		}
		return samples[len(samples)-1]
	}
	// allStreaming waits for a sample taken after since in which every
	// camera streams (on one node: doubles are counted by the sampler).
	allStreaming := func(since time.Time, within time.Duration, what string) sample {
		t.Helper()
		var s sample
		await.Until(t, within, what, func() bool {
			s = last()
			return s.at.After(since) && len(s.on) == len(cams)
		})
		return s
	}

	// 1. Even spread. A node that joins after the others settled gets its
	// share a few cameras a round: wait for the spread, every camera
	// streaming.
	s := allStreaming(time.Now(), 60*time.Second, "all 60 cameras streaming on the three nodes")
	spread := func(s sample) (lo, hi int) {
		lo, hi = len(cams), 0
		for _, n := range nodes {
			lo, hi = min(lo, s.per[n.id]), max(hi, s.per[n.id])
		}
		return lo, hi
	}
	await.Until(t, 30*time.Second, "the cameras spread evenly (largest share ≤ 1.5 × smallest)", func() bool {
		s = last()
		lo, hi := spread(s)
		return len(s.on) == len(cams) && float64(hi) <= 1.5*float64(lo)
	})
	t.Logf("spread: %v", s.per)
	// The API's leases against a sample taken around the same request
	// (a lease may move between the two: asked again until they agree).
	var cl cluster.Status
	await.Until(t, 10*time.Second, "/api/cluster of vigil-0 to list its leases", func() bool {
		res, err := hc.Get("http://" + nodes[0].addr + "/api/cluster")
		if err != nil {
			return false
		}
		cl = cluster.Status{}
		json.NewDecoder(res.Body).Decode(&cl) //nolint:errcheck // checked below
		res.Body.Close()
		s = last()
		return len(cl.Leases) == s.per["vigil-0"]
	})
	if cl.NodeID != "vigil-0" || len(cl.Nodes) != 3 {
		t.Errorf("/api/cluster of vigil-0: node %q, %d nodes; want vigil-0, 3", cl.NodeID, len(cl.Nodes))
	}

	// 2. SIGKILL one node: its cameras stream elsewhere within lease_ttl + 5 s.
	victim := nodes[1]
	// Kill it while it has an incident open (recorded in the incidents
	// bucket, which the next owner reads).
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(t.Context(), "vigil_incidents")
	if err != nil {
		t.Fatal(err)
	}
	await.Until(t, 20*time.Second, "an incident open on "+victim.id, func() bool {
		keys, _ := kv.Keys(t.Context())
		for _, k := range keys {
			if e, err := kv.Get(t.Context(), k); err == nil && strings.Contains(string(e.Value()), `"node":"`+victim.id+`"`) {
				return true
			}
		}
		return false
	})
	killed := time.Now()
	victim.cmd.Process.Kill() //nolint:errcheck // checked by Wait
	victim.cmd.Wait()         //nolint:errcheck // killed
	allStreaming(killed, testLeaseTTL+5*time.Second, "the killed node's cameras streaming on the other two within lease_ttl + 5 s")
	t.Logf("all cameras streaming again %s after the SIGKILL", time.Since(killed).Round(100*time.Millisecond))
	orphaned := 0
	for _, n := range nodes {
		if n != victim {
			c := strings.Count(n.logs.String(), "incident of the previous owner ended")
			t.Logf("%s: %d incidents of %s ended", n.id, c, victim.id)
			orphaned += c
		}
	}
	if orphaned == 0 {
		t.Errorf("no incident of the killed node %s was ended by the next owner of its cameras", victim.id)
	}

	// 3. It returns and gets its share back (over several rounds:
	// cluster.HandoverLimit), all of it before the outage below.
	back := time.Now()
	victim.start(t, bin)
	// Every camera on the node the assignment gives it, not only the
	// returned node's count right: a count can be right while handovers
	// are still under way (CI saw two cameras handed over after the
	// outage below, read as cameras that stopped streaming).
	assigned := cluster.Assign(cams, []cluster.Member{{ID: "vigil-0", Weight: 1}, {ID: "vigil-1", Weight: 1}, {ID: "vigil-2", Weight: 1}})
	await.Until(t, 30*time.Second, "every camera to stream on its assigned node, the returned one's share included", func() bool {
		s := last()
		return s.at.After(back) && len(s.on) == len(cams) && mapsEqual(ownersOf(s), assigned)
	})
	before := ownersOf(last())

	// 4. NATS stopped for 20 s and restarted: nothing lost, nothing doubled,
	// nothing moved.
	outage := time.Now()
	ns.Shutdown()
	ns.WaitForShutdown()
	for time.Since(outage) < testOutage+10*time.Second {
		if time.Since(outage) > testOutage && ns != nil && !ns.Running() {
			ns = testkit.StartNATS(t, natsPort, jsDir)
			t.Logf("nats back after %s", time.Since(outage).Round(100*time.Millisecond))
		}
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	for _, s := range samples {
		if s.at.Before(outage) {
			continue
		}
		if len(s.per) == 3 && len(s.on) != len(cams) {
			t.Errorf("at %s (%s after nats stopped) %d cameras stream, want %d", s.at.Format("15:04:05.000"), s.at.Sub(outage).Round(time.Millisecond), len(s.on), len(cams))
			break
		}
	}
	mu.Unlock()
	if after := ownersOf(last()); !mapsEqual(before, after) {
		t.Errorf("owners changed across the nats outage:\nbefore %v\nafter  %v", before, after)
	}

	// 5. Stop every node gracefully, then read the stream.
	for _, n := range nodes {
		n.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // checked by Wait
	}
	for _, n := range nodes {
		if err := n.cmd.Wait(); err != nil {
			t.Errorf("%s exited with %v", n.id, err)
		}
	}
	close(stop)
	<-sampled
	if len(doubled) > 0 {
		t.Errorf("%d samples show a camera streaming on two nodes: %v", len(doubled), doubled[:min(len(doubled), 10)])
	}
	checkStream(t, natsURL)
}

// ownersOf returns each camera's node in a sample.
func ownersOf(s sample) map[string]string {
	out := map[string]string{}
	for c, ns := range s.on {
		out[c] = strings.Join(ns, ",")
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// checkStream reads every event of the incidents stream: each event id
// once, and every incident that started has exactly one end.
func checkStream(t *testing.T, url string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "VIGIL_INCIDENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	starts, ends := map[string]incident.Event{}, map[string]int{}
	for range info.State.Msgs {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("read the stream: %v", err)
		}
		var ev incident.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			t.Fatalf("not an event: %v", err)
		}
		if h := m.Headers().Get(jetstream.MsgIDHeader); h != ev.ID {
			t.Errorf("event %s published with Nats-Msg-Id %q", ev.ID, h)
		}
		ids[ev.ID]++
		switch ev.Type {
		case incident.TypeStart:
			starts[ev.Data.IncidentID] = ev
		case incident.TypeEnd:
			ends[ev.Data.IncidentID]++
			if ev.ID != incident.EndID(ev.Data.IncidentID) {
				t.Errorf("end of %s with id %s, want its derived id %s", ev.Data.IncidentID, ev.ID, incident.EndID(ev.Data.IncidentID))
			}
		}
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s is %d times in the stream", id, n)
		}
	}
	for id, st := range starts {
		if ends[id] != 1 {
			t.Errorf("incident %s (%s, %s) has %d ends in the stream, want 1", id, st.Data.Camera, st.Data.Kind, ends[id])
		}
	}
	t.Logf("stream: %d events, %d incidents", len(ids), len(starts))
	if len(starts) == 0 {
		t.Error("no incident in the stream")
	}
}
