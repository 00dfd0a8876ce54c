package service

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/cluster"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/openapitest"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// TestClusterStoreDownKeepsAnalyzing: a `vigil run` node (in-process, real
// RTSP from the simulator, a real engine) whose NATS server stops for
// longer than unreachable_grace + lease_ttl keeps analyzing both its
// cameras all along (each one's last analyzed picture moves on, and
// /api/cameras lists both at every sample); a cluster_degraded start (camera:
// the node id) reaches the sink with vigil_cluster_degraded at 1, and its
// end follows NATS's return.
func TestClusterStoreDownKeepsAnalyzing(t *testing.T) {
	if testing.Short() {
		t.Skip("about 25 s")
	}
	dir := t.TempDir()
	var port int
	fmt.Sscanf(testkit.ClosedPort(t), "127.0.0.1:%d", &port) //nolint:errcheck // a bad port fails below
	jsDir := filepath.Join(dir, "js")
	nsrv := testkit.StartNATS(t, port, jsDir)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	clip := testkit.Clip(t, "static")
	srv := testkit.StartSim(t, sim.Camera{Path: "a", Clip: clip}, sim.Camera{Path: "b", Clip: clip})
	listen := testkit.ClosedPort(t)
	events := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "vigil.yaml")
	y := fmt.Sprintf("listen: %s\nstart_spread: 1ms\nsinks: [{name: out, type: file, path: %s}]\n"+
		"cluster: {nats_url: %q, node_id: solo, lease_ttl: 2s, renew_interval: 400ms, settle: 200ms, unreachable_grace: 3s}\ncameras:\n"+
		"  - {id: a, url: %q}\n  - {id: b, url: %q}\n", listen, events, url, srv.URL("a"), srv.URL("b"))
	if err := os.WriteFile(cfgPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: cfgPath, DataDir: filepath.Join(dir, "data"), Events: io.Discard, Logs: io.Discard})
	}()
	get := func(path string) []byte {
		res, err := http.Get("http://" + listen + path)
		if err != nil {
			return nil
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			return nil
		}
		return b
	}
	// analyzed returns each running camera's last analyzed picture.
	analyzed := func() map[string]time.Time {
		var cams []api.CameraStatus
		json.Unmarshal(get("/api/cameras"), &cams) //nolint:errcheck // an empty list fails the callers
		out := map[string]time.Time{}
		for _, c := range cams {
			if c.LastAnalyzed != nil {
				out[c.ID] = *c.LastAnalyzed
			} else {
				out[c.ID] = time.Time{}
			}
		}
		return out
	}
	degraded := func() []incident.Event {
		f, err := os.Open(events)
		if err != nil {
			return nil
		}
		defer f.Close()
		var out []incident.Event
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev incident.Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Data.Kind == cluster.KindClusterDegraded {
				out = append(out, ev)
			}
		}
		return out
	}
	gauge := func() string {
		for _, l := range strings.Split(string(get("/metrics")), "\n") {
			if v, ok := strings.CutPrefix(l, "vigil_cluster_degraded "); ok {
				return v
			}
		}
		return ""
	}
	await.Until(t, 30*time.Second, "the node to analyze a and b", func() bool {
		la := analyzed()
		return len(la) == 2 && !la["a"].IsZero() && !la["b"].IsZero()
	})

	nsrv.Shutdown()
	stopped := time.Now()
	before := analyzed()
	stop := make(chan struct{})
	missing := make(chan string, 1)
	go func() { // /api/cameras lists both at every sample
		for {
			select {
			case <-stop:
				close(missing)
				return
			case <-time.After(200 * time.Millisecond):
				if la := analyzed(); len(la) != 2 {
					missing <- fmt.Sprintf("%s into the outage: running %v", time.Since(stopped).Round(time.Millisecond), la)
					<-stop
					close(missing)
					return
				}
			}
		}
	}()
	await.Until(t, 20*time.Second, "cluster_degraded to reach the sink", func() bool { return len(degraded()) > 0 })
	if ev := degraded()[0]; ev.Type != incident.TypeStart || ev.Data.Camera != "solo" || ev.Data.Cause != cluster.CauseStoreDown {
		t.Errorf("first cluster_degraded event %s %s/%s, want a start for solo, cause %s", ev.Type, ev.Data.Camera, ev.Data.Cause, cluster.CauseStoreDown)
	}
	if g := gauge(); g != "1" {
		t.Errorf("vigil_cluster_degraded %q while NATS is down, want 1", g)
	}
	// /api/cluster says why, as the OpenAPI description documents it.
	if res, err := http.Get("http://" + listen + "/api/cluster"); err != nil {
		t.Error(err)
	} else {
		raw, _ := api.OpenAPI()
		var st cluster.Status
		if err := json.Unmarshal(openapitest.Load(t, raw).Check(t, "GET", "/api/cluster", res), &st); err != nil || st.Degraded != cluster.CauseStoreDown {
			t.Errorf("/api/cluster while NATS is down: degraded %q (%v), want %s", st.Degraded, err, cluster.CauseStoreDown)
		}
	}
	// Past unreachable_grace + lease_ttl after the last renewal, every
	// camera's analysis has moved on.
	time.Sleep(time.Until(stopped.Add(3*time.Second + 2*time.Second + 3*time.Second)))
	after := analyzed()
	for _, id := range []string{"a", "b"} {
		if !after[id].After(before[id]) {
			t.Errorf("camera %s not analyzed during the outage: last picture %s, %s before it", id, after[id], before[id])
		}
	}
	close(stop)
	if m, ok := <-missing; ok {
		t.Errorf("a camera stopped during the outage: %s", m)
	}
	testkit.StartNATS(t, port, jsDir)
	await.Until(t, 20*time.Second, "cluster_degraded to end", func() bool {
		evs := degraded()
		return len(evs) > 1 && evs[len(evs)-1].Type == incident.TypeEnd
	})
	if g := gauge(); g != "0" {
		t.Errorf("vigil_cluster_degraded %q after NATS is back, want 0", g)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
