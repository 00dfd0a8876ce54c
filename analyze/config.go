package analyze

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is wrapped by MotionConfig.Validate errors.
var ErrInvalidConfig = errors.New("analyze: invalid motion config")

// Motion algorithms accepted in MotionConfig.Algorithm.
const (
	AlgorithmDiff = "diff" // running-average difference
	AlgorithmMOG2 = "mog2" // OpenCV BackgroundSubtractorMOG2
)

// MotionConfig tunes motion detection and the incident lifecycle for one
// camera. Start from DefaultMotionConfig; the comments give the defaults.
type MotionConfig struct {
	// Algorithm is "diff" (running-average difference) or "mog2".
	// Default "diff": both pass the same synthetic tests (noise up to
	// sigma 30, lighting steps, blips), but diff costs about an eighth of
	// mog2 per frame (45us vs 390us at 320x180) and adapts on frame time
	// rather than frame count, so it behaves the same at 5 and 25 fps.
	Algorithm string `yaml:"algorithm"`
	// Threshold is the per-pixel difference (1..255) that counts as change,
	// for "diff" only (mog2 uses its own variance test). Default 25.
	Threshold int `yaml:"threshold"`
	// MinArea is the smallest moving region, as a share of the frame area,
	// that can start an incident; regions of half this keep one going.
	// Default 0.002.
	MinArea float64 `yaml:"min_area"`
	// MinDuration is how long motion must persist before an incident
	// starts. Default 500ms.
	MinDuration time.Duration `yaml:"min_duration"`
	// QuietPeriod is how long without motion ends an incident. Default 3s.
	QuietPeriod time.Duration `yaml:"quiet_period"`
	// UpdateInterval is the shortest time between updates of an open
	// incident. Default 5s.
	UpdateInterval time.Duration `yaml:"update_interval"`
	// LearnTime is how long the background is learned, raising no motion,
	// after the first frame, Reset or a gap in frame times. Default 2s.
	LearnTime time.Duration `yaml:"learn_time"`
	// LightingChange is the share of the frame that, changing at once, is
	// taken as a global lighting change: the background is relearned and no
	// motion is raised. Default 0.5.
	LightingChange float64 `yaml:"lighting_change"`
}

// DefaultMotionConfig returns the defaults documented on MotionConfig.
func DefaultMotionConfig() MotionConfig {
	return MotionConfig{
		Algorithm:      AlgorithmDiff,
		Threshold:      25,
		MinArea:        0.002,
		MinDuration:    500 * time.Millisecond,
		QuietPeriod:    3 * time.Second,
		UpdateInterval: 5 * time.Second,
		LearnTime:      2 * time.Second,
		LightingChange: 0.5,
	}
}

// Validate reports the first invalid field, naming its yaml key. The error
// wraps ErrInvalidConfig.
func (c MotionConfig) Validate() error {
	switch {
	case c.Algorithm != AlgorithmDiff && c.Algorithm != AlgorithmMOG2:
		return invalid("algorithm", fmt.Sprintf("%q is not %q or %q", c.Algorithm, AlgorithmDiff, AlgorithmMOG2))
	case c.Threshold < 1 || c.Threshold > 255:
		return invalid("threshold", fmt.Sprintf("%d is not in 1..255", c.Threshold))
	case !(c.MinArea > 0 && c.MinArea < 1):
		return invalid("min_area", fmt.Sprintf("%g is not in (0,1)", c.MinArea))
	case c.MinDuration < 0:
		return invalid("min_duration", fmt.Sprintf("%v is negative", c.MinDuration))
	case c.QuietPeriod <= 0:
		return invalid("quiet_period", fmt.Sprintf("%v is not positive", c.QuietPeriod))
	case c.UpdateInterval <= 0:
		return invalid("update_interval", fmt.Sprintf("%v is not positive", c.UpdateInterval))
	case c.LearnTime < 0:
		return invalid("learn_time", fmt.Sprintf("%v is negative", c.LearnTime))
	case !(c.LightingChange > 0 && c.LightingChange <= 1):
		return invalid("lighting_change", fmt.Sprintf("%g is not in (0,1]", c.LightingChange))
	}
	return nil
}

func invalid(key, why string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, key, why)
}
