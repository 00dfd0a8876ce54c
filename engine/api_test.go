package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/delivery"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
	"github.com/vigil-video/vigil/sinks"
)

// TestAPIAgainstSimulator: the HTTP API of an engine pulling simulated
// cameras with credentials: cameras, one camera, its snapshot, incidents
// (filtered), the live SSE stream; no response holds a credential.
func TestAPIAgainstSimulator(t *testing.T) {
	const pass = "Sup3r-s3cret"
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", User: "op", Pass: pass,
		Cameras: []sim.Camera{{Path: "moving", Clip: clip(t, "motion")}, {Path: "still", Clip: clip(t, "static")}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	withCreds := func(path string) string {
		return strings.Replace(srv.URL(path), "rtsp://", "rtsp://op:"+pass+"@", 1)
	}
	ob := config.DefaultOutbox()
	ob.Path = filepath.Join(t.TempDir(), "o.db")
	d, err := delivery.New(delivery.Config{Outbox: ob, Sinks: []config.Sink{config.DefaultSink(config.SinkStdout)}}, sinks.Env{Stdout: io.Discard}.Open, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	defer d.Close()
	recent := api.NewIncidentLog(10000)
	live := api.NewEventHub(256, recent)
	d.OnStored(func(ev incident.Event) { recent.Add(ev); live.Publish(ev) })
	defer live.Close()
	cfg := testConfig(cameraConfig("moving", withCreds("moving")), cameraConfig("still", withCreds("still")))
	e, err := New(cfg, Options{Logger: testLogger(t), Events: d, Incidents: recent, Live: live, Collectors: d.Collectors()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := "http://" + e.Addr()

	// Subscribe to the live stream before the incident.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("/api/events content type %q", ct)
	}
	var mu sync.Mutex
	var stream strings.Builder
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			mu.Lock()
			stream.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()

	await.Until(t, 20*time.Second, "a motion incident in /api/incidents", func() bool {
		return strings.Contains(httpGet(t, base+"/api/incidents?camera=moving&kind=motion"), "vigil.incident.start")
	})
	var page struct {
		Incidents []incident.Event `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(httpGet(t, base+"/api/incidents?camera=moving&limit=10")), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Incidents) == 0 || page.Incidents[0].Data.Camera != "moving" {
		t.Fatalf("incidents: %+v", page.Incidents)
	}
	if got := httpGet(t, base+"/api/incidents?camera=still"); strings.Contains(got, "vigil.incident") {
		t.Errorf("filter by camera leaks other cameras: %s", got)
	}
	await.Until(t, 5*time.Second, "the incident on the SSE stream", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(stream.String(), "event: vigil.incident.start")
	})

	res2, err := http.Get(base + "/api/cameras/moving/snapshot.jpg")
	if err != nil {
		t.Fatal(err)
	}
	jpg, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if res2.StatusCode != 200 || res2.Header.Get("Content-Type") != "image/jpeg" || !bytes.HasPrefix(jpg, []byte{0xff, 0xd8}) {
		t.Errorf("snapshot: %d %s, %d bytes", res2.StatusCode, res2.Header.Get("Content-Type"), len(jpg))
	}
	var one api.CameraStatus
	if err := json.Unmarshal([]byte(httpGet(t, base+"/api/cameras/moving")), &one); err != nil {
		t.Fatal(err)
	}
	if one.State != "streaming" || one.FPSIn <= 0 || one.DecodeMode != "auto" || one.LastFrame.IsZero() || one.Dropped == nil {
		t.Errorf("camera status incomplete: %+v", one)
	}
	for _, p := range []string{"/api/cameras", "/api/cameras/moving", "/api/cameras/still", "/api/incidents", "/metrics"} {
		if body := httpGet(t, base+p); strings.Contains(body, pass) || strings.Contains(body, "op:") {
			t.Errorf("%s contains a credential", p)
		}
	}
	mu.Lock()
	if strings.Contains(stream.String(), pass) {
		t.Error("the event stream contains a credential")
	}
	mu.Unlock()
	if res, _ := http.Get(base + "/api/cameras/nope/snapshot.jpg"); res == nil || res.StatusCode != 404 {
		t.Error("snapshot of an unknown camera is not a 404")
	}
}

// TestEngineKilledWhileSinkDown: `vigil run` is killed with SIGKILL while
// its webhook receiver is down; restarted on the same outbox with the
// receiver back, it delivers the incidents of the first run.
func TestEngineKilledWhileSinkDown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs vigil")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/vigil").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	srv := startSim(t, sim.Camera{Path: "moving", Clip: clip(t, "motion")})
	var mu sync.Mutex
	up := false
	var got []string
	var emitted []time.Time
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var ev incident.Event
		json.NewDecoder(r.Body).Decode(&ev) //nolint:errcheck
		got = append(got, ev.ID)
		emitted = append(emitted, ev.Time)
	}))
	defer hook.Close()
	cfgPath := filepath.Join(dir, "cameras.yaml")
	listen := closedPort(t)
	yaml := fmt.Sprintf("listen: %s\nevidence: {dir: %s}\noutbox:\n  path: %s\nsinks:\n  - type: webhook\n    url: %s\n    backoff_min: 50ms\n    backoff_max: 200ms\ncameras:\n  - id: moving\n    url: %s\n",
		listen, filepath.Join(dir, "evidence"), filepath.Join(dir, "outbox.db"), hook.URL, srv.URL("moving"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", "--config", cfgPath, "--log-level", "warn")
		if testing.Verbose() {
			cmd.Stderr = os.Stderr
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := run()
	// Wait for incidents to be stored while the receiver refuses them.
	await.Until(t, 30*time.Second, "events in the outbox", func() bool {
		res, err := http.Get("http://" + listen + "/metrics")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "vigil_outbox_events ") && strings.TrimPrefix(l, "vigil_outbox_events ") != "0" {
				return true
			}
		}
		return false
	})
	first.Process.Signal(syscall.SIGKILL) //nolint:errcheck
	first.Wait()                          //nolint:errcheck // killed
	killed := time.Now()
	mu.Lock()
	if len(got) != 0 {
		t.Fatalf("the receiver was down but got %d events", len(got))
	}
	up = true
	mu.Unlock()
	second := run()
	defer func() {
		second.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		second.Wait()                          //nolint:errcheck
	}()
	await.Until(t, 30*time.Second, "the first run's events after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, at := range emitted {
			if at.Before(killed) {
				return true // emitted by the killed process
			}
		}
		return false
	})
}
