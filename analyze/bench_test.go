package analyze

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

// BenchmarkAnalyze measures one frame's analysis on synthetic noisy frames
// with a moving rectangle, at 25 fps frame times: motion only ("motion"),
// the default set (motion and tamper), and the full set without HOG
// (motion, tamper, a mask, a restricted zone and a loitering zone); and
// the first two at 5 fps frame times, the engine's default analysis rate
// ("motion-5fps", "default-5fps": tamper measures every other frame).
func BenchmarkAnalyze(b *testing.B) {
	zone := Polygon{{0.2, 0.2}, {0.8, 0.2}, {0.8, 0.9}, {0.2, 0.9}}
	sets := map[string]func(*Config){
		"motion":  func(c *Config) { c.Tamper.Enabled = false },
		"default": func(*Config) {},
		"full": func(c *Config) {
			c.Masks = []Polygon{{{0, 0}, {0.3, 0}, {0.3, 0.1}, {0, 0.1}}}
			c.Zones = []Zone{{Name: "yard", Polygon: zone, Restricted: true}, {Name: "door", Polygon: zone, Loiter: time.Minute}}
		},
		"person": func(c *Config) { c.Person.Enabled = true },
	}
	sets["motion-5fps"], sets["default-5fps"] = sets["motion"], sets["default"]
	for _, algo := range algorithms {
		for _, size := range [][2]int{{320, 180}, {640, 360}} {
			for _, set := range []string{"motion", "default", "full", "person", "motion-5fps", "default-5fps"} {
				if algo == config.AlgorithmMOG2 && set != "default" {
					continue
				}
				b.Run(fmt.Sprintf("%s_%s_%dx%d", set, algo, size[0], size[1]), func(b *testing.B) {
					step := 40 * time.Millisecond
					if strings.HasSuffix(set, "-5fps") {
						step = 200 * time.Millisecond
					}
					benchAnalyze(b, algo, size, step, sets[set])
				})
			}
		}
	}
}

func benchAnalyze(b *testing.B, algo string, size [2]int, step time.Duration, set func(*Config)) {
	cfg := config.DefaultAnalysis()
	set(&cfg)
	cfg.Motion.Algorithm = algo
	c, err := NewCamera(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	frames := make([]*Frame, 50)
	sf := movingRect(size[0], 0, time.Hour)
	rng := newNoise(1)
	for i := range frames {
		f, err := NewFrame(size[0], size[1])
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		sf(time.Duration(i)*step).draw(f, rng)
		frames[i] = f
	}
	at := time.Duration(0)
	for ; at < cfg.Motion.LearnTime+time.Second; at += step {
		c.Analyze(frames[int(at/step)%len(frames)], t0.Add(at))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Analyze(frames[i%len(frames)], t0.Add(at))
		at += step
	}
}
