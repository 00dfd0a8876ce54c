package engine

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/sim"
)

// childMetric returns the sum of the metric lines that start with prefix
// (a name and the first of its labels, as written), or -1 when there is
// none or the endpoint does not answer.
func childMetric(addr, prefix string) float64 {
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	sum, found := 0.0, false
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum, found = sum+v, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

// TestProcessStallNoFalseOffline (issue 26): `vigil run`, with two
// cameras streaming over real RTSP (offline_grace and stall_timeout 2 s),
// is frozen with SIGSTOP for 8 s and resumed with SIGCONT, twice. The camera
// whose stream flowed throughout raises no camera_offline and is not
// reconnected; the one whose simulator stream stopped during the freeze
// still raises camera_offline; the stalls are counted and logged.
func TestProcessStallNoFalseOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs vigil")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/vigil").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	srv := startSim(t, sim.Camera{Path: "live", Clip: clip(t, "motion")}, sim.Camera{Path: "dies", Clip: clip(t, "motion")})
	events := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "cameras.yaml")
	listen := closedPort(t)
	cam := func(id string) string {
		return fmt.Sprintf("  - {id: %s, url: %q, offline_grace: 2s, stall_timeout: 2s, backoff_min: 100ms, backoff_max: 300ms}\n", id, srv.URL(id))
	}
	yaml := "listen: " + listen + "\nsinks:\n  - {type: file, path: " + events + "}\ncameras:\n" + cam("live") + cam("dies")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn")
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT) //nolint:errcheck // may not be stopped
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		cmd.Wait()                          //nolint:errcheck
		if t.Failed() {
			t.Logf("vigil's log:\n%s", logs.String())
		}
	})
	frames := func(id string) float64 {
		return childMetric(listen, `vigil_camera_frames_received_total{camera="`+id+`"} `)
	}
	reconnects := func(id string) float64 {
		return max(childMetric(listen, `vigil_camera_reconnects_total{camera="`+id+`",`), 0)
	}
	// offline returns the cameras with a camera_offline start.
	offline := func() map[string]bool {
		got := map[string]bool{}
		for _, ev := range readEvents(t, events) {
			if ev.Type == incident.TypeStart && ev.Data.Kind == health.KindCameraOffline {
				got[ev.Data.Camera] = true
			}
		}
		return got
	}
	await.Until(t, 60*time.Second, "both cameras streaming", func() bool { return frames("live") > 50 && frames("dies") > 50 })
	if got := offline(); len(got) != 0 {
		t.Fatalf("camera_offline before the freeze: %v", got)
	}
	before := reconnects("live")

	// Two freezes: whether the old timers fired before a frame could
	// arrive was a race at each resume.
	const freezes = 2
	for i := range freezes {
		if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			srv.SetStalled("dies", true) // its stream really stops, during the freeze
		}
		time.Sleep(8 * time.Second)
		if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		resumed := time.Now()
		if i == 0 {
			await.Until(t, 60*time.Second, "camera_offline of the camera whose stream stopped", func() bool { return offline()["dies"] })
		}
		// Well past the grace and the stall timeout counted from the resume.
		for time.Since(resumed) < 8*time.Second {
			time.Sleep(250 * time.Millisecond)
		}
	}
	for _, ev := range readEvents(t, events) {
		t.Logf("%s %s %s %s", ev.Time.Format(time.TimeOnly), ev.Data.Camera, ev.Type, ev.Data.Kind)
		if ev.Data.Camera == "live" && ev.Type == incident.TypeStart && ev.Data.Kind == health.KindAnalysisStalled {
			t.Errorf("analysis_stalled for the camera analyzed throughout the process stalls (cause %s)", ev.Data.Cause)
		}
	}
	if offline()["live"] {
		t.Error("camera_offline for the camera that streamed throughout the process stall")
	}
	if n := reconnects("live"); n != before {
		t.Errorf("the live camera was reconnected after the process stall (%v reconnects, %v before)", n, before)
	}
	at := frames("live")
	await.Until(t, 30*time.Second, "frames of the live camera after the resume", func() bool { return frames("live") > at })
	if n := childMetric(listen, "vigil_process_stalls_total "); n < freezes {
		t.Errorf("vigil_process_stalls_total = %v after %d SIGSTOPs of 8 s, want at least %d", n, freezes, freezes)
	}
	if !strings.Contains(logs.String(), "process stalled") {
		t.Error("the process stalls were not logged")
	}
}
