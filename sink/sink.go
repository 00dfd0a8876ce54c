// Package sink defines what delivery sends incident events to: the Sink
// interface, the options of one sink (Config, from the configured
// config.Sink) and the errors a sink returns. Each kind is its own package
// (sink/file, sink/webhook, sink/mqtt, sink/nats); package sinks opens one
// by its kind.
package sink

import (
	"context"
	"os"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
)

// Config is the options of one sink, complete: Options makes
// them from the configured config.Sink (where every key, its default and
// its range is documented). Type selects which fields apply.
type Config struct {
	// Name identifies the sink in metrics and logs; unique.
	// It defaults to the type.
	Name string
	// Type is stdout, file, webhook, mqtt or nats. Required.
	Type string

	// file: Path of the JSON-lines file; rotated (lumberjack) at MaxBytes,
	// rounded up to a whole MiB, to <name>-<UTC time>.<ext>, the newest
	// Keep old files kept.
	// MaxBytes defaults to 100 MiB, Keep to 5.
	// nats: MaxBytes bounds the stream created with CreateStream (the
	// oldest messages go first).
	// It defaults to 1 GiB.
	Path     string
	MaxBytes int64
	Keep     int

	// webhook, mqtt, nats: URL of the receiver or broker (http(s)://,
	// tcp://host:1883, nats://host:4222). Required for them.
	URL string
	// Timeout bounds one delivery attempt.
	// It defaults to 5s.
	Timeout time.Duration
	// BackoffMin and BackoffMax bound the wait between retries: it doubles,
	// each wait drawn from [d/2, d].
	// They default to 500ms and 30s.
	BackoffMin time.Duration
	BackoffMax time.Duration

	// webhook: BearerToken sends "Authorization: Bearer <token>"; Headers
	// are added as they are; Secret ("whsec_" + base64) signs every request
	// following the Standard Webhooks convention.
	BearerToken string
	Headers     map[string]string
	Secret      string
	// webhook: Mode is the CloudEvents HTTP content mode: "structured"
	// (the whole event as application/cloudevents+json) or "binary" (the
	// data alone as application/json, the attributes in ce-* headers; a
	// signature then signs the data).
	// It defaults to structured.
	Mode string

	// mqtt, nats: Username and Password.
	Username string
	Password string
	// mqtt: ClientID (defaults to "vigil-" + name), TopicPrefix (defaults to
	// "vigil").
	ClientID    string
	TopicPrefix string
	// mqtt: FrigateCompat also publishes what vigil detects as Frigate's
	// MQTT API documents it (people as "person" objects on
	// <frigate_topic_prefix>/events, counts, snapshots, motion ON/OFF; see
	// frigate.go), under FrigateTopicPrefix.
	// FrigateCompat defaults to false, FrigateTopicPrefix to
	// <topic_prefix>/frigate (set "frigate" where consumers expect
	// Frigate's own default).
	FrigateCompat      bool
	FrigateTopicPrefix string
	// mqtt: HADiscovery announces each camera's motion, person, tamper and
	// online binary sensors to Home Assistant (retained configurations on
	// <ha_discovery_prefix>/binary_sensor/<ha_node_id>/<camera>_<sensor>/config,
	// states on <topic_prefix>/<camera>/<sensor>/state). HANodeID must be
	// unique per vigil instance on the broker: [A-Za-z0-9_-].
	// HADiscovery defaults to false, HADiscoveryPrefix to "homeassistant",
	// HANodeID to the client id with other characters as "_".
	HADiscovery       bool
	HADiscoveryPrefix string
	HANodeID          string
	// nats: SubjectPrefix (defaults to "vigil.incidents"); Stream is the
	// JetStream stream (defaults to "VIGIL_INCIDENTS"), created over
	// SubjectPrefix.> when CreateStream is set, or brought to this
	// configuration if it exists (at the sink's first delivery).
	SubjectPrefix string
	Stream        string
	CreateStream  bool
	// nats: MaxAge removes messages older than this from the stream
	// created with CreateStream; at least 10m (the deduplication window).
	// It defaults to 168h (7 days).
	MaxAge time.Duration
}

// Options returns the options of the configured sink s.
func Options(s config.Sink) Config {
	o := Config{Name: s.Name, Type: s.Type, Timeout: s.Timeout, BackoffMin: s.BackoffMin, BackoffMax: s.BackoffMax}
	switch {
	case s.File != nil:
		o.Path, o.MaxBytes, o.Keep = s.File.Path, s.File.MaxBytes, s.File.Keep
	case s.Webhook != nil:
		w := s.Webhook
		o.URL, o.BearerToken, o.Headers, o.Secret, o.Mode = w.URL, w.BearerToken, w.Headers, w.Secret, w.Mode
	case s.MQTT != nil:
		m := s.MQTT
		o.URL, o.Username, o.Password, o.ClientID, o.TopicPrefix = m.URL, m.Username, m.Password, m.ClientID, m.TopicPrefix
		o.FrigateCompat, o.FrigateTopicPrefix = m.FrigateCompat, m.FrigateTopicPrefix
		o.HADiscovery, o.HADiscoveryPrefix, o.HANodeID = m.HADiscovery, m.HADiscoveryPrefix, m.HANodeID
	case s.NATS != nil:
		n := s.NATS
		o.URL, o.Username, o.Password, o.SubjectPrefix, o.Stream = n.URL, n.Username, n.Password, n.SubjectPrefix, n.Stream
		o.CreateStream, o.MaxAge, o.MaxBytes = n.CreateStream, n.MaxAge, n.MaxBytes
	}
	return o
}

// Sink delivers events to one consumer. Delivery calls Deliver from one
// goroutine, in order, and retries an error unless it is a
// *PermanentError; Close is called once, after the last Deliver.
type Sink interface {
	// Deliver sends one event: js is its JSON as stored in the outbox,
	// ev the same event decoded. It returns once the consumer has it or
	// ctx (one attempt's timeout) is done.
	Deliver(ctx context.Context, js []byte, ev *incident.Event) error
	Close() error
}

// CameraSetter is a Sink that describes the configured cameras (mqtt
// ha_discovery): SetCameras announces new ones and withdraws removed ones,
// without waiting for the consumer. Safe for concurrent use.
type CameraSetter interface {
	SetCameras(ids []string)
}

// EvidenceOpener opens a snapshot an event references by its path
// "<camera>/<name>" (evidence.Store.Open).
type EvidenceOpener interface {
	Open(camera, name string) (*os.File, error)
}

// PermanentError marks a delivery the receiver will never accept: it is
// counted as failed and not retried.
type PermanentError struct{ Err error }

// Permanent wraps err as a *PermanentError.
func Permanent(err error) error { return &PermanentError{err} }

func (p *PermanentError) Error() string { return p.Err.Error() }
func (p *PermanentError) Unwrap() error { return p.Err }
