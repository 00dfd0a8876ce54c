package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// TestShutdownEndsOpenIncidents: Run (what `vigil run` does) is stopped
// while a motion incident and a camera_offline incident are open. Through
// the real delivery and a file sink on disk, every incident that has a
// start ends up with exactly one end, and every line of the file is a
// whole event.
func TestShutdownEndsOpenIncidents(t *testing.T) {
	srv := testkit.StartSim(t, sim.Camera{Path: "moving", Clip: testkit.Clip(t, "motion")})
	dir := t.TempDir()
	file := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "vigil.yaml")
	yaml := fmt.Sprintf(`listen: 127.0.0.1:0
start_spread: 1ms
outbox: {path: %s}
evidence: {dir: %s}
sinks:
  - {name: file, type: file, path: %s}
cameras:
  - id: moving
    url: %s
  - id: offline
    url: rtsp://%s/nothing
    backoff_min: 100ms
    backoff_max: 400ms
    offline_grace: 500ms
`, filepath.Join(dir, "outbox.db"), filepath.Join(dir, "evidence"), file, srv.URL("moving"), testkit.ClosedPort(t))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs io.Writer = io.Discard
	if testing.Verbose() {
		logs = os.Stderr
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: cfgPath, Events: io.Discard, Logs: logs, LogLevel: "debug"})
	}()

	// Motion is on screen from 3 s to 7 s of the clip: stop as soon as its
	// incident and the offline camera's have started, neither ended.
	open := func(evs []incident.Event, camera, kind string) bool {
		started, ended := false, false
		for _, ev := range evs {
			if ev.Data.Camera == camera && ev.Data.Kind == kind {
				started = started || ev.Type == incident.TypeStart
				ended = ended || ev.Type == incident.TypeEnd
			}
		}
		return started && !ended
	}
	await.Until(t, 20*time.Second, "open motion and camera_offline incidents in the file", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		evs, _ := readEvents(file)
		return open(evs, "moving", "motion") && open(evs, "offline", "camera_offline")
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20 s of its context ending")
	}

	evs, err := readEvents(file)
	if err != nil {
		t.Fatal(err) // a torn or unparsable line
	}
	starts, ends := map[string]incident.Event{}, map[string]int{}
	for _, ev := range evs {
		switch ev.Type {
		case incident.TypeStart:
			starts[ev.Data.IncidentID] = ev
		case incident.TypeEnd:
			ends[ev.Data.IncidentID]++
		}
	}
	kinds := map[string]bool{}
	for id, st := range starts {
		kinds[st.Data.Kind] = true
		if n := ends[id]; n != 1 {
			t.Errorf("incident %s (%s, %s) has %d end events, want exactly 1", id, st.Data.Camera, st.Data.Kind, n)
		}
	}
	for id := range ends {
		if _, ok := starts[id]; !ok {
			t.Errorf("incident %s ends without a start", id)
		}
	}
	if !kinds["motion"] || !kinds["camera_offline"] {
		t.Errorf("incidents in the file: %v, want motion and camera_offline", kinds)
	}
}

// readEvents parses a JSON-lines file of events; a line that is not a
// whole event is an error.
func readEvents(path string) ([]incident.Event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return nil, fmt.Errorf("%s does not end with a whole line", path)
	}
	var evs []incident.Event
	if len(b) == 0 {
		return nil, nil
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var ev incident.Event
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil || dec.More() || ev.ID == "" || ev.Data.IncidentID == "" {
			return nil, fmt.Errorf("%s line %d is not one event (%v): %q", path, i+1, err, line)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}
