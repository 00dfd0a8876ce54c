// Package nats is the NATS JetStream sink.
package nats

import (
	"context"
	"fmt"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/natsconn"
	"github.com/vigil-video/vigil/sink"
)

// Sink publishes each event to JetStream with an acknowledgement, on
// <subject_prefix>.<camera>.<kind>, with Nats-Msg-Id set to the event id so
// that the server drops a redelivered duplicate.
type Sink struct {
	cfg     config.NATSSink
	timeout time.Duration // of one delivery
	nc      *natsgo.Conn
	js      jetstream.JetStream
	// ensured is set once the stream has been created or updated to the
	// configuration (CreateStream); touched by the sink's goroutine only.
	ensured bool
}

// natsDuplicates is the stream's deduplication window: a redelivery within
// it is dropped by the server (Nats-Msg-Id).
const natsDuplicates = config.NATSDuplicates

// New starts connecting to the NATS server at cfg.URL; the stream is
// checked at the first delivery.
func New(c sink.Common, cfg config.NATSSink) (*Sink, error) {
	nc, err := natsconn.Connect(natsconn.Config{Name: "vigil-" + c.Name, URL: cfg.URL,
		Username: cfg.Username, Password: cfg.Password, ReconnectWait: time.Second, Timeout: c.Timeout})
	if err != nil {
		return nil, fmt.Errorf("nats sink %s: %w", c.Name, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats sink %s: %w", c.Name, err)
	}
	return &Sink{cfg: cfg, timeout: c.Timeout, nc: nc, js: js}, nil
}

// streamConfig is the stream the sink creates with CreateStream: over
// <subject_prefix>.>, bounded by max_age and max_bytes (the oldest
// messages go first), deduplicating on Nats-Msg-Id.
func (s *Sink) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name: s.cfg.Stream, Subjects: []string{s.cfg.SubjectPrefix + ".>"}, Duplicates: natsDuplicates,
		MaxAge: s.cfg.MaxAge, MaxBytes: s.cfg.MaxBytes, Discard: jetstream.DiscardOld,
	}
}

// ensureStream creates the stream, or brings an existing one (an older
// vigil's, without limits) to the configuration.
func (s *Sink) ensureStream(ctx context.Context) error {
	if !s.cfg.CreateStream {
		return nil
	}
	if _, err := s.js.CreateOrUpdateStream(ctx, s.streamConfig()); err != nil {
		return fmt.Errorf("nats stream %s: %w", s.cfg.Stream, err)
	}
	s.ensured = true
	return nil
}

// subjectToken makes a camera id or kind safe as a subject token.
func subjectToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

func (s *Sink) Deliver(ctx context.Context, js []byte, ev *incident.Event) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if s.cfg.CreateStream && !s.ensured {
		if err := s.ensureStream(ctx); err != nil {
			return err
		}
	}
	subj := s.cfg.SubjectPrefix + "." + subjectToken(ev.Data.Camera) + "." + subjectToken(ev.Data.Kind)
	_, err := s.js.Publish(ctx, subj, js, jetstream.WithMsgID(ev.ID))
	if err != nil {
		if serr := s.ensureStream(ctx); serr == nil && s.cfg.CreateStream {
			_, err = s.js.Publish(ctx, subj, js, jetstream.WithMsgID(ev.ID))
		}
	}
	if err != nil {
		return fmt.Errorf("nats publish %s: %w", subj, err)
	}
	return nil
}

func (s *Sink) Close() error {
	s.nc.Close()
	return nil
}
