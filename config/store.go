package config

import (
	"fmt"
	"time"

	"github.com/vigil-video/vigil/event"
)

// maxOutboxLag is outbox.max_lag's upper bound.
const maxOutboxLag = 24 * time.Hour

// DefaultOutbox returns the outbox keys at their defaults: path
// "outbox.db" (under --data-dir for `vigil run`), max_bytes 256 MiB,
// on_damage move_aside, max_lag 5m.
func DefaultOutbox() event.OutboxConfig {
	return event.OutboxConfig{Path: "outbox.db", MaxBytes: 256 << 20, OnDamage: event.DamageMoveAside, MaxLag: 5 * time.Minute}
}

// DefaultEvidence returns the evidence keys at their defaults: dir
// "evidence" (under --data-dir for `vigil run`), max_bytes 1 GiB,
// max_age 168h, embed false.
func DefaultEvidence() event.EvidenceConfig {
	return event.EvidenceConfig{Dir: "evidence", MaxBytes: 1 << 30, MaxAge: 7 * 24 * time.Hour}
}

// validateOutbox reports the first invalid outbox key.
func validateOutbox(c event.OutboxConfig) error {
	switch {
	case c.Path == "":
		return fmt.Errorf("outbox.path: required")
	case c.MaxBytes < 1:
		return fmt.Errorf("outbox.max_bytes: %d is not 1 or more", c.MaxBytes)
	case c.OnDamage != event.DamageMoveAside && c.OnDamage != event.DamageRefuse:
		return fmt.Errorf("outbox.on_damage: %q is not %s or %s", c.OnDamage, event.DamageMoveAside, event.DamageRefuse)
	case c.MaxLag < time.Second || c.MaxLag > maxOutboxLag:
		return fmt.Errorf("outbox.max_lag: %s is not in 1s..%s (0 means 5m)", c.MaxLag, maxOutboxLag)
	}
	return nil
}

// validateEvidence reports the first invalid evidence key.
func validateEvidence(c event.EvidenceConfig) error {
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
