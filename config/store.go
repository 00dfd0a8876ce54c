package config

import (
	"fmt"
	"time"
)

// Outbox places and bounds the durable event outbox (package event).
type Outbox struct {
	// Path is the outbox database file (bbolt); `vigil run` takes a
	// relative path from --data-dir (default /var/lib/vigil). Required.
	// It defaults to "outbox.db".
	Path string `yaml:"path"`
	// MaxBytes bounds the events kept on disk. When an event does not fit,
	// what every healthy sink has taken (what only failing sinks still
	// hold) is evicted, update events first, then the oldest; never what a
	// healthy sink has not taken. When that is not enough, the event waits
	// in memory (Delivery.Publish); under sustained pressure, updates are
	// dropped and starts and ends use a reserve of max_bytes/8: 1 or more.
	// It defaults to 256 MiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// OnDamage says what a start does with an outbox file bbolt cannot
	// read (a damaged page, a failed consistency check, a zero-length
	// file): "move_aside" renames it to <path>.damaged-<UTC time>, logs
	// an error, counts it in vigil_outbox_damaged_total and starts with an
	// empty outbox; "refuse" does not start, with an error naming the file.
	// It defaults to "move_aside".
	OnDamage string `yaml:"on_damage"`
	// MaxLag is the delivery lag past which /readyz answers not ready:
	// the age of the oldest event a sink has not acknowledged, or that
	// waits to be stored. 1s to 24h.
	// It defaults to 5m (also when 0).
	MaxLag time.Duration `yaml:"max_lag"`
}

// Values of Outbox.OnDamage.
const (
	DamageMoveAside = "move_aside"
	DamageRefuse    = "refuse"
)

// Evidence configures where incident snapshots are kept (package event).
type Evidence struct {
	// Dir holds the snapshots, one directory per camera:
	// <dir>/<camera>/<incident_id>-<role>.jpg. Events reference them by
	// that relative path, served at /api/evidence/<path>. `vigil run` takes
	// a relative dir from --data-dir (default /var/lib/vigil). Required
	// unless embed.
	// It defaults to "evidence".
	Dir string `yaml:"dir"`
	// MaxBytes bounds the snapshots on disk; the oldest go first: 1 or
	// more (a budget, nothing is reserved).
	// It defaults to 1 GiB (also when 0).
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxAge removes snapshots older than this: above 0.
	// It defaults to 168h (7 days) (also when 0).
	MaxAge time.Duration `yaml:"max_age"`
	// Embed puts each snapshot in the event itself (base64, in the first
	// event after it was taken) instead of a file.
	// It defaults to false.
	Embed bool `yaml:"embed"`
}

// maxOutboxLag is outbox.max_lag's upper bound.
const maxOutboxLag = 24 * time.Hour

// DefaultOutbox returns the outbox keys at their defaults: path
// "outbox.db" (under --data-dir for `vigil run`), max_bytes 256 MiB,
// on_damage move_aside, max_lag 5m.
func DefaultOutbox() Outbox {
	return Outbox{Path: "outbox.db", MaxBytes: 256 << 20, OnDamage: DamageMoveAside, MaxLag: 5 * time.Minute}
}

// DefaultEvidence returns the evidence keys at their defaults: dir
// "evidence" (under --data-dir for `vigil run`), max_bytes 1 GiB,
// max_age 168h, embed false.
func DefaultEvidence() Evidence {
	return Evidence{Dir: "evidence", MaxBytes: 1 << 30, MaxAge: 7 * 24 * time.Hour}
}

// validateOutbox reports the first invalid outbox key.
func validateOutbox(c Outbox) error {
	switch {
	case c.Path == "":
		return fmt.Errorf("outbox.path: required")
	case c.MaxBytes < 1:
		return fmt.Errorf("outbox.max_bytes: %d is not 1 or more", c.MaxBytes)
	case c.OnDamage != DamageMoveAside && c.OnDamage != DamageRefuse:
		return fmt.Errorf("outbox.on_damage: %q is not %s or %s", c.OnDamage, DamageMoveAside, DamageRefuse)
	case c.MaxLag < time.Second || c.MaxLag > maxOutboxLag:
		return fmt.Errorf("outbox.max_lag: %s is not in 1s..%s (0 means 5m)", c.MaxLag, maxOutboxLag)
	}
	return nil
}

// validateEvidence reports the first invalid evidence key.
func validateEvidence(c Evidence) error {
	switch {
	case c.Dir == "" && !c.Embed:
		return fmt.Errorf("evidence.dir: required")
	case c.MaxBytes < 1:
		return fmt.Errorf("evidence.max_bytes: %d is not 1 or more (0 means 1 GiB)", c.MaxBytes)
	case c.MaxAge <= 0:
		return fmt.Errorf("evidence.max_age: %v is not above 0 (0 means 168h)", c.MaxAge)
	}
	return nil
}
