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
// What it cannot see: change that costs the encoder no bits, such as a
// slow drift of light, or motion too small to move the picture's size or
// QP out of the sensor noise. Keyframes say nothing (they are coded alone)
// and are not counted. Activity is not safe for concurrent use; Observe does
// not allocate.
type Activity struct {
	cfg ActivityConfig

	n        int     // predicted pictures seen
	meanSize float64 // idle baseline
	devSize  float64 // mean absolute deviation
	meanQP   float64
	nQP      int

	recent     uint32 // bit i: the i-th latest picture was active
	active     bool
	lastActive time.Duration
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
		a.expire(pts)
		return a.active
	}
	s := float64(size)
	if a.n < a.cfg.LearnFrames {
		a.n++
		a.meanSize += (s - a.meanSize) / float64(a.n)
		a.devSize += (math.Abs(s-a.meanSize) - a.devSize) / float64(a.n)
		if qp >= 0 {
			a.nQP++
			a.meanQP += (float64(qp) - a.meanQP) / float64(a.nQP)
		}
		return false
	}
	spread := math.Max(a.devSize, math.Max(0.2*a.meanSize, 8))
	hot := s > a.meanSize+a.cfg.SizeFactor*spread
	if qp >= 0 && a.nQP > 0 && float64(qp) >= a.meanQP+a.cfg.QPRise {
		hot = true
	}
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
	// that a lasting change of scene, such as rain, becomes the new idle).
	if !hot || a.active {
		alpha := 1.0 / 32
		if a.active {
			alpha = 1.0 / 1024
		}
		a.meanSize += (s - a.meanSize) * alpha
		a.devSize += (math.Abs(s-a.meanSize) - a.devSize) * alpha
		if qp >= 0 {
			if a.nQP == 0 {
				a.meanQP = float64(qp)
			}
			a.nQP++
			a.meanQP += (float64(qp) - a.meanQP) * alpha
		}
	}
	return a.active
}

func (a *Activity) expire(pts time.Duration) {
	if a.active && pts-a.lastActive > a.cfg.QuietPeriod {
		a.active = false
	}
}
