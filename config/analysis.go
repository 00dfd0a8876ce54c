package config

import (
	"errors"
	"fmt"
	"math"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrInvalidConfig is wrapped by Motion.Validate errors.
var ErrInvalidConfig = errors.New("analyze: invalid config")

// Object labels vigil reports (objects.labels).
const (
	LabelPerson  = "person"
	LabelVehicle = "vehicle"
)

// Motion algorithms accepted in Motion.Algorithm.
const (
	AlgorithmDiff = "diff" // running-average difference
	AlgorithmMOG2 = "mog2" // OpenCV BackgroundSubtractorMOG2
)

// Motion tunes motion detection and the incident lifecycle for one
// camera. Start from DefaultMotion; the comments give the defaults.
type Motion struct {
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
	// QuietPeriod is how long without motion ends an incident; pauses
	// shorter than this merge into one incident (the merge gap). Default 3s.
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

// Analysis is one camera's analysis keys (package analyze runs them):
// motion, the areas it ignores, its zones and their rules, tamper
// detection and person detection. Start from DefaultAnalysis; each part
// documents its defaults.
type Analysis struct {
	// Motion tunes motion detection and every incident's lifecycle.
	Motion Motion `yaml:"motion"`
	// Masks are areas ignored by every detector except tamper (a clock
	// overlay, a tree, a road outside the site). Default none.
	Masks []Polygon `yaml:"masks"`
	// Zones are named areas with rules (intrusion, crowd, loitering).
	// Default none.
	Zones []Zone `yaml:"zones"`
	// Tamper tunes camera tamper detection.
	Tamper Tamper `yaml:"tamper"`
	// Person tunes the HOG people detector.
	Person Person `yaml:"person"`
	// Vehicle turns vehicle incidents on.
	Vehicle Vehicle `yaml:"vehicle"`
}

// Vehicle is the vehicle incident: vehicles found by the object network
// (objects.labels must keep "vehicle"; there is no fallback without the
// network).
type Vehicle struct {
	// Enabled raises a vehicle incident while the network finds a vehicle
	// for motion.min_duration; score is the number of vehicles. Default
	// false: on a road every passing car would be an incident.
	Enabled bool `yaml:"enabled"`
}

// Zone is a named area of the picture and its rules. A moving region or a
// person is in a zone when its foot point (the middle of its box's bottom
// edge) is; for intrusion, moving pixels inside the polygon count too.
type Zone struct {
	// Name identifies the zone in incidents (data.zone); unique per camera.
	Name string `yaml:"name"`
	// Polygon is the zone's outline, normalized.
	Polygon Polygon `yaml:"polygon"`
	// Restricted raises intrusion incidents for motion (at least
	// motion.min_area of the frame inside the polygon) or a person in it.
	// Default false.
	Restricted bool `yaml:"restricted"`
	// Crowd raises crowd incidents when at least this many people are in
	// the zone for CrowdTime. It needs person detection. Default 0 (off).
	Crowd int `yaml:"crowd"`
	// CrowdTime is how long the count must hold. Default 5s.
	CrowdTime time.Duration `yaml:"crowd_time"`
	// Loiter raises loitering incidents when one tracked object stays in
	// the zone this long. Default 0 (off).
	Loiter time.Duration `yaml:"loiter"`
}

// Tamper tunes tamper detection: a covered lens, lost focus, a moved
// camera, a frozen picture. Each cause compares the picture with the
// camera's own baseline, learned over LearnTime from the first frames and
// then followed slowly while no tamper is suspected; a reconnect keeps it.
type Tamper struct {
	// Enabled turns tamper detection on. Default true.
	Enabled bool `yaml:"enabled"`
	// LearnTime is how long the baseline is learned before any tamper
	// incident can start. Default 5s.
	LearnTime time.Duration `yaml:"learn_time"`
	// MinDuration is how long a cause must hold before the incident
	// starts. Default 2s.
	MinDuration time.Duration `yaml:"min_duration"`
	// ClearTime is how long a cause must be gone before the incident
	// ends. Default 3s.
	ClearTime time.Duration `yaml:"clear_time"`
	// CoveredContrast: the picture is covered when its contrast (standard
	// deviation of a 64x36 thumbnail, gray levels) falls below this and
	// below a third of the learned contrast. Default 10.
	CoveredContrast float64 `yaml:"covered_contrast"`
	// DefocusRatio: the picture is defocused when its sharpness (Laplacian
	// energy over contrast) falls below this share of the learned
	// sharpness. Default 0.4.
	DefocusRatio float64 `yaml:"defocus_ratio"`
	// MovedCorrelation: the camera has moved when the learned background
	// (the median of the last 2.8 s, without what passes) correlates with
	// the reference view, by edges, cell by cell (the upper quartile of
	// the cells), under this; a shift of the whole background is moved
	// too. Default 0.5.
	MovedCorrelation float64 `yaml:"moved_correlation"`
	// FrozenTime: the picture is frozen when every analyzed frame has been
	// identical to the previous one for this long. Default 2s.
	FrozenTime time.Duration `yaml:"frozen_time"`
	// AcceptMovedAfter: a moved camera's new view becomes the reference
	// after this long (the incident then ends). Default 10m.
	AcceptMovedAfter time.Duration `yaml:"accept_moved_after"`
}

// Person tunes person detection with OpenCV's built-in HOG people
// detector. It runs only on frames with motion, on the moving regions.
type Person struct {
	// Enabled turns person (and crowd) detection on. Default false: HOG
	// costs milliseconds per moving region, far more than the other
	// detectors together.
	Enabled bool `yaml:"enabled"`
	// MinHeight is the smallest person to find, as a share of the frame
	// height; regions are upscaled so that such a person fills HOG's
	// 128-pixel window. Default 0.25.
	MinHeight float64 `yaml:"min_height"`
	// HitThreshold is the SVM margin a detection needs; higher finds fewer
	// people and fewer false ones. Default 0.3 (OpenCV's 0 takes plain
	// moving rectangles for people).
	HitThreshold float64 `yaml:"hit_threshold"`
}

// DefaultAnalysis returns the defaults documented on Analysis's parts.
func DefaultAnalysis() Analysis {
	return Analysis{
		Motion: DefaultMotion(),
		Tamper: Tamper{
			Enabled:          true,
			LearnTime:        5 * time.Second,
			MinDuration:      2 * time.Second,
			ClearTime:        3 * time.Second,
			CoveredContrast:  10,
			DefocusRatio:     0.4,
			MovedCorrelation: 0.5,
			FrozenTime:       2 * time.Second,
			AcceptMovedAfter: 10 * time.Minute,
		},
		Person: Person{MinHeight: 0.25, HitThreshold: 0.3},
	}
}

// DefaultZoneCrowdTime is Zone.CrowdTime's default.
const DefaultZoneCrowdTime = 5 * time.Second

// UnmarshalYAML fills unset zone fields with their defaults.
func (z *Zone) UnmarshalYAML(n *yaml.Node) error {
	type plain Zone
	p := plain{CrowdTime: DefaultZoneCrowdTime}
	if err := n.Decode(&p); err != nil {
		return err
	}
	*z = Zone(p)
	return nil
}

// Validate reports the first invalid field by its YAML key path
// ("zones[1].polygon: ..."). The error wraps ErrInvalidConfig.
func (c Analysis) Validate() error {
	if err := c.Motion.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return invalid("motion."+ce.Key, ce.Why)
		}
		return err
	}
	for i, m := range c.Masks {
		if err := m.validate(); err != nil {
			return invalid(fmt.Sprintf("masks[%d]", i), err.Error())
		}
	}
	names := map[string]int{}
	for i, z := range c.Zones {
		at := fmt.Sprintf("zones[%d]", i)
		if z.Name != "" {
			at = fmt.Sprintf("zones[%d] (%q)", i, z.Name)
		}
		if z.Name == "" {
			return invalid(at+".name", "required")
		}
		if j, dup := names[z.Name]; dup {
			return invalid(at+".name", fmt.Sprintf("duplicate of zones[%d]", j))
		}
		names[z.Name] = i
		if err := z.Polygon.validate(); err != nil {
			return invalid(at+".polygon", err.Error())
		}
		switch {
		case z.Crowd < 0:
			return invalid(at+".crowd", fmt.Sprintf("%d is negative", z.Crowd))
		case z.Crowd > 0 && !c.Person.Enabled:
			return invalid(at+".crowd", "needs person.enabled: true")
		case z.CrowdTime < 0:
			return invalid(at+".crowd_time", fmt.Sprintf("%v is negative", z.CrowdTime))
		case z.Loiter < 0:
			return invalid(at+".loiter", fmt.Sprintf("%v is negative", z.Loiter))
		case !z.Restricted && z.Crowd == 0 && z.Loiter == 0:
			return invalid(at, "has no rule: set restricted, crowd or loiter")
		}
	}
	t := c.Tamper
	switch {
	case t.LearnTime < 0:
		return invalid("tamper.learn_time", fmt.Sprintf("%v is negative", t.LearnTime))
	case t.MinDuration < 0:
		return invalid("tamper.min_duration", fmt.Sprintf("%v is negative", t.MinDuration))
	case t.ClearTime <= 0:
		return invalid("tamper.clear_time", fmt.Sprintf("%v is not positive", t.ClearTime))
	case t.CoveredContrast < 0 || t.CoveredContrast > 128:
		return invalid("tamper.covered_contrast", fmt.Sprintf("%g is not in [0,128]", t.CoveredContrast))
	case t.DefocusRatio < 0 || t.DefocusRatio >= 1:
		return invalid("tamper.defocus_ratio", fmt.Sprintf("%g is not in [0,1)", t.DefocusRatio))
	case t.MovedCorrelation < -1 || t.MovedCorrelation >= 1:
		return invalid("tamper.moved_correlation", fmt.Sprintf("%g is not in [-1,1)", t.MovedCorrelation))
	case t.FrozenTime <= 0:
		return invalid("tamper.frozen_time", fmt.Sprintf("%v is not positive", t.FrozenTime))
	case t.AcceptMovedAfter <= 0:
		return invalid("tamper.accept_moved_after", fmt.Sprintf("%v is not positive", t.AcceptMovedAfter))
	}
	p := c.Person
	switch {
	case !(p.MinHeight > 0 && p.MinHeight <= 1):
		return invalid("person.min_height", fmt.Sprintf("%g is not in (0,1]", p.MinHeight))
	case p.HitThreshold < -10 || p.HitThreshold > 10:
		return invalid("person.hit_threshold", fmt.Sprintf("%g is not in [-10,10]", p.HitThreshold))
	}
	return nil
}

// DefaultMotion returns the defaults documented on Motion.
func DefaultMotion() Motion {
	return Motion{
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
func (c Motion) Validate() error {
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

// ConfigError names the YAML key of an invalid field, relative to the
// Analysis (or Motion) validated: "zones[1].polygon". It matches
// ErrInvalidConfig with errors.Is.
type ConfigError struct {
	Key string
	Why string
}

func (e *ConfigError) Error() string        { return e.Key + ": " + e.Why }
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

func invalid(key, why string) error { return &ConfigError{Key: key, Why: why} }

// Point is a position in a frame, normalized: x and y in [0,1] of the
// frame's width and height, (0,0) top left. In YAML it is a pair [x, y].
type Point [2]float64

// Polygon is a closed polygon of at least three points, in normalized
// coordinates. In YAML it is a list of pairs: [[0,0], [0.5,0], [0.5,1]].
type Polygon []Point

// validate reports a polygon that has fewer than three points, a point
// outside the frame, or no area.
func (p Polygon) validate() error {
	if len(p) < 3 {
		return fmt.Errorf("%d points, need at least 3", len(p))
	}
	for i, pt := range p {
		if !(pt[0] >= 0 && pt[0] <= 1 && pt[1] >= 0 && pt[1] <= 1) {
			return fmt.Errorf("point %d (%g, %g) is outside [0,1]x[0,1]", i, pt[0], pt[1])
		}
	}
	if p.Area() < 1e-6 {
		return fmt.Errorf("has no area")
	}
	return nil
}

// Area is the polygon's area (shoelace formula) as a share of the frame.
func (p Polygon) Area() float64 {
	var s float64
	for i := range p {
		a, b := p[i], p[(i+1)%len(p)]
		s += a[0]*b[1] - b[0]*a[1]
	}
	return math.Abs(s) / 2
}
