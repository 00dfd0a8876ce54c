package event

import (
	"io"
	"log/slog"
	"reflect"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/evidence"
)

// The tests write the options they care about; completeDelivery and
// completeEvidence give the others the configuration's defaults, as a
// file with only those keys would (Open and OpenEvidences take complete
// options and default nothing).
type (
	OutboxConfig   = config.Outbox
	EvidenceConfig = config.Evidence
)

// testOpen is Open on cfg completed with the defaults.
func testOpen(cfg DeliveryConfig, stdout io.Writer, log *slog.Logger) (*Delivery, error) {
	return Open(completeDelivery(cfg), stdout, log)
}

// testOpenEvidences is evidence.Open on cfg completed with the defaults.
func testOpenEvidences(cfg EvidenceConfig) (*evidence.Store, error) {
	return evidence.Open(fillZeros(cfg, config.DefaultEvidence()))
}

// completeDelivery fills the outbox and sink options left at zero (one
// stdout sink when there is none, as in a file without sinks).
func completeDelivery(cfg DeliveryConfig) DeliveryConfig {
	cfg.Outbox = fillZeros(cfg.Outbox, config.DefaultOutbox())
	if len(cfg.Sinks) == 0 {
		cfg.Sinks = []SinkConfig{{Type: config.SinkStdout}}
	}
	sinks := make([]SinkConfig, len(cfg.Sinks))
	for i, s := range cfg.Sinks {
		sinks[i] = completeSink(s)
	}
	cfg.Sinks = sinks
	return cfg
}

// completeSink fills the options of s left at zero with the defaults of
// its kind, those that follow other keys (mqtt client_id, ...) following
// s's.
func completeSink(s SinkConfig) SinkConfig {
	d := config.DefaultSink(s.Type)
	if s.Name != "" {
		d.Name = s.Name
	}
	if m := d.MQTT; m != nil {
		m.ClientID, m.FrigateTopicPrefix, m.HANodeID = s.ClientID, s.FrigateTopicPrefix, s.HANodeID
		if s.TopicPrefix != "" {
			m.TopicPrefix = s.TopicPrefix
		}
		d.Derive()
	}
	return fillZeros(s, SinkOptions(d))
}

// fillZeros returns v with its zero fields taken from def.
func fillZeros[T any](v, def T) T {
	rv, rd := reflect.ValueOf(&v).Elem(), reflect.ValueOf(def)
	for i := range rv.NumField() {
		if f := rv.Field(i); f.CanSet() && f.IsZero() {
			f.Set(rd.Field(i))
		}
	}
	return v
}
