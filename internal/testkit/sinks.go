package testkit

import (
	"reflect"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/sink"
)

// Tests write the options they care about; CompleteSink and FillZeros
// give the others the configuration's defaults, as a file with only those
// keys would (delivery, the sinks and evidence take complete options and
// default nothing).

// CompleteSink fills the options of s left at zero with the defaults of
// its kind, those that follow other keys (mqtt client_id, ...) following
// s's.
func CompleteSink(s sink.Config) sink.Config {
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
	return FillZeros(s, sink.Options(d))
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
