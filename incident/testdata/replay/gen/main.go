// Command gen regenerates events.jsonl: real events from the real engine,
// for the schema test. It plays the shipped scenarios (bench/scenarios and
// bench/scenarios/real, the latter needing .cache/camclips from
// scripts/camclips.sh) through the simulator and the engine, with zones
// added to the real walk so that crowd, loitering and intrusion are raised
// on people, and drives the health kinds with the simulator's fault
// switches: a stalled stream (camera_offline stalled), frozen timestamps
// (analysis_stalled timestamps) and an unreachable camera (camera_offline
// unreachable). From the repository root:
//
//	go run ./incident/testdata/replay/gen > incident/testdata/replay/events.jsonl
//
// It lives under testdata so that go test ./... neither builds nor runs it
// (about a minute of real time, cgo).
package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/bench"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/engine"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/sim"
)

type collector struct {
	mu  sync.Mutex
	evs []incident.Event
}

func (c *collector) Emit(ev incident.Event) error {
	c.mu.Lock()
	c.evs = append(c.evs, ev)
	c.mu.Unlock()
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	var scen []bench.Scenario
	for _, d := range []string{"bench/scenarios", "bench/scenarios/real"} {
		s, err := bench.LoadScenarios(d)
		if err != nil {
			return err
		}
		scen = append(scen, s...)
	}
	var cams []sim.Camera
	var longest time.Duration
	for _, s := range scen {
		clip, err := sim.LoadClip(s.Clip, s.FPS)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		cams = append(cams, sim.Camera{Path: s.Name, Clip: clip})
		longest = max(longest, s.Length)
	}
	demo, err := sim.EmbeddedClip("motion")
	if err != nil {
		return err
	}
	cams = append(cams, sim.Camera{Path: "stall", Clip: demo}, sim.Camera{Path: "frozen-ts", Clip: demo})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", Cameras: cams, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()

	var list []map[string]any
	for _, s := range scen {
		c := map[string]any{}
		for k, v := range s.Camera {
			c[k] = v
		}
		if s.Name == "walk" {
			c["zones"] = []map[string]any{
				{"name": "street", "crowd": 2, "crowd_time": "500ms", "loiter": "3s", "polygon": [][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}}},
				{"name": "restricted", "restricted": true, "polygon": [][2]float64{{0, 0.5}, {1, 0.5}, {1, 1}, {0, 1}}},
			}
		}
		c["id"], c["url"] = s.Name, srv.URL(s.Name)
		list = append(list, c)
	}
	list = append(list,
		map[string]any{"id": "stall", "url": srv.URL("stall"), "offline_grace": "1s", "stall_timeout": "1s"},
		map[string]any{"id": "frozen-ts", "url": srv.URL("frozen-ts")},
		map[string]any{"id": "unreachable", "url": "rtsp://127.0.0.1:1/none", "offline_grace": "1s"},
	)
	b, err := yaml.Marshal(map[string]any{"listen": "127.0.0.1:0", "cameras": list})
	if err != nil {
		return err
	}
	cfg, err := config.Parse(b)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vigil-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ec := config.DefaultEvidence()
	ec.Dir = filepath.Join(dir, "evidence")
	store, err := evidence.Open(ec)
	if err != nil {
		return err
	}
	col := &collector{}
	e, err := engine.New(cfg, engine.Options{Logger: log, Events: col, Evidence: store})
	if err != nil {
		return err
	}
	if err := e.Start(); err != nil {
		e.Close()
		return err
	}
	time.Sleep(8 * time.Second)
	srv.SetStalled("stall", true)
	srv.SetFrozenTimestamps("frozen-ts", true)
	time.Sleep(10 * time.Second)
	srv.SetStalled("stall", false)
	srv.SetFrozenTimestamps("frozen-ts", false)
	time.Sleep(max(longest-18*time.Second, 0) + 8*time.Second)
	if err := e.Close(); err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	seen := map[string]int{}
	for _, ev := range col.evs {
		if err := enc.Encode(ev); err != nil {
			return err
		}
		seen[ev.Data.Kind]++
	}
	var kinds []string
	for k, n := range seen {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	fmt.Fprintln(os.Stderr, "events by kind:", kinds)
	return nil
}
