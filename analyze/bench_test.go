package analyze

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkAnalyze measures one frame's analysis on synthetic noisy frames
// with a moving rectangle, at 25 fps frame times.
func BenchmarkAnalyze(b *testing.B) {
	for _, algo := range algorithms {
		for _, size := range [][2]int{{320, 180}, {640, 360}} {
			b.Run(fmt.Sprintf("%s_%dx%d", algo, size[0], size[1]), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Motion.Algorithm = algo
				c, err := NewCamera(cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				const step = 40 * time.Millisecond
				frames := make([]*Frame, 50)
				sf := movingRect(size[0], 0, time.Hour)
				for i := range frames {
					f, err := NewFrame(size[0], size[1])
					if err != nil {
						b.Fatal(err)
					}
					defer f.Close()
					sf(time.Duration(i) * step).draw(f)
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
			})
		}
	}
}
