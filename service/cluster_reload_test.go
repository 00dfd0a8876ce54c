package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/cluster"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// TestClusterNodeReloadAndShutdown: Run with a cluster section, alone in
// the cluster, runs every camera; a reload that drops one stops it and
// releases its lease; /api/cluster shows the node and its leases; the
// shutdown deletes every lease and the heartbeat at once.
func TestClusterNodeReloadAndShutdown(t *testing.T) {
	dir := t.TempDir()
	var port int
	fmt.Sscanf(testkit.ClosedPort(t), "127.0.0.1:%d", &port) //nolint:errcheck // a bad port fails below
	testkit.StartNATS(t, port, filepath.Join(dir, "js"))
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	static := testkit.Clip(t, "static")
	srv := testkit.StartSim(t, sim.Camera{Path: "a", Clip: static}, sim.Camera{Path: "b", Clip: static}, sim.Camera{Path: "c", Clip: static})
	listen := testkit.ClosedPort(t)
	cfgPath := filepath.Join(dir, "vigil.yaml")
	write := func(ids ...string) {
		y := fmt.Sprintf("listen: %s\nstart_spread: 1ms\nsinks: [{name: out, type: file, path: %s}]\n"+
			"cluster: {nats_url: %q, node_id: solo, lease_ttl: 2s, renew_interval: 400ms, settle: 200ms}\ncameras:\n",
			listen, filepath.Join(dir, "events.jsonl"), url)
		for _, id := range ids {
			y += fmt.Sprintf("  - {id: %s, url: %q}\n", id, srv.URL(id))
		}
		if err := os.WriteFile(cfgPath, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "b", "c")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: cfgPath, DataDir: filepath.Join(dir, "data"), Events: io.Discard, Logs: io.Discard})
	}()
	get := func(path string, v any) bool {
		res, err := http.Get("http://" + listen + path)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		return res.StatusCode == 200 && json.NewDecoder(res.Body).Decode(v) == nil
	}
	running := func() []string {
		var cams []api.CameraStatus
		get("/api/cameras", &cams)
		var ids []string
		for _, c := range cams {
			ids = append(ids, c.ID)
		}
		return ids
	}
	await.Until(t, 20*time.Second, "the node to run a, b and c", func() bool { return slices.Equal(running(), []string{"a", "b", "c"}) })

	write("a", "c") // picked up by the file watcher
	await.Until(t, 20*time.Second, "the reload to stop b", func() bool { return slices.Equal(running(), []string{"a", "c"}) })
	var st cluster.Status
	await.Until(t, 10*time.Second, "/api/cluster to show the node and its two leases", func() bool {
		return get("/api/cluster", &st) && st.NodeID == "solo" && len(st.Nodes) == 1 && len(st.Leases) == 2 &&
			slices.Equal(st.Nodes[0].Cameras, []string{"a", "c"}) // the heartbeat of the round after the release
	})
	if st.Leases[0].Camera != "a" || st.Leases[1].Camera != "c" || !st.Connected {
		t.Errorf("/api/cluster: %+v", st)
	}

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	leases, err := js.KeyValue(t.Context(), "vigil_leases")
	if err != nil {
		t.Fatal(err)
	}
	keys := func(kv jetstream.KeyValue) []string {
		ks, err := kv.Keys(t.Context())
		if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
			t.Fatalf("keys of %s: %v", kv.Bucket(), err)
		}
		slices.Sort(ks)
		return ks
	}
	await.Until(t, 10*time.Second, "b's lease released", func() bool { return slices.Equal(keys(leases), []string{"a", "c"}) })

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// At once: well before lease_ttl (2 s) could expire them.
	if ks := keys(leases); len(ks) != 0 {
		t.Errorf("leases left after shutdown: %v", ks)
	}
	nodes, err := js.KeyValue(t.Context(), "vigil_nodes")
	if err != nil {
		t.Fatal(err)
	}
	if ks := keys(nodes); len(ks) != 0 {
		t.Errorf("heartbeats left after shutdown: %v", ks)
	}
}
