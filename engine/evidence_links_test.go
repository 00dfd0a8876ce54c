package engine

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// TestEvidenceAPIRefusesLinks: symbolic links planted in the evidence
// directory are never served through the real HTTP API, whether they point
// outside it (/etc/passwd, a secret file), to a snapshot inside it, or are
// the camera directory itself; the snapshot the store wrote is served.
func TestEvidenceAPIRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	store, err := evidence.Open(evidenceConfig(dir, false))
	if err != nil {
		t.Fatal(err)
	}
	const (
		real      = "01a20000-0000-7000-8000-000000000001"
		toPasswd  = "01a20000-0000-7000-8000-000000000002"
		toSecret  = "01a20000-0000-7000-8000-000000000003"
		toInside  = "01a20000-0000-7000-8000-000000000004"
		inLinkDir = "01a20000-0000-7000-8000-000000000005"
	)
	jpg := append([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{7}, 100)...)
	if _, err := store.Save("cam1", real, "start", jpg, time.Now()); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, inLinkDir+"-start.jpg"), []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	cam1 := filepath.Join(dir, "cam1")
	for _, l := range []struct{ target, link string }{
		{"/etc/passwd", filepath.Join(cam1, toPasswd+"-start.jpg")},
		{secret, filepath.Join(cam1, toSecret+"-start.jpg")},
		{real + "-start.jpg", filepath.Join(cam1, toInside+"-best.jpg")}, // stays inside the root
		{"cam1", filepath.Join(dir, "cam2")},                             // a camera directory inside
		{outside, filepath.Join(dir, "cam3")},                            // a camera directory outside
	} {
		if err := os.Symlink(l.target, l.link); err != nil {
			t.Fatal(err)
		}
	}

	cfg := testConfig(cameraConfig("cam1", "rtsp://"+closedPort(t)+"/x"))
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}, Evidence: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	get := func(path string) (int, []byte) {
		res, err := http.Get("http://" + e.Addr() + "/api/evidence/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	if code, body := get("cam1/" + real + "-start.jpg"); code != 200 || !bytes.Equal(body, jpg) {
		t.Fatalf("the stored snapshot: %d, %d bytes", code, len(body))
	}
	for _, path := range []string{
		"cam1/" + toPasswd + "-start.jpg",
		"cam1/" + toSecret + "-start.jpg",
		"cam1/" + toInside + "-best.jpg",
		"cam2/" + real + "-start.jpg",
		"cam3/" + inLinkDir + "-start.jpg",
	} {
		code, body := get(path)
		if code != http.StatusNotFound {
			t.Errorf("GET %s through a link: %d (%d bytes), want 404", path, code, len(body))
		}
	}
}

// TestEvidenceWriteThroughLinkCounted: the camera's evidence directory is
// a link planted to a directory outside; a real motion incident (the
// simulator over loopback RTSP, libavcodec, OpenCV) keeps its events, but
// no snapshot lands outside, and each refused write is counted
// (vigil_evidence_errors_total) and logged.
func TestEvidenceWriteThroughLinkCounted(t *testing.T) {
	srv := startSim(t, sim.Camera{Path: "moving", Clip: clip(t, "motion")})
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "moving")); err != nil {
		t.Fatal(err)
	}
	store, err := evidence.Open(evidenceConfig(dir, false))
	if err != nil {
		t.Fatal(err)
	}
	var logs testkit.SyncBuffer
	col := &collector{}
	cfg := testConfig(cameraConfig("moving", srv.URL("moving")))
	e, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Events: col, Evidence: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	await.Until(t, 25*time.Second, "a refused snapshot counted", func() bool {
		return testutil.ToFloat64(e.metrics.EvidenceErrors) > 0
	})
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("%d snapshots written outside the evidence directory", len(entries))
	}
	if !strings.Contains(logs.String(), `msg="evidence not kept"`) || !strings.Contains(logs.String(), "symbolic link") {
		t.Errorf("no log line says why the snapshot was not kept:\n%s", logs.String())
	}
	if !slices.ContainsFunc(col.of("moving"), func(ev incident.Event) bool { return ev.Type == incident.TypeStart }) {
		t.Error("the incident's start event was not emitted")
	}
}
