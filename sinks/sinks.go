// Package sinks opens a sink of any kind from its configuration: the one
// place that knows every kind (stdout, file, webhook, mqtt, nats).
package sinks

import (
	"fmt"
	"io"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/sink"
	"github.com/vigil-video/vigil/sink/file"
	"github.com/vigil-video/vigil/sink/mqtt"
	"github.com/vigil-video/vigil/sink/nats"
	"github.com/vigil-video/vigil/sink/webhook"
)

// Env is what some kinds need beyond their configuration.
type Env struct {
	// Stdout is where a stdout sink writes.
	Stdout io.Writer
	// Cameras are the configured cameras, announced by sinks that
	// describe cameras (mqtt ha_discovery) before their first event.
	// Delivery.SetCameras changes them.
	Cameras []sink.Camera
	// Evidence lets sinks read snapshot files (mqtt frigate_compat
	// publishes them); nil publishes embedded snapshots only.
	Evidence sink.EvidenceOpener
}

// Open opens the sink s describes (delivery.New calls it for each), with
// the shared keys and those of its kind only.
func (e Env) Open(s config.Sink) (sink.Sink, error) {
	c := sink.CommonOf(s)
	switch {
	case s.Stdout != nil:
		return file.NewWriter(e.Stdout), nil
	case s.File != nil:
		return file.New(c, *s.File)
	case s.Webhook != nil:
		return webhook.New(c, *s.Webhook)
	case s.MQTT != nil:
		return mqtt.New(c, *s.MQTT, e.Cameras, e.Evidence)
	case s.NATS != nil:
		return nats.New(c, *s.NATS)
	}
	return nil, fmt.Errorf("sink %s: no keys of its type %q (start from config.DefaultSink)", s.Name, s.Type)
}
