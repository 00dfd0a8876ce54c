package testkit

import (
	"reflect"
	"time"

	"github.com/vigil-video/vigil/config"
)

// Tests write the keys they care about; Sink and FillZeros give the others
// the configuration's defaults, as a file with only those keys would
// (delivery, the sinks and evidence take complete options and default
// nothing).

// Sink returns the sink of kind typ named name at addr (its url, the path
// of a file sink), with the keys set writes, every other key at its
// default: those that follow other keys (mqtt client_id, ha_node_id,
// frigate_topic_prefix) follow the name, the keys set writes and, for
// client_id, this host's name (config.Sink.Derive).
func Sink(typ, name, addr string, set ...func(*config.Sink)) config.Sink {
	s := config.DefaultSink(typ)
	s.Name = name
	switch {
	case s.File != nil:
		s.File.Path = addr
	case s.Webhook != nil:
		s.Webhook.URL = addr
	case s.MQTT != nil:
		s.MQTT.URL = addr
		s.MQTT.ClientID, s.MQTT.FrigateTopicPrefix, s.MQTT.HANodeID = "", "", ""
	case s.NATS != nil:
		s.NATS.URL = addr
	}
	for _, f := range set {
		f(&s)
	}
	s.Derive()
	return s
}

// Backoff sets a sink's backoff_min and backoff_max (for Sink).
func Backoff(lo, hi time.Duration) func(*config.Sink) {
	return func(s *config.Sink) { s.BackoffMin, s.BackoffMax = lo, hi }
}

// FillZeros returns v with its zero fields taken from def.
func FillZeros[T any](v, def T) T {
	rv, rd := reflect.ValueOf(&v).Elem(), reflect.ValueOf(def)
	for i := range rv.NumField() {
		if f := rv.Field(i); f.CanSet() && f.IsZero() {
			f.Set(rd.Field(i))
		}
	}
	return v
}
