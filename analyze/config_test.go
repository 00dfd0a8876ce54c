package analyze

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
		mutate func(*MotionConfig)
		key    string // "" if valid
	}{
		{"defaults", func(*MotionConfig) {}, ""},
		{"mog2", func(c *MotionConfig) { c.Algorithm = AlgorithmMOG2 }, ""},
		{"unknown_algorithm", func(c *MotionConfig) { c.Algorithm = "knn" }, "algorithm"},
		{"empty_algorithm", func(c *MotionConfig) { c.Algorithm = "" }, "algorithm"},
		{"threshold_zero", func(c *MotionConfig) { c.Threshold = 0 }, "threshold"},
		{"threshold_256", func(c *MotionConfig) { c.Threshold = 256 }, "threshold"},
		{"threshold_255", func(c *MotionConfig) { c.Threshold = 255 }, ""},
		{"min_area_zero", func(c *MotionConfig) { c.MinArea = 0 }, "min_area"},
		{"min_area_one", func(c *MotionConfig) { c.MinArea = 1 }, "min_area"},
		{"min_duration_negative", func(c *MotionConfig) { c.MinDuration = -time.Second }, "min_duration"},
		{"min_duration_zero", func(c *MotionConfig) { c.MinDuration = 0 }, ""},
		{"quiet_period_zero", func(c *MotionConfig) { c.QuietPeriod = 0 }, "quiet_period"},
		{"update_interval_zero", func(c *MotionConfig) { c.UpdateInterval = 0 }, "update_interval"},
		{"learn_time_negative", func(c *MotionConfig) { c.LearnTime = -1 }, "learn_time"},
		{"lighting_change_zero", func(c *MotionConfig) { c.LightingChange = 0 }, "lighting_change"},
		{"lighting_change_above_one", func(c *MotionConfig) { c.LightingChange = 1.5 }, "lighting_change"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultMotionConfig()
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
			if c, err := NewCamera(Config{Motion: cfg, Tamper: DefaultConfig().Tamper, Person: DefaultConfig().Person}); err == nil || !errors.Is(err, ErrInvalidConfig) {
				c.Close()
				t.Errorf("NewCamera: error %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	cfg := DefaultMotionConfig()
	in := "algorithm: mog2\nthreshold: 30\nmin_area: 0.01\nmin_duration: 1s\nquiet_period: 10s\nupdate_interval: 2s\nlearn_time: 0s\n"
	if err := yaml.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	want := MotionConfig{AlgorithmMOG2, 30, 0.01, time.Second, 10 * time.Second, 2 * time.Second, 0, 0.5}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
}

func TestPhaseString(t *testing.T) {
	for p, want := range map[Phase]string{PhaseStart: "start", PhaseUpdate: "update", PhaseEnd: "end", 7: "Phase(7)"} {
		if got := p.String(); got != want {
			t.Errorf("Phase(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}
