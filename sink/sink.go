// Package sink defines what delivery sends incident events to: the Sink
// interface, the options every kind shares (Common) and the errors a sink
// returns. Each kind is its own package (sink/file, sink/webhook,
// sink/mqtt, sink/nats) taking its own config type (config.FileSink, ...);
// package sinks opens one by its kind.
package sink

import (
	"context"
	"os"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
)

// Common is the options every sink kind has (config.Sink's shared keys,
// documented there): each kind's New takes them beside its own
// config.*Sink, and delivery retries with them.
type Common struct {
	// Name identifies the sink in metrics, logs and errors.
	Name string
	// Timeout bounds one delivery attempt.
	Timeout time.Duration
	// BackoffMin and BackoffMax bound the wait between retries.
	BackoffMin time.Duration
	BackoffMax time.Duration
}

// CommonOf returns the shared options of the configured sink s.
func CommonOf(s config.Sink) Common {
	return Common{Name: s.Name, Timeout: s.Timeout, BackoffMin: s.BackoffMin, BackoffMax: s.BackoffMax}
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

// Camera is a configured camera as the sinks that describe cameras see
// it.
type Camera struct {
	ID string
	// Kinds are the incident kinds its configuration can raise (the
	// engine says which); nil: every kind.
	Kinds []string
}

// IDs returns the ids of cams.
func IDs(cams []Camera) []string {
	ids := make([]string, len(cams))
	for i, c := range cams {
		ids[i] = c.ID
	}
	return ids
}

// CameraSetter is a Sink that describes the configured cameras (mqtt
// ha_discovery): SetCameras announces new ones and withdraws removed ones
// (and what a camera can no longer raise), without waiting for the
// consumer. Safe for concurrent use.
type CameraSetter interface {
	SetCameras(cams []Camera)
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
