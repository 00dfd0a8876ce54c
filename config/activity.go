package config

import (
	"fmt"
	"time"
)

// Activity tunes decode mode auto's compressed-domain activity signal
// (see package ingest).
type Activity struct {
	// SizeFactor: one predicted picture whose complexity (its size scaled
	// by its slice QP) exceeds the idle level by this many robust
	// deviations wakes the camera: above 0.
	// It defaults to 8.
	SizeFactor float64 `yaml:"size_factor"`
	// QPRise: a slice QP this far above the idle level at the picture's
	// position in the GOP counts as a picture 3 deviations up
	// (constant-bitrate cameras keep sizes flat and raise QP instead):
	// above 0.
	// It defaults to 3.
	QPRise float64 `yaml:"qp_rise"`
	// WakeFrames pictures 3 deviations above the idle level (or fewer,
	// larger ones: the evidence adds up; more on a grainy view, whose
	// allowance per picture rose) wake the camera: 1 or more.
	// It defaults to 4.
	WakeFrames int `yaml:"wake_frames"`
	// QuietPeriod without active pictures puts the camera back to idle:
	// above 0.
	// It defaults to 2s.
	QuietPeriod time.Duration `yaml:"quiet_period"`
	// LearnFrames are observed, waking nothing, before the idle level of a
	// kind of picture is used: 1 or more.
	// It defaults to 25.
	LearnFrames int `yaml:"learn_frames"`
	// KeyframeInterval is, while the camera is idle, the longest time
	// between two keyframes decoded (unless the GOP is longer). The
	// others are skipped, and replayed if the camera wakes within their
	// GOP, except a keyframe whose complexity (size scaled by QP) moved
	// 10% from the last one decoded (the view may have changed), every
	// keyframe while a tamper cause is suspected or open, and the two
	// after a wake ends. Tamper checks and keyframe analysis see an idle
	// view this often, and a change the bitstream does not show (constant
	// bitrate, night grain) wakes the camera that much later.
	// 0 decodes every keyframe. 0 to 10s (so that a camera decodes a
	// picture within 10 s plus its GOP, inside the analysis_stalled
	// silence bound).
	// It defaults to 4s.
	KeyframeInterval time.Duration `yaml:"keyframe_interval"`
}

// maxKeyframeInterval bounds activity.keyframe_interval.
const maxKeyframeInterval = 10 * time.Second

// DefaultActivity returns the activity keys at their defaults.
func DefaultActivity() Activity {
	return Activity{SizeFactor: 8, QPRise: 3, WakeFrames: 4, QuietPeriod: 2 * time.Second, LearnFrames: 25, KeyframeInterval: 4 * time.Second}
}

// validate checks the keys; errors name the key relative to activity.
func (c Activity) validate() error {
	switch {
	case !(c.SizeFactor > 0): // also NaN
		return fmt.Errorf("size_factor: %g is not above 0", c.SizeFactor)
	case !(c.QPRise > 0):
		return fmt.Errorf("qp_rise: %g is not above 0", c.QPRise)
	case c.WakeFrames < 1:
		return fmt.Errorf("wake_frames: %d is not 1 or more", c.WakeFrames)
	case c.QuietPeriod <= 0:
		return fmt.Errorf("quiet_period: %s is not above 0", c.QuietPeriod)
	case c.LearnFrames < 1:
		return fmt.Errorf("learn_frames: %d is not 1 or more", c.LearnFrames)
	case c.KeyframeInterval < 0 || c.KeyframeInterval > maxKeyframeInterval:
		return fmt.Errorf("keyframe_interval: %s is not in 0s..%s", c.KeyframeInterval, maxKeyframeInterval)
	}
	return nil
}
