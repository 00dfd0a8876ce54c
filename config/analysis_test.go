package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Motion)
		key    string // "" if valid
	}{
		{"defaults", func(*Motion) {}, ""},
		{"mog2", func(c *Motion) { c.Algorithm = AlgorithmMOG2 }, ""},
		{"unknown_algorithm", func(c *Motion) { c.Algorithm = "knn" }, "algorithm"},
		{"empty_algorithm", func(c *Motion) { c.Algorithm = "" }, "algorithm"},
		{"threshold_zero", func(c *Motion) { c.Threshold = 0 }, "threshold"},
		{"threshold_256", func(c *Motion) { c.Threshold = 256 }, "threshold"},
		{"threshold_255", func(c *Motion) { c.Threshold = 255 }, ""},
		{"min_area_zero", func(c *Motion) { c.MinArea = 0 }, "min_area"},
		{"min_area_one", func(c *Motion) { c.MinArea = 1 }, "min_area"},
		{"min_duration_negative", func(c *Motion) { c.MinDuration = -time.Second }, "min_duration"},
		{"min_duration_zero", func(c *Motion) { c.MinDuration = 0 }, ""},
		{"quiet_period_zero", func(c *Motion) { c.QuietPeriod = 0 }, "quiet_period"},
		{"update_interval_zero", func(c *Motion) { c.UpdateInterval = 0 }, "update_interval"},
		{"learn_time_negative", func(c *Motion) { c.LearnTime = -1 }, "learn_time"},
		{"lighting_change_zero", func(c *Motion) { c.LightingChange = 0 }, "lighting_change"},
		{"lighting_change_above_one", func(c *Motion) { c.LightingChange = 1.5 }, "lighting_change"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultMotion()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.key+":") {
				t.Errorf("error %q: want ErrInvalidConfig naming %q", err, tc.key)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	cfg := DefaultMotion()
	in := "algorithm: mog2\nthreshold: 30\nmin_area: 0.01\nmin_duration: 1s\nquiet_period: 10s\nupdate_interval: 2s\nlearn_time: 0s\n"
	if err := yaml.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	want := Motion{AlgorithmMOG2, 30, 0.01, time.Second, 10 * time.Second, 2 * time.Second, 0, 0.5}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
}

func TestAnalysisValidateNamesKey(t *testing.T) {
	sq := Polygon{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	for _, tc := range []struct {
		name   string
		mutate func(*Analysis)
		key    string
	}{
		{"defaults", func(*Analysis) {}, ""},
		{"motion", func(c *Analysis) { c.Motion.Threshold = 0 }, "motion.threshold"},
		{"mask_two_points", func(c *Analysis) { c.Masks = []Polygon{{{0, 0}, {1, 1}}} }, "masks[0]"},
		{"mask_outside", func(c *Analysis) { c.Masks = []Polygon{{{0, 0}, {1.2, 0}, {1, 1}}} }, "masks[0]"},
		{"mask_flat", func(c *Analysis) { c.Masks = []Polygon{{{0, 0}, {0.5, 0.5}, {1, 1}}} }, "masks[0]"},
		{"zone_no_name", func(c *Analysis) { c.Zones = []Zone{{Polygon: sq, Restricted: true}} }, "zones[0].name"},
		{"zone_dup", func(c *Analysis) {
			c.Zones = []Zone{{Name: "a", Polygon: sq, Restricted: true}, {Name: "a", Polygon: sq, Restricted: true}}
		}, `zones[1] ("a").name`},
		{"zone_no_rule", func(c *Analysis) { c.Zones = []Zone{{Name: "a", Polygon: sq}} }, `zones[0] ("a")`},
		{"crowd_without_person", func(c *Analysis) { c.Zones = []Zone{{Name: "a", Polygon: sq, Crowd: 3}} }, `zones[0] ("a").crowd`},
		{"crowd_with_person", func(c *Analysis) {
			c.Person.Enabled = true
			c.Zones = []Zone{{Name: "a", Polygon: sq, Crowd: 3}}
		}, ""},
		{"loiter_negative", func(c *Analysis) { c.Zones = []Zone{{Name: "a", Polygon: sq, Loiter: -1}} }, `zones[0] ("a").loiter`},
		{"defocus_ratio", func(c *Analysis) { c.Tamper.DefocusRatio = 1 }, "tamper.defocus_ratio"},
		{"frozen_time", func(c *Analysis) { c.Tamper.FrozenTime = 0 }, "tamper.frozen_time"},
		{"min_height", func(c *Analysis) { c.Person.MinHeight = 0 }, "person.min_height"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultAnalysis()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), tc.key+":") {
				t.Fatalf("error %v, want a ConfigError for %s", err, tc.key)
			}
		})
	}
}

func TestZoneYAML(t *testing.T) {
	var z Zone
	if err := yaml.Unmarshal([]byte("name: door\npolygon: [[0,0],[1,0],[1,1]]\ncrowd: 4\n"), &z); err != nil {
		t.Fatal(err)
	}
	if z.Name != "door" || len(z.Polygon) != 3 || z.Polygon[1] != (Point{1, 0}) || z.Crowd != 4 || z.CrowdTime != DefaultZoneCrowdTime {
		t.Errorf("decoded %+v", z)
	}
}
