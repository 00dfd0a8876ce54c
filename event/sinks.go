package event

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vigil-video/vigil/redact"
)

// SinkConfig is one event sink. Type selects which fields apply.
type SinkConfig struct {
	// Name identifies the sink in metrics and logs; unique.
	// It defaults to the type.
	Name string `yaml:"name"`
	// Type is stdout, file, webhook, mqtt or nats. Required.
	Type string `yaml:"type"`

	// file: Path of the JSON-lines file; rotated (lumberjack) at MaxBytes,
	// rounded up to a whole MiB, to <name>-<UTC time>.<ext>, the newest
	// Keep old files kept.
	// MaxBytes defaults to 100 MiB, Keep to 5.
	// nats: MaxBytes bounds the stream created with CreateStream (the
	// oldest messages go first).
	// It defaults to 1 GiB.
	Path     string `yaml:"path"`
	MaxBytes int64  `yaml:"max_bytes"`
	Keep     int    `yaml:"keep"`

	// webhook, mqtt, nats: URL of the receiver or broker (http(s)://,
	// tcp://host:1883, nats://host:4222). Required for them.
	URL string `yaml:"url"`
	// Timeout bounds one delivery attempt.
	// It defaults to 5s.
	Timeout time.Duration `yaml:"timeout"`
	// BackoffMin and BackoffMax bound the wait between retries: it doubles,
	// each wait drawn from [d/2, d].
	// They default to 500ms and 30s.
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`

	// webhook: BearerToken sends "Authorization: Bearer <token>"; Headers
	// are added as they are; Secret ("whsec_" + base64) signs every request
	// following the Standard Webhooks convention.
	BearerToken string            `yaml:"bearer_token"`
	Headers     map[string]string `yaml:"headers"`
	Secret      string            `yaml:"secret"`
	// webhook: Mode is the CloudEvents HTTP content mode: "structured"
	// (the whole event as application/cloudevents+json) or "binary" (the
	// data alone as application/json, the attributes in ce-* headers; a
	// signature then signs the data).
	// It defaults to structured.
	Mode string `yaml:"mode"`

	// mqtt, nats: Username and Password.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// mqtt: ClientID (defaults to "vigil-" + name), TopicPrefix (defaults to
	// "vigil").
	ClientID    string `yaml:"client_id"`
	TopicPrefix string `yaml:"topic_prefix"`
	// mqtt: FrigateCompat also publishes what vigil detects as Frigate's
	// MQTT API documents it (people as "person" objects on
	// <frigate_topic_prefix>/events, counts, snapshots, motion ON/OFF; see
	// frigate.go), under FrigateTopicPrefix.
	// FrigateCompat defaults to false, FrigateTopicPrefix to
	// <topic_prefix>/frigate (set "frigate" where consumers expect
	// Frigate's own default).
	FrigateCompat      bool   `yaml:"frigate_compat"`
	FrigateTopicPrefix string `yaml:"frigate_topic_prefix"`
	// mqtt: HADiscovery announces each camera's motion, person, tamper and
	// online binary sensors to Home Assistant (retained configurations on
	// <ha_discovery_prefix>/binary_sensor/<ha_node_id>/<camera>_<sensor>/config,
	// states on <topic_prefix>/<camera>/<sensor>/state). HANodeID must be
	// unique per vigil instance on the broker: [A-Za-z0-9_-].
	// HADiscovery defaults to false, HADiscoveryPrefix to "homeassistant",
	// HANodeID to the client id with other characters as "_".
	HADiscovery       bool   `yaml:"ha_discovery"`
	HADiscoveryPrefix string `yaml:"ha_discovery_prefix"`
	HANodeID          string `yaml:"ha_node_id"`
	// nats: SubjectPrefix (defaults to "vigil.incidents"); Stream is the
	// JetStream stream (defaults to "VIGIL_INCIDENTS"), created over
	// SubjectPrefix.> when CreateStream is set, or brought to this
	// configuration if it exists (at the sink's first delivery).
	SubjectPrefix string `yaml:"subject_prefix"`
	Stream        string `yaml:"stream"`
	CreateStream  bool   `yaml:"create_stream"`
	// nats: MaxAge removes messages older than this from the stream
	// created with CreateStream; at least 10m (the deduplication window).
	// It defaults to 168h (7 days).
	MaxAge time.Duration `yaml:"max_age"`
}

var sinkName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Validate checks the sink; errors name the key relative to the sink.
func (c *SinkConfig) Validate() error {
	if c.Name == "" {
		c.Name = c.Type
	}
	if !sinkName.MatchString(c.Name) {
		return fmt.Errorf("name: %q must be 1 to 64 of A-Z a-z 0-9 _ . -", c.Name)
	}
	need := func(key, v string) error {
		if v == "" {
			return fmt.Errorf("%s: required for a %s sink", key, c.Type)
		}
		return nil
	}
	switch c.Type {
	case "stdout":
	case "file":
		if err := need("path", c.Path); err != nil {
			return err
		}
	case "webhook", "mqtt", "nats":
		if err := need("url", c.URL); err != nil {
			return err
		}
		u, err := url.Parse(c.URL)
		if err != nil {
			return fmt.Errorf("url: %s cannot be parsed", redact.URL(c.URL))
		}
		want := map[string][]string{"webhook": {"http", "https"}, "mqtt": {"tcp", "ssl", "tls", "mqtt", "mqtts", "ws", "wss"}, "nats": {"nats", "tls"}}[c.Type]
		ok := false
		for _, s := range want {
			ok = ok || u.Scheme == s
		}
		if !ok || u.Host == "" {
			return fmt.Errorf("url: %s is not a %s URL (%s)", redact.URL(c.URL), c.Type, strings.Join(want, ", "))
		}
		if c.Secret != "" {
			if _, err := decodeSecret(c.Secret); err != nil {
				return fmt.Errorf("secret: %w", err)
			}
		}
		if c.Type == "webhook" && c.Mode != "" && c.Mode != ModeStructured && c.Mode != ModeBinary {
			return fmt.Errorf("mode: %q is not structured or binary", c.Mode)
		}
	case "":
		return errors.New("type: required (stdout, file, webhook, mqtt or nats)")
	default:
		return fmt.Errorf("type: %q is not stdout, file, webhook, mqtt or nats", c.Type)
	}
	if c.Mode != "" && c.Type != "webhook" {
		return fmt.Errorf("mode: only a webhook sink has a content mode, not a %s sink", c.Type)
	}
	if c.Timeout < 0 || c.BackoffMin < 0 || c.BackoffMax < 0 || c.MaxBytes < 0 || c.Keep < 0 {
		return errors.New("timeout, backoff_min, backoff_max, max_bytes and keep must not be negative")
	}
	if c.MaxAge < 0 {
		return errors.New("max_age: must not be negative")
	}
	if c.HANodeID != "" && haUnsafe.MatchString(c.HANodeID) {
		return fmt.Errorf("ha_node_id: %q must be made of A-Z a-z 0-9 _ -", c.HANodeID)
	}
	for key, v := range map[string]string{"topic_prefix": c.TopicPrefix, "frigate_topic_prefix": c.FrigateTopicPrefix, "ha_discovery_prefix": c.HADiscoveryPrefix} {
		if strings.ContainsAny(v, "#+") || strings.HasSuffix(v, "/") {
			return fmt.Errorf("%s: %q must not hold MQTT wildcards (# +) or end with /", key, v)
		}
	}
	if c.Type == "nats" && c.MaxAge != 0 && c.MaxAge < natsDuplicates {
		return fmt.Errorf("max_age: %v is shorter than the %v deduplication window", c.MaxAge, natsDuplicates)
	}
	return nil
}

func (c *SinkConfig) defaults() {
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = 500 * time.Millisecond
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = 30 * time.Second
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = c.BackoffMin
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 100 << 20
		if c.Type == "nats" {
			c.MaxBytes = 1 << 30
		}
	}
	if c.MaxAge == 0 && c.Type == "nats" {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.Keep == 0 {
		c.Keep = 5
	}
	if c.Type == "webhook" && c.Mode == "" {
		c.Mode = ModeStructured
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = "vigil"
	}
	if c.ClientID == "" {
		c.ClientID = "vigil-" + c.Name
	}
	if c.FrigateTopicPrefix == "" {
		c.FrigateTopicPrefix = c.TopicPrefix + "/frigate"
	}
	if c.HADiscoveryPrefix == "" {
		c.HADiscoveryPrefix = "homeassistant"
	}
	if c.HANodeID == "" {
		c.HANodeID = haID(c.ClientID)
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = "vigil.incidents"
	}
	if c.Stream == "" {
		c.Stream = "VIGIL_INCIDENTS"
	}
}

// sink delivers one event; an error is retried unless it is permanent.
type sink interface {
	deliver(ctx context.Context, r record, ev *Event) error
	close() error
}

// permanentError marks a delivery the receiver will never accept.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// writerSink writes JSON lines to a writer (stdout).
type writerSink struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (s *writerSink) deliver(_ context.Context, r record, _ *Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Write(r.json)   //nolint:errcheck // reported by Flush
	s.w.WriteByte('\n') //nolint:errcheck
	return s.w.Flush()
}

func (s *writerSink) close() error { return nil }
