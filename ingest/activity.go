package ingest

import (
	"fmt"
	"math"
	"math/bits"
	"time"
)

// ActivityConfig tunes the compressed-domain activity signal. Zero fields
// take their defaults.
type ActivityConfig struct {
	// SizeFactor: a predicted picture whose size exceeds the idle baseline
	// by this many mean deviations counts as active.
	// It defaults to 4.
	SizeFactor float64 `yaml:"size_factor"`
	// QPRise: a slice QP this far above the idle baseline counts as active
	// (constant-bitrate cameras keep sizes flat and raise QP instead).
	// It defaults to 3.
	QPRise float64 `yaml:"qp_rise"`
	// WakeFrames active pictures among the last WakeFrames+1 wake the
	// camera.
	// It defaults to 2.
	WakeFrames int `yaml:"wake_frames"`
	// QuietPeriod without active pictures puts the camera back to idle.
	// It defaults to 2s.
	QuietPeriod time.Duration `yaml:"quiet_period"`
	// LearnFrames are observed, waking nothing, before the baseline is used.
	// It defaults to 25.
	LearnFrames int `yaml:"learn_frames"`
}

// Validate checks the configuration; errors name the key.
func (c ActivityConfig) Validate() error {
	switch {
	case c.SizeFactor < 0:
		return fmt.Errorf("size_factor: %g must not be negative", c.SizeFactor)
	case c.QPRise < 0:
		return fmt.Errorf("qp_rise: %g must not be negative", c.QPRise)
	case c.WakeFrames < 0:
		return fmt.Errorf("wake_frames: %d must not be negative", c.WakeFrames)
	case c.QuietPeriod < 0:
		return fmt.Errorf("quiet_period: %s must not be negative", c.QuietPeriod)
	case c.LearnFrames < 0:
		return fmt.Errorf("learn_frames: %d must not be negative", c.LearnFrames)
	}
	return nil
}

func (c *ActivityConfig) defaults() {
	if c.SizeFactor == 0 {
		c.SizeFactor = 4
	}
	if c.QPRise == 0 {
		c.QPRise = 3
	}
	if c.WakeFrames == 0 {
		c.WakeFrames = 2
	}
	if c.QuietPeriod == 0 {
		c.QuietPeriod = 2 * time.Second
	}
	if c.LearnFrames == 0 {
		c.LearnFrames = 25
	}
}

// Activity says, from the bitstream alone and without decoding, whether a
// camera's scene is active. It learns the idle sizes of predicted pictures
// and their slice QP, and calls a picture active when it is much larger
// than the idle baseline (variable bitrate: change costs bits) or coded
// with a much higher QP (constant bitrate: the encoder keeps sizes flat and
// coarsens the quantizer when the scene gets busy).
//
// Real encoders make the first predicted pictures after a keyframe larger
// than the rest of the GOP (x265 under sensor noise: 2 to 3 times), every
// GOP, and code them with another QP: those positions have baselines of
// their own (each judges once it has seen 3 pictures: over the first 3
// GOPs), so the pattern is not taken for activity.
//
// What it cannot see: change that costs the encoder no bits, such as a
// slow drift of light, or motion too small to move the picture's size or
// QP out of the sensor noise (people far away in a noisy 500 kbps
// substream: the keyframes' analysis sees them, one GOP later at worst).
// Keyframes say nothing (they are coded alone) and are not counted.
// Activity is not safe for concurrent use; Observe does not allocate.
type Activity struct {
	cfg ActivityConfig

	n        int               // predicted pictures seen
	sinceKey int               // predicted pictures since the last keyframe
	rest     baseline          // pictures postKey or more after a keyframe
	post     [postKey]baseline // the first pictures after a keyframe

	recent     uint32 // bit i: the i-th latest picture was active
	active     bool
	lastActive time.Duration
}

// postKey is the number of predicted pictures after a keyframe that have
// baselines of their own.
const postKey = 4

// baseline is an idle level: mean and mean absolute deviation of sizes,
// and the mean slice QP.
type baseline struct {
	n, nQP    int
	mean, dev float64
	meanQP    float64
}

// learn adds a picture of size s and slice QP qp (-1 unknown): a plain
// average over the first pictures (up to 25, or 1/alpha if fewer), then an
// exponential one at rate alpha.
func (b *baseline) learn(s float64, qp int, alpha float64) {
	b.n++
	a := alpha
	if b.n <= 25 {
		a = max(alpha, 1/float64(b.n))
	}
	b.mean += (s - b.mean) * a
	b.dev += (math.Abs(s-b.mean) - b.dev) * a
	if qp >= 0 {
		b.nQP++
		a = alpha
		if b.nQP <= 25 {
			a = max(alpha, 1/float64(b.nQP))
		}
		b.meanQP += (float64(qp) - b.meanQP) * a
	}
}

// learnPost adds the picture at a position after the keyframe: every one
// (a position sees one picture per GOP, so its baseline must follow the
// encoder's rate control rather than wait for calm), a plain average over
// the first 4, then an exponential one at rate 1/4.
func (b *baseline) learnPost(s float64, qp int) {
	b.learn(s, qp, 1.0/4)
}

// hot reports whether a picture of size s and QP qp stands out: s more
// than factor spreads above the mean (the spread is at least a fifth of
// the mean and 8 bytes), or qp rise above the mean QP. A baseline judges
// once it has seen 3 pictures.
func (b *baseline) hot(s float64, qp int, factor, rise float64) bool {
	if b.n < 3 {
		return false
	}
	spread := math.Max(b.dev, math.Max(0.2*b.mean, 8))
	if s > b.mean+factor*spread {
		return true
	}
	return qp >= 0 && b.nQP >= 3 && float64(qp) >= b.meanQP+rise
}

// NewActivity returns a detector; cfg is defaulted.
func NewActivity(cfg ActivityConfig) *Activity {
	cfg.defaults()
	return &Activity{cfg: cfg}
}

// Reset forgets the stream.
func (a *Activity) Reset() { *a = Activity{cfg: a.cfg} }

// Active reports the current state.
func (a *Activity) Active() bool { return a.active }

// Observe takes one access unit: its size in bytes, whether it is a
// keyframe, its slice QP (-1 when unknown) and its presentation time, and
// reports whether the scene is active.
func (a *Activity) Observe(size int, key bool, qp int, pts time.Duration) bool {
	if key {
		a.sinceKey = 0
		a.expire(pts)
		return a.active
	}
	s := float64(size)
	b := &a.rest
	post := a.sinceKey < postKey
	if post {
		b = &a.post[a.sinceKey]
	}
	a.sinceKey++
	if a.n < a.cfg.LearnFrames {
		a.n++
		if post {
			b.learnPost(s, qp)
		} else {
			b.learn(s, qp, 1.0/32)
		}
		return false
	}
	hot := b.hot(s, qp, a.cfg.SizeFactor, a.cfg.QPRise)
	a.recent <<= 1
	if hot {
		a.recent |= 1
		window := uint32(1)<<min(a.cfg.WakeFrames+1, 31) - 1
		if bits.OnesCount32(a.recent&window) >= a.cfg.WakeFrames {
			a.active = true
		}
		if a.active {
			a.lastActive = pts
		}
	} else {
		a.expire(pts)
	}
	// The baseline learns from calm pictures only (slowly while active, so
	// that a lasting change of scene, such as rain, becomes the new idle);
	// a position after the keyframe from every picture.
	if post {
		b.learnPost(s, qp)
	} else if !hot || a.active {
		alpha := 1.0 / 32
		if a.active {
			alpha = 1.0 / 1024
		}
		b.learn(s, qp, alpha)
	}
	return a.active
}

func (a *Activity) expire(pts time.Duration) {
	if a.active && pts-a.lastActive > a.cfg.QuietPeriod {
		a.active = false
	}
}
