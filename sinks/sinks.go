// Package sinks opens a sink of any kind from its options: the one place
// that knows every kind (stdout, file, webhook, mqtt, nats).
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

// Env is what some kinds need beyond their options.
type Env struct {
	// Stdout is where a stdout sink writes.
	Stdout io.Writer
	// Cameras are the configured camera ids, announced by sinks that
	// describe cameras (mqtt ha_discovery) before their first event.
	// Delivery.SetCameras changes them.
	Cameras []string
	// Evidence lets sinks read snapshot files (mqtt frigate_compat
	// publishes them); nil publishes embedded snapshots only.
	Evidence sink.EvidenceOpener
}

// Open opens the sink c describes (delivery.New calls it for each).
func (e Env) Open(c sink.Config) (sink.Sink, error) {
	switch c.Type {
	case config.SinkStdout:
		return file.NewWriter(e.Stdout), nil
	case config.SinkFile:
		return file.New(c)
	case config.SinkWebhook:
		return webhook.New(c)
	case config.SinkMQTT:
		return mqtt.New(c, e.Cameras, e.Evidence)
	case config.SinkNATS:
		return nats.New(c)
	}
	return nil, fmt.Errorf("sink %s: unknown type %q", c.Name, c.Type)
}
