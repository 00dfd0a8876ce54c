package config

import (
	"strings"
	"testing"
)

func TestObjectsDefaultsAndKeys(t *testing.T) {
	base := "cameras:\n  - id: a\n    url: rtsp://127.0.0.1/a\n"
	cfg, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultObjects(); cfg.Objects.Enabled != want.Enabled || cfg.Objects.Model != want.Model ||
		cfg.Objects.MaxPerSecond != want.MaxPerSecond || cfg.Objects.Threads != 1 || cfg.Objects.MinScore != want.MinScore || cfg.Objects.VehicleMinScore != want.VehicleMinScore || len(cfg.Objects.Labels) != 2 {
		t.Fatalf("defaults: got %+v, want %+v", cfg.Objects, want)
	}
	if cfg.Objects.MaxPerSecond != 0 {
		t.Errorf("max_per_second defaults to %g, want 0 (follow the machine)", cfg.Objects.MaxPerSecond)
	}
	cfg, err = Parse([]byte("objects:\n  max_per_second: 5\n" + base))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Objects.Enabled || cfg.Objects.MaxPerSecond != 5 {
		t.Fatalf("a partial objects section keeps the other defaults: %+v", cfg.Objects)
	}
	if d := DefaultObjects(); d.MinScore != 0.4 || d.VehicleMinScore != 0.25 {
		t.Errorf("min_score %g, vehicle_min_score %g: want 0.4 and 0.25, as chosen on bench/persons/corpus.yaml (BENCHMARKS.md)", d.MinScore, d.VehicleMinScore)
	}
	cfg, err = Parse([]byte("objects:\n  enabled: false\n" + base))
	if err != nil || cfg.Objects.Enabled {
		t.Fatalf("enabled: false: %+v %v", cfg.Objects, err)
	}
	if !DefaultObjects().FirstLook {
		t.Error("first_look defaults to false, want true")
	}
	cfg, err = Parse([]byte("objects:\n  first_look: false\n" + base))
	if err != nil || cfg.Objects.FirstLook || !cfg.Objects.Enabled {
		t.Fatalf("first_look: false: %+v %v", cfg.Objects, err)
	}
	for doc, want := range map[string]string{
		"objects:\n  max_per_second: 0.01\n":     "objects.max_per_second",
		"objects:\n  max_per_second: -1\n":       "objects.max_per_second",
		"objects:\n  max_per_second: .nan\n":     "objects.max_per_second",
		"objects:\n  max_per_second: 1001\n":     "objects.max_per_second",
		"objects:\n  threads: 65\n":              "objects.threads",
		"objects:\n  min_score: 2\n":             "objects.min_score",
		"objects:\n  vehicle_min_score: 0.01\n":  "objects.vehicle_min_score",
		"objects:\n  labels: [person, cat]\n":    "objects.labels[1]",
		"objects:\n  labels: [person, person]\n": "objects.labels[1]",
		"objects:\n  treads: 2\n":                "objects.treads",
	} {
		_, err := Parse([]byte(doc + base))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error naming %s", doc, err, want)
		}
	}
}
