package config

import (
	"fmt"
	"time"
)

// History keeps the incident history that GET /api/incidents serves (a
// bbolt file, package history): one record per incident, its latest
// event, kept across restarts within an age and a size budget.
type History struct {
	// Path is the history database file (bbolt); `vigil run` takes a
	// relative path from --data-dir (default /var/lib/vigil). A file
	// bbolt cannot read at start is moved aside to
	// <path>.damaged-<UTC time> (an error logged, counted in
	// vigil_history_damaged_total) and an empty history started.
	// Required.
	// It defaults to "history.db".
	Path string `yaml:"path"`
	// MaxBytes bounds the incidents kept on disk (their records and
	// index entries); the oldest (by start) go first: 1 or more. The
	// file, with bbolt's pages and free pages, stays within about 1.75
	// times it.
	// It defaults to 64 MiB (also when 0).
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxAge removes incidents not changed for this long: above 0.
	// It defaults to 720h (30 days) (also when 0).
	MaxAge time.Duration `yaml:"max_age"`
}

// DefaultHistory returns the history keys at their defaults: path
// "history.db" (under --data-dir for `vigil run`), max_bytes 64 MiB,
// max_age 720h.
func DefaultHistory() History {
	return History{Path: "history.db", MaxBytes: 64 << 20, MaxAge: 30 * 24 * time.Hour}
}

// derive replaces the zeros that stand for a default.
func (h *History) derive(d History) {
	if h.MaxBytes == 0 {
		h.MaxBytes = d.MaxBytes
	}
	if h.MaxAge == 0 {
		h.MaxAge = d.MaxAge
	}
}

// validateHistory reports the first invalid history key.
func validateHistory(c History) error {
	switch {
	case c.Path == "":
		return fmt.Errorf("history.path: required")
	case c.MaxBytes < 1:
		return fmt.Errorf("history.max_bytes: %d is not 1 or more (0 means 64 MiB)", c.MaxBytes)
	case c.MaxAge <= 0:
		return fmt.Errorf("history.max_age: %v is not above 0 (0 means 720h)", c.MaxAge)
	}
	return nil
}
