package engine

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// readEvents returns the events of a file sink's JSON lines, in file order,
// each once (delivery is at least once: a kill can repeat an event).
func readEvents(t *testing.T, path string) []incident.Event {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []incident.Event
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev incident.Event
		if json.Unmarshal(sc.Bytes(), &ev) == nil && !seen[ev.ID] { // a line torn by the kill is skipped
			seen[ev.ID] = true
			out = append(out, ev)
		}
	}
	return out
}

// TestOpenIncidentsEndedAfterKill (issue 23): `vigil run` is killed with
// SIGKILL three times while two cameras are offline (and one streams); at
// each start the incidents the killed run left open are ended, with their
// own incident ids (and the end's event id derived from it, as a cluster
// node's) and before the new run opens its own, and after a last graceful
// stop every incident in the events file has exactly one start and one
// end. The ends of a killed run's incidents say when it was last known to
// run (not later than the kill).
func TestOpenIncidentsEndedAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs vigil")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/vigil").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	srv := startSim(t, sim.Camera{Path: "moving", Clip: clip(t, "motion")})
	data := filepath.Join(dir, "data")
	events := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "cameras.yaml")
	cam := func(id, url string) string {
		return fmt.Sprintf("  - {id: %s, url: %q, offline_grace: 300ms, backoff_min: 100ms, backoff_max: 300ms}\n", id, url)
	}
	yaml := "listen: " + closedPort(t) + "\nsinks:\n  - {type: file, path: " + events + "}\ncameras:\n" +
		cam("gone1", "rtsp://"+closedPort(t)+"/a") + cam("gone2", "rtsp://"+closedPort(t)+"/b") + cam("moving", srv.URL("moving"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", "--config", cfgPath, "--data-dir", data, "--log-level", "warn")
		if testing.Verbose() {
			cmd.Stderr = os.Stderr
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// offlineOf returns the camera_offline incidents started since from.
	offlineOf := func(from time.Time) map[string]string {
		got := map[string]string{}
		for _, ev := range readEvents(t, events) {
			if ev.Type == incident.TypeStart && ev.Data.Kind == health.KindCameraOffline && !ev.Time.Before(from) {
				got[ev.Data.Camera] = ev.Data.IncidentID
			}
		}
		return got
	}
	ledgerHolds := func(ids map[string]string) bool {
		b, err := os.ReadFile(filepath.Join(data, "open-incidents.json"))
		if err != nil {
			return false
		}
		for _, id := range ids {
			if !strings.Contains(string(b), id) {
				return false
			}
		}
		return true
	}
	var kills []time.Time
	killed := map[string]bool{} // incident ids open at a kill
	for range 3 {
		began := time.Now()
		cmd := run()
		await.Until(t, 30*time.Second, "camera_offline of both cameras", func() bool { return len(offlineOf(began)) == 2 })
		open := offlineOf(began)
		// The file is written before the event reaches the sink; the wait
		// only makes the kill land after it every time.
		await.Until(t, 10*time.Second, "the open incidents in the data directory", func() bool { return ledgerHolds(open) })
		for _, id := range open {
			killed[id] = true
		}
		cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
		cmd.Wait()                          //nolint:errcheck // killed
		kills = append(kills, time.Now())
	}
	began := time.Now()
	last := run()
	await.Until(t, 30*time.Second, "camera_offline of the last run", func() bool { return len(offlineOf(began)) == 2 })
	last.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	if err := last.Wait(); err != nil {
		t.Fatalf("vigil run after SIGTERM: %v", err)
	}

	evs := readEvents(t, events)
	starts, ends := map[string]int{}, map[string]int{}
	pos := map[string]int{}        // of each start and end, by type+id
	firstStart := map[string]int{} // by camera, of the last run
	endedAt := map[string]time.Time{}
	for i, ev := range evs {
		id := ev.Data.IncidentID
		pos[ev.Type+id] = i
		switch ev.Type {
		case incident.TypeStart:
			starts[id]++
			if ev.Data.Kind == health.KindCameraOffline && !ev.Time.Before(began) {
				if _, ok := firstStart[ev.Data.Camera]; !ok {
					firstStart[ev.Data.Camera] = i
				}
			}
		case incident.TypeEnd:
			ends[id]++
			if ev.Data.EndedAt != nil {
				endedAt[id] = *ev.Data.EndedAt
			}
		}
	}
	if len(killed) != 6 {
		t.Fatalf("%d camera_offline incidents open at the kills, want 6", len(killed))
	}
	for id, n := range starts {
		if n != 1 || ends[id] != 1 {
			t.Errorf("incident %s: %d starts, %d ends; want one of each", id, n, ends[id])
		}
	}
	for id := range killed {
		if ends[id] != 1 {
			continue // reported above
		}
		if got, want := evs[pos[incident.TypeEnd+id]].ID, incident.EndID(id); got != want {
			t.Errorf("incident %s: end event id %s, want the derived %s", id, got, want)
		}
		if at := endedAt[id]; at.After(kills[len(kills)-1]) {
			t.Errorf("incident %s open at a kill ended at %v, after the kill", id, at)
		}
	}
	// The last killed run's incidents ended before the last run opened its own.
	for cam, i := range firstStart {
		for id := range killed {
			if p, ok := pos[incident.TypeEnd+id]; ok && p > i && evs[p].Data.Camera == cam {
				t.Errorf("%s: the end of %s (left open by a kill) came after the new run's camera_offline", cam, id)
			}
		}
	}
	t.Logf("%d kills: %d camera_offline incidents open at a kill, %d ended after the restart; %d incidents, %d events in all",
		len(kills), len(killed), countEnded(killed, ends), len(starts), len(evs))
}

func countEnded(ids map[string]bool, ends map[string]int) int {
	n := 0
	for id := range ids {
		if ends[id] == 1 {
			n++
		}
	}
	return n
}

// TestOpenIncidentsFileDamaged: a damaged open-incidents file (a torn
// write by another tool, a full disk) is moved aside with an error logged
// and counted, and the engine starts and keeps a new one.
func TestOpenIncidentsFileDamaged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "open-incidents.json")
	if err := os.WriteFile(path, []byte(`{"written_at": "2026-`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(fastCamera("gone", "rtsp://"+closedPort(t)+"/x"))
	logs := &testkit.SyncBuffer{}
	events := &collector{}
	e, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Events: events, OpenIncidents: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if b, err := os.ReadFile(path + ".damaged"); err != nil || !strings.HasPrefix(string(b), `{"written_at"`) {
		t.Errorf("the damaged file was not moved aside: %v", err)
	}
	if !strings.Contains(logs.String(), "open incidents of the last run lost") || !strings.Contains(logs.String(), path) {
		t.Errorf("no error naming the file:\n%s", logs.String())
	}
	if v := testutil.ToFloat64(e.ledgerFailed); v != 1 {
		t.Errorf("vigil_open_incidents_write_errors_total = %v, want 1", v)
	}
	await.Until(t, 10*time.Second, "camera_offline kept in a new file", func() bool {
		inc, ok := events.firstEvent("gone", health.KindCameraOffline, incident.TypeStart)
		b, _ := os.ReadFile(path)
		return ok && strings.Contains(string(b), inc.Data.IncidentID)
	})
}

// TestLedgerForgetsOnceEndStored: with a delivery that says when an event
// is stored, an incident stays in the ledger until its end is stored, not
// merely published (an end queued in memory when the process dies is sent
// by the next run), and the ends of a previous run's incidents stay there
// until stored too.
func TestLedgerForgetsOnceEndStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "open-incidents.json")
	l, _, _ := openLedger(path, slog.New(slog.DiscardHandler), func() {})
	l.afterStore = true
	inc := incident.Incident{IncidentID: "0193a1b2-0000-7000-8000-00000000000a", Camera: "c", Kind: "motion"}
	l.track(incident.New(incident.TypeStart, inc, time.Now()))
	end := incident.New(incident.TypeEnd, inc, time.Now())
	l.track(end)
	l.write()
	_, left, _ := openLedger(path, slog.New(slog.DiscardHandler), func() {})
	if len(left) != 1 {
		t.Fatalf("an incident whose end is published but not stored: %d left open in the file, want 1", len(left))
	}
	l.stored(end)
	l.write()
	if _, left, _ = openLedger(path, slog.New(slog.DiscardHandler), func() {}); len(left) != 0 {
		t.Errorf("an incident whose end is stored: %d left open in the file, want 0", len(left))
	}
}
