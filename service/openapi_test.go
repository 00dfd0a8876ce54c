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
	"sync"
	"testing"
	"time"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/openapitest"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// TestOpenAPIAgainstTheRunningEngine: `vigil run` (one cluster node on a
// real NATS, pprof on) pulls a moving camera from the simulator and an
// unreachable one. Every route's real responses, successes and errors,
// are documented responses of the served OpenAPI description: status,
// media type, and a body valid against the documented schema; every
// event of the live stream is a valid IncidentEvent.
func TestOpenAPIAgainstTheRunningEngine(t *testing.T) {
	dir := t.TempDir()
	var port int
	fmt.Sscanf(testkit.ClosedPort(t), "127.0.0.1:%d", &port) //nolint:errcheck // a bad port fails below
	testkit.StartNATS(t, port, filepath.Join(dir, "js"))
	srv := testkit.StartSim(t, sim.Camera{Path: "moving", Clip: testkit.Clip(t, "motion")})
	listen := testkit.ClosedPort(t)
	cfgPath := filepath.Join(dir, "vigil.yaml")
	yaml := fmt.Sprintf(`listen: %s
pprof: true
start_spread: 1ms
cluster: {nats_url: "nats://127.0.0.1:%d", node_id: solo, lease_ttl: 2s, renew_interval: 400ms, settle: 200ms}
cameras:
  - {id: moving, url: %q}
  - {id: offline, url: "rtsp://%s/x", backoff_min: 100ms, backoff_max: 400ms, offline_grace: 300ms}
`, listen, port, srv.URL("moving"), testkit.ClosedPort(t))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	defer runService(t, Options{ConfigPath: cfgPath, DataDir: filepath.Join(dir, "data"), Events: io.Discard, Logs: io.Discard})()
	base := "http://" + listen
	await.Until(t, 20*time.Second, "the API", func() bool {
		res, err := http.Get(base + "/livez")
		if err == nil {
			res.Body.Close()
		}
		return err == nil
	})
	raw, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	doc := openapitest.Load(t, raw)
	check := func(path, template string) []byte {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return doc.Check(t, "GET", template, res)
	}

	// The live stream, from before the first incident.
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", base+"/api/events", nil)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate("GET", "/api/events", stream.StatusCode, stream.Header.Get("Content-Type"), nil); err != nil {
		t.Error(err)
	}
	var mu sync.Mutex
	var streamed [][]byte
	go func() {
		defer stream.Body.Close()
		sc := bufio.NewScanner(stream.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				mu.Lock()
				streamed = append(streamed, []byte(data))
				mu.Unlock()
			}
		}
	}()

	// An ended motion incident with its snapshots, and an offline camera's.
	var page struct {
		Incidents []incident.Event `json:"incidents"`
	}
	var motion incident.Event
	await.Until(t, 60*time.Second, "a motion incident with a snapshot and a camera_offline incident", func() bool {
		res, err := http.Get(base + "/api/incidents")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		page.Incidents = nil
		if json.NewDecoder(res.Body).Decode(&page) != nil {
			return false
		}
		offline := false
		for _, ev := range page.Incidents {
			offline = offline || ev.Data.Kind == "camera_offline"
			if ev.Data.Kind == "motion" && len(ev.Data.Evidence) > 0 {
				motion = ev
			}
		}
		return offline && motion.ID != ""
	})

	check("/livez", "/livez")
	check("/", "/")
	check("/console/console.js", "/console/{file}")
	check("/readyz", "/readyz")
	check("/metrics", "/metrics")
	check("/api/openapi.json", "/api/openapi.json")
	check("/api/cameras", "/api/cameras")
	check("/api/cameras/moving", "/api/cameras/{id}")
	check("/api/cameras/offline", "/api/cameras/{id}")
	check("/api/cameras/nope", "/api/cameras/{id}")
	check("/api/cameras/moving/snapshot.jpg", "/api/cameras/{id}/snapshot.jpg")
	check("/api/cameras/nope/snapshot.jpg", "/api/cameras/{id}/snapshot.jpg")
	check("/api/incidents", "/api/incidents")
	check("/api/incidents?camera=moving&kind=motion&state=ended&limit=1", "/api/incidents")
	check("/api/incidents?limit=0", "/api/incidents")
	check("/api/incidents?state=closed", "/api/incidents")
	check("/api/events/"+motion.Data.IncidentID+"/snapshot.jpg", "/api/events/{id}/snapshot.jpg")
	check("/api/events/"+motion.Data.IncidentID+"/thumbnail.jpg", "/api/events/{id}/thumbnail.jpg")
	check("/api/events/nope/thumbnail.jpg", "/api/events/{id}/thumbnail.jpg")
	check("/api/evidence/"+motion.Data.Evidence[0].Path, "/api/evidence/{camera}/{file}")
	check("/api/evidence/moving/nope.jpg", "/api/evidence/{camera}/{file}")
	check("/api/cluster", "/api/cluster")
	check("/api/version", "/api/version")
	check("/api/config", "/api/config")
	check("/api/stats", "/api/stats")
	check("/api/moving/latest.jpg", "/api/")
	check("/api/nope/latest.jpg", "/api/")
	check("/api/events?limit=10", "/api/events")
	check("/api/events?limit=0", "/api/events")
	check("/api/events/summary", "/api/events/summary")
	check("/api/events/"+motion.Data.IncidentID, "/api/events/{id}") // not a Frigate event: 404
	check("/debug/pprof/", "/debug/pprof/")
	check("/debug/pprof/symbol", "/debug/pprof/symbol")
	check("/debug/pprof/profile?seconds=1", "/debug/pprof/profile")
	check("/debug/pprof/trace?seconds=0.1", "/debug/pprof/trace")

	mu.Lock()
	defer mu.Unlock()
	if len(streamed) == 0 {
		t.Fatal("no event on the live stream")
	}
	for _, data := range streamed {
		if err := doc.ValidateSchema("IncidentEvent", data); err != nil {
			t.Errorf("streamed event: %v\n%s", err, data)
		}
	}
}
