//go:build tools

// Package vigil pins modules that packages under construction import, so
// that go.mod stays stable while they are written. Removed once imported.
package vigil

import (
	_ "github.com/eclipse/paho.mqtt.golang"
	_ "github.com/nats-io/nats-server/v2/server"
	_ "github.com/nats-io/nats.go"
	_ "github.com/nats-io/nats.go/jetstream"
	_ "github.com/prometheus/exporter-toolkit/web"
	_ "go.etcd.io/bbolt"
)
