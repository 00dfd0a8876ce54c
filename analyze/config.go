package analyze

import "github.com/vigil-video/vigil/config"

// The analysis keys of a camera, with their defaults, ranges and
// validation, are package config's (config.Analysis); the detectors here
// receive them complete and valid. These names are config's types.
type (
	// Config is a camera's analysis keys: config.Analysis.
	Config = config.Analysis
	// MotionConfig is config.Motion.
	MotionConfig = config.Motion
	// TamperConfig is config.Tamper.
	TamperConfig = config.Tamper
	// PersonConfig is config.Person.
	PersonConfig = config.Person
	// Zone is config.Zone.
	Zone = config.Zone
	// Point is config.Point.
	Point = config.Point
	// Polygon is config.Polygon.
	Polygon = config.Polygon
)
