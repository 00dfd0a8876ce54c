package analyze

import (
	"errors"
	"math"
	"strings"
	"testing"

	"gocv.io/x/gocv"
	"gopkg.in/yaml.v3"
)

func TestPolygonContains(t *testing.T) {
	// An L shape: the notch (0.5..1, 0.5..1) is outside.
	l := Polygon{{0, 0}, {1, 0}, {1, 0.5}, {0.5, 0.5}, {0.5, 1}, {0, 1}}
	for _, tc := range []struct {
		p  Point
		in bool
	}{
		{Point{0.25, 0.25}, true}, {Point{0.75, 0.25}, true}, {Point{0.25, 0.75}, true},
		{Point{0.75, 0.75}, false}, {Point{1.5, 0.25}, false}, {Point{-0.1, 0.5}, false},
	} {
		if got := l.Contains(tc.p); got != tc.in {
			t.Errorf("Contains(%v) = %v, want %v", tc.p, got, tc.in)
		}
	}
	if a := l.area(); math.Abs(a-0.75) > 1e-9 {
		t.Errorf("area %v, want 0.75", a)
	}
}

func TestRasterizeMatchesArea(t *testing.T) {
	tri := Polygon{{0, 0}, {1, 0}, {0, 1}}
	sq := Polygon{{0.6, 0.6}, {0.9, 0.6}, {0.9, 0.9}, {0.6, 0.9}}
	m := rasterize([]Polygon{tri, sq}, 320, 180)
	defer m.Close()
	got := float64(gocv.CountNonZero(m)) / (320 * 180)
	if want := tri.area() + sq.area(); math.Abs(got-want) > 0.01 {
		t.Errorf("rasterized share %v, want %v", got, want)
	}
	if m.GetUCharAt(10, 10) != 255 || m.GetUCharAt(170, 300) != 0 {
		t.Error("triangle drawn at the wrong place")
	}
}

func TestIoU(t *testing.T) {
	a := Box{0, 0, 0.2, 0.2}
	if v := iou(a, a); v != 1 {
		t.Errorf("iou(a,a) = %v", v)
	}
	if v := iou(a, Box{0.1, 0, 0.2, 0.2}); math.Abs(v-1.0/3) > 1e-9 {
		t.Errorf("half overlap iou = %v, want 1/3", v)
	}
	if v := iou(a, Box{0.5, 0.5, 0.1, 0.1}); v != 0 {
		t.Errorf("disjoint iou = %v", v)
	}
}

func TestConfigValidateNamesKey(t *testing.T) {
	sq := Polygon{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		key    string
	}{
		{"defaults", func(*Config) {}, ""},
		{"motion", func(c *Config) { c.Motion.Threshold = 0 }, "motion.threshold"},
		{"mask_two_points", func(c *Config) { c.Masks = []Polygon{{{0, 0}, {1, 1}}} }, "masks[0]"},
		{"mask_outside", func(c *Config) { c.Masks = []Polygon{{{0, 0}, {1.2, 0}, {1, 1}}} }, "masks[0]"},
		{"mask_flat", func(c *Config) { c.Masks = []Polygon{{{0, 0}, {0.5, 0.5}, {1, 1}}} }, "masks[0]"},
		{"zone_no_name", func(c *Config) { c.Zones = []Zone{{Polygon: sq, Restricted: true}} }, "zones[0].name"},
		{"zone_dup", func(c *Config) {
			c.Zones = []Zone{{Name: "a", Polygon: sq, Restricted: true}, {Name: "a", Polygon: sq, Restricted: true}}
		}, `zones[1] ("a").name`},
		{"zone_no_rule", func(c *Config) { c.Zones = []Zone{{Name: "a", Polygon: sq}} }, `zones[0] ("a")`},
		{"crowd_without_person", func(c *Config) { c.Zones = []Zone{{Name: "a", Polygon: sq, Crowd: 3}} }, `zones[0] ("a").crowd`},
		{"crowd_with_person", func(c *Config) {
			c.Person.Enabled = true
			c.Zones = []Zone{{Name: "a", Polygon: sq, Crowd: 3}}
		}, ""},
		{"loiter_negative", func(c *Config) { c.Zones = []Zone{{Name: "a", Polygon: sq, Loiter: -1}} }, `zones[0] ("a").loiter`},
		{"defocus_ratio", func(c *Config) { c.Tamper.DefocusRatio = 1 }, "tamper.defocus_ratio"},
		{"frozen_time", func(c *Config) { c.Tamper.FrozenTime = 0 }, "tamper.frozen_time"},
		{"min_height", func(c *Config) { c.Person.MinHeight = 0 }, "person.min_height"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
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
