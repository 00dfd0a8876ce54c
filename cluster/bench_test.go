package cluster

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

// benchSize reads a size from the environment (VIGIL_CLUSTER_CAMERAS,
// VIGIL_CLUSTER_NODES) or takes def.
func benchSize(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkCluster measures the cluster against a real embedded JetStream
// at a scaled-down size (2,000 camera leases on 10 nodes by default, each
// node a separate NATS connection, cameras simulated by a Runner that
// records what it is told): the KV requests per second in steady state
// (every node's published messages: renewals, heartbeats, membership
// reads), then the cameras moved and the time until every camera runs
// again once, after a node dies (SIGKILL-like: no release), after a node
// joins, and after a node shuts down (release at once). Defaults of the
// cluster section (lease_ttl 10s, renew_interval 2s), settle 2s.
//
//	go test -run '^$' -bench BenchmarkCluster -benchtime 1x ./cluster/
func BenchmarkCluster(b *testing.B) {
	nCams, nNodes := benchSize("VIGIL_CLUSTER_CAMERAS", 2000), benchSize("VIGIL_CLUSTER_NODES", 10)
	for range b.N {
		url, _, _ := natsURL(b)
		ttl := 10 * time.Second
		cfgOf := func(id string) (c config.Cluster) {
			c = testConfig(url, id, ttl)
			c.RenewInterval, c.Settle, c.UnreachableGrace = 2*time.Second, 2*time.Second, 30*time.Second
			return c
		}
		var cams []string
		for i := range nCams {
			cams = append(cams, fmt.Sprintf("cam-%05d", i))
		}
		nodes := make([]*testNode, nNodes+1)
		for i := range nNodes {
			nodes[i] = newTestNode(b, cfgOf(fmt.Sprintf("node-%02d", i)))
			nodes[i].SetCameras(cams)
			if err := nodes[i].Start(); err != nil {
				b.Fatal(err)
			}
		}
		// once waits until every camera runs on exactly one node and
		// returns the owners and how long it took.
		once := func(what string, from time.Time) (map[string]string, time.Duration) {
			deadline := time.Now().Add(3 * time.Minute)
			for {
				o := owners(nodes)
				ok := len(o) == nCams
				for _, ns := range o {
					ok = ok && len(ns) == 1
				}
				if ok {
					flat := map[string]string{}
					for c, ns := range o {
						flat[c] = ns[0]
					}
					return flat, time.Since(from)
				}
				if time.Now().After(deadline) {
					dbl := 0
					for _, ns := range o {
						if len(ns) > 1 {
							dbl++
						}
					}
					b.Fatalf("%s: not every camera on exactly one node after 3 minutes: %d of %d run, %d on two nodes", what, len(o), nCams, dbl)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		start := time.Now()
		before, took := once("start", start)
		b.Logf("%d cameras on %d nodes: all running once after %s", nCams, nNodes, took.Round(10*time.Millisecond))

		// Steady state: every node's published messages over 20 s (10 rounds).
		time.Sleep(4 * time.Second) // past the start's handovers
		sent := func() (n uint64) {
			for _, tn := range nodes {
				if tn != nil {
					n += tn.nc.Stats().OutMsgs
				}
			}
			return n
		}
		m0, t0 := sent(), time.Now()
		time.Sleep(20 * time.Second)
		rate := float64(sent()-m0) / time.Since(t0).Seconds()
		b.ReportMetric(rate, "kv_requests/s")
		b.Logf("steady state: %.0f KV requests/s (%.0f per node, %.2f per camera per second)", rate, rate/float64(nNodes), rate/float64(nCams))

		moved := func(a, c map[string]string) int {
			n := 0
			for k, v := range a {
				if c[k] != v {
					n++
				}
			}
			return n
		}
		// A node dies.
		victim := nodes[0]
		held := len(victim.runs.get())
		victim.crash()
		nodes[0] = nil
		killed := time.Now()
		after, took := once("after a death", killed)
		b.ReportMetric(took.Seconds(), "death_failover_s")
		b.ReportMetric(float64(moved(before, after)), "moved_on_death")
		b.Logf("a node holding %d dies: %d cameras moved, all running once again after %s (lease_ttl %s)", held, moved(before, after), took.Round(10*time.Millisecond), ttl)

		// A node joins.
		nodes[nNodes] = newTestNode(b, cfgOf("node-new"))
		nodes[nNodes].SetCameras(cams)
		joined := time.Now()
		if err := nodes[nNodes].Start(); err != nil {
			b.Fatal(err)
		}
		var took2 time.Duration
		deadline := time.Now().Add(3 * time.Minute)
		for len(nodes[nNodes].runs.get()) < nCams/nNodes*9/10 {
			if time.Now().After(deadline) {
				b.Fatal("the new node took no share")
			}
			time.Sleep(50 * time.Millisecond)
		}
		after2, took2 := once("after a join", joined)
		b.ReportMetric(took2.Seconds(), "join_rebalance_s")
		b.ReportMetric(float64(moved(after, after2)), "moved_on_join")
		b.Logf("a node joins: %d cameras moved (it took %d), settled after %s (its settle %s)", moved(after, after2), len(nodes[nNodes].runs.get()), took2.Round(10*time.Millisecond), 2*time.Second)

		// A node shuts down: its cameras are handed over at once.
		leaving := nodes[1]
		n1 := len(leaving.runs.get())
		stopped := time.Now()
		leaving.Close()
		nodes[1] = nil
		after3, took3 := once("after a shutdown", stopped)
		b.ReportMetric(took3.Seconds(), "shutdown_handover_s")
		b.Logf("a node holding %d shuts down: %d cameras moved, all running once again after %s", n1, moved(after2, after3), took3.Round(10*time.Millisecond))
		for _, tn := range nodes {
			if tn != nil {
				tn.Close()
			}
		}
	}
}
