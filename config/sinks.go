package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/redact"
)

// Sink kinds (sinks[].type).
const (
	SinkStdout  = "stdout"
	SinkFile    = "file"
	SinkWebhook = "webhook"
	SinkMQTT    = "mqtt"
	SinkNATS    = "nats"
)

// Sink is one event sink: name, type and retry keys shared by every kind,
// then the keys of its kind, written at the same level in YAML
// (`- type: webhook` then `url: ...`). Exactly the pointer of Type is set:
// a webhook sink has only webhook keys (any other is an unknown key).
type Sink struct {
	// Name identifies the sink in metrics and logs: 1 to 64 of
	// [A-Za-z0-9_.-], unique.
	// It defaults to the type.
	Name string `yaml:"name"`
	// Type is stdout, file, webhook, mqtt or nats. Required.
	Type string `yaml:"type"`
	// Timeout bounds one delivery attempt: above 0.
	// It defaults to 5s.
	Timeout time.Duration `yaml:"timeout"`
	// BackoffMin and BackoffMax bound the wait between retries: it doubles,
	// each wait drawn from [d/2, d]. BackoffMin is above 0, at most 1h,
	// BackoffMax BackoffMin to 1h (raised to backoff_min when below).
	// They default to 500ms and 30s.
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`

	Stdout  *StdoutSink  `yaml:"-"`
	File    *FileSink    `yaml:"-"`
	Webhook *WebhookSink `yaml:"-"`
	MQTT    *MQTTSink    `yaml:"-"`
	NATS    *NATSSink    `yaml:"-"`
}

// StdoutSink writes each event as a JSON line to standard output. It has
// no keys of its own.
type StdoutSink struct{}

// FileSink appends each event as a JSON line to a file.
type FileSink struct {
	// Path of the JSON-lines file. Required. It is rotated (lumberjack) at
	// MaxBytes, rounded up to a whole MiB, to <name>-<UTC time>.<ext>, the
	// newest Keep old files kept.
	Path string `yaml:"path"`
	// MaxBytes: 1 or more. It defaults to 100 MiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// Keep: 1 or more. It defaults to 5.
	Keep int `yaml:"keep"`
}

// WebhookSink POSTs each event as a CloudEvent.
type WebhookSink struct {
	// URL of the receiver: http:// or https://. Required.
	URL string `yaml:"url"`
	// BearerToken sends "Authorization: Bearer <token>".
	// It defaults to none.
	BearerToken string `yaml:"bearer_token"`
	// Headers are added as they are. They default to none.
	Headers map[string]string `yaml:"headers"`
	// Secret ("whsec_" + the base64 of at least 16 bytes) signs every
	// request following the Standard Webhooks convention.
	// It defaults to none (unsigned).
	Secret string `yaml:"secret"`
	// Mode is the CloudEvents HTTP content mode: "structured" (the whole
	// event as application/cloudevents+json) or "binary" (the data alone as
	// application/json, the attributes in ce-* headers; a signature then
	// signs the data).
	// It defaults to "structured".
	Mode string `yaml:"mode"`
}

// Webhook content modes (WebhookSink.Mode).
const (
	WebhookStructured = "structured"
	WebhookBinary     = "binary"
)

// MQTTSink publishes each event to an MQTT broker.
type MQTTSink struct {
	// URL of the broker: tcp://, ssl://, tls://, mqtt://, mqtts://, ws://
	// or wss://. Required.
	URL string `yaml:"url"`
	// Username and Password. They default to none.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// ClientID is the MQTT client id; a broker drops the older of two
	// sessions with the same id, so every engine needs its own (two
	// engines started from one file must not share it).
	// It defaults to "vigil-<sink name>-<node>", node being cluster.node_id
	// in a cluster, else the host name (characters other than
	// A-Z a-z 0-9 _ . - as "_"; "localhost" if it cannot be read).
	// `vigil check-config` shows the value in effect.
	ClientID string `yaml:"client_id"`
	// TopicPrefix is the topics' prefix; no MQTT wildcard (# +), no
	// trailing /.
	// It defaults to "vigil".
	TopicPrefix string `yaml:"topic_prefix"`
	// FrigateCompat also publishes what vigil detects as Frigate's MQTT API
	// documents it (people as "person" objects on
	// <frigate_topic_prefix>/events, review segments on /reviews, counts,
	// snapshots, motion ON/OFF, /available with its own last will, on a
	// second connection as <client_id>-frigate), under FrigateTopicPrefix;
	// the HTTP API's Frigate endpoints answer its prefix in /api/config.
	// FrigateCompat defaults to false, FrigateTopicPrefix to
	// <topic_prefix>/frigate (set "frigate" where consumers expect
	// Frigate's own default).
	FrigateCompat      bool   `yaml:"frigate_compat"`
	FrigateTopicPrefix string `yaml:"frigate_topic_prefix"`
	// HADiscovery announces each camera's motion, person, tamper and
	// online binary sensors to Home Assistant (retained configurations on
	// <ha_discovery_prefix>/binary_sensor/<ha_node_id>/<camera>_<sensor>/config,
	// states on <topic_prefix>/<camera>/<sensor>/state). HANodeID is part
	// of every entity's unique_id: the same on every engine of one
	// deployment (so that a camera keeps its entities whatever engine runs
	// it), different between deployments sharing a broker: [A-Za-z0-9_-].
	// HADiscovery defaults to false, HADiscoveryPrefix to "homeassistant",
	// HANodeID to "vigil-" + the sink's name with other characters as "_"
	// (it does not follow client_id, which differs per engine).
	HADiscovery       bool   `yaml:"ha_discovery"`
	HADiscoveryPrefix string `yaml:"ha_discovery_prefix"`
	HANodeID          string `yaml:"ha_node_id"`
}

// NATSSink publishes each event to NATS JetStream.
type NATSSink struct {
	// URL of the server: nats:// or tls://. Required.
	URL string `yaml:"url"`
	// Username and Password. They default to none.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// SubjectPrefix: events go to <subject_prefix>.<camera>.<type>.
	// It defaults to "vigil.incidents".
	SubjectPrefix string `yaml:"subject_prefix"`
	// Stream is the JetStream stream, created over SubjectPrefix.> when
	// CreateStream is set, or brought to this configuration if it exists
	// (at the sink's first delivery).
	// Stream defaults to "VIGIL_INCIDENTS", CreateStream to false.
	Stream       string `yaml:"stream"`
	CreateStream bool   `yaml:"create_stream"`
	// MaxAge removes messages older than this from the stream created with
	// CreateStream: at least 10m (the deduplication window).
	// It defaults to 168h (7 days).
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBytes bounds the stream created with CreateStream (the oldest
	// messages go first): 1 or more.
	// It defaults to 1 GiB.
	MaxBytes int64 `yaml:"max_bytes"`
}

// NATSDuplicates is the NATS sink's deduplication window, the shortest
// max_age.
const NATSDuplicates = 10 * time.Minute

// DefaultSink returns a sink of kind typ (a stdout sink for an unknown
// kind) with every key at its default; those that derive from the name
// (mqtt client_id, ha_node_id, frigate_topic_prefix) follow "name" = typ.
func DefaultSink(typ string) Sink {
	s := Sink{Name: typ, Type: typ, Timeout: 5 * time.Second, BackoffMin: 500 * time.Millisecond, BackoffMax: 30 * time.Second}
	switch typ {
	case SinkFile:
		s.File = &FileSink{MaxBytes: 100 << 20, Keep: 5}
	case SinkWebhook:
		s.Webhook = &WebhookSink{Mode: WebhookStructured}
	case SinkMQTT:
		s.MQTT = &MQTTSink{TopicPrefix: "vigil", HADiscoveryPrefix: "homeassistant"}
	case SinkNATS:
		s.NATS = &NATSSink{SubjectPrefix: "vigil.incidents", Stream: "VIGIL_INCIDENTS", MaxAge: 7 * 24 * time.Hour, MaxBytes: 1 << 30}
	default:
		s.Name, s.Type = SinkStdout, SinkStdout
		s.Stdout = &StdoutSink{}
	}
	s.Derive()
	return s
}

// Derive sets the keys whose default follows another key when left empty:
// name (from type), mqtt client_id (from name and this host's name:
// HostNode), frigate_topic_prefix (from topic_prefix) and ha_node_id (from
// name); a backoff_max below backoff_min is raised to it. Config.Derive
// calls DeriveFor with the engine's node instead.
func (s *Sink) Derive() { s.DeriveFor(HostNode()) }

// DeriveFor is Derive for an engine named node (Config.Node), which the
// default mqtt client_id ends with; with node "", client_id is left empty
// (to be derived once the node is known).
func (s *Sink) DeriveFor(node string) {
	if s.Name == "" {
		s.Name = s.Type
	}
	if s.BackoffMax < s.BackoffMin {
		s.BackoffMax = s.BackoffMin
	}
	if m := s.MQTT; m != nil {
		if m.ClientID == "" && node != "" {
			m.ClientID = "vigil-" + s.Name + "-" + node
		}
		if m.FrigateTopicPrefix == "" {
			m.FrigateTopicPrefix = m.TopicPrefix + "/frigate"
		}
		if m.HANodeID == "" {
			m.HANodeID = haUnsafe.ReplaceAllString("vigil-"+s.Name, "_")
		}
	}
}

// HostNode is this host's name with characters other than A-Z a-z 0-9 _ .
// - as "_", or "localhost" when it cannot be read.
func HostNode() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return nodeUnsafe.ReplaceAllString(h, "_")
}

var nodeUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// haUnsafe matches what Home Assistant refuses in a node id.
var haUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// sinkFields is Sink without its YAML methods, to inline in the documents.
type sinkFields Sink

// The YAML documents of each kind: the shared keys, then the kind's.
type (
	stdoutDoc struct {
		sinkFields `yaml:",inline"`
		StdoutSink `yaml:",inline"`
	}
	fileDoc struct {
		sinkFields `yaml:",inline"`
		FileSink   `yaml:",inline"`
	}
	webhookDoc struct {
		sinkFields  `yaml:",inline"`
		WebhookSink `yaml:",inline"`
	}
	mqttDoc struct {
		sinkFields `yaml:",inline"`
		MQTTSink   `yaml:",inline"`
	}
	natsDoc struct {
		sinkFields `yaml:",inline"`
		NATSSink   `yaml:",inline"`
	}
)

// sinkDocType is the YAML document type of a sink kind, nil for an
// unknown kind (checkKeys then checks only the shared keys).
func sinkDocType(typ string) any {
	switch typ {
	case SinkStdout:
		return stdoutDoc{}
	case SinkFile:
		return fileDoc{}
	case SinkWebhook:
		return webhookDoc{}
	case SinkMQTT:
		return mqttDoc{}
	case SinkNATS:
		return natsDoc{}
	}
	return sinkFields{}
}

// UnmarshalYAML decodes a sink over the defaults of its kind.
func (s *Sink) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Type string `yaml:"type"`
	}
	if err := n.Decode(&head); err != nil {
		return err
	}
	d := DefaultSink(head.Type)
	d.Name, d.Type = "", head.Type // name derives from the type as decoded
	if m := d.MQTT; m != nil {
		m.ClientID, m.FrigateTopicPrefix, m.HANodeID = "", "", ""
	}
	var err error
	switch head.Type {
	case SinkStdout:
		doc := stdoutDoc{sinkFields(d), *d.Stdout}
		err = n.Decode(&doc)
		*s = Sink(doc.sinkFields)
		s.Stdout = &doc.StdoutSink
	case SinkFile:
		doc := fileDoc{sinkFields(d), *d.File}
		err = n.Decode(&doc)
		*s = Sink(doc.sinkFields)
		s.File = &doc.FileSink
	case SinkWebhook:
		doc := webhookDoc{sinkFields(d), *d.Webhook}
		err = n.Decode(&doc)
		*s = Sink(doc.sinkFields)
		s.Webhook = &doc.WebhookSink
	case SinkMQTT:
		doc := mqttDoc{sinkFields(d), *d.MQTT}
		err = n.Decode(&doc)
		*s = Sink(doc.sinkFields)
		s.MQTT = &doc.MQTTSink
	case SinkNATS:
		doc := natsDoc{sinkFields(d), *d.NATS}
		err = n.Decode(&doc)
		*s = Sink(doc.sinkFields)
		s.NATS = &doc.NATSSink
	default: // refused by validate, naming the type
		f := sinkFields(d)
		f.Stdout = nil
		err = n.Decode(&f)
		*s = Sink(f)
	}
	if err != nil {
		return err
	}
	s.DeriveFor("") // client_id once the node is known: Config.Derive
	return nil
}

// MarshalYAML encodes the sink as its YAML document: the shared keys and
// those of its kind only.
func (s Sink) MarshalYAML() (any, error) {
	f := sinkFields(s)
	switch {
	case s.Stdout != nil:
		return stdoutDoc{f, *s.Stdout}, nil
	case s.File != nil:
		return fileDoc{f, *s.File}, nil
	case s.Webhook != nil:
		return webhookDoc{f, *s.Webhook}, nil
	case s.MQTT != nil:
		return mqttDoc{f, *s.MQTT}, nil
	case s.NATS != nil:
		return natsDoc{f, *s.NATS}, nil
	}
	return f, nil
}

var sinkName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// validateSinks checks the sinks; errors name the key (sinks[2].url).
func validateSinks(sinks []Sink) error {
	if len(sinks) == 0 {
		return errors.New("sinks: empty (leave the key out for stdout)")
	}
	seen := map[string]int{}
	for i := range sinks {
		s := &sinks[i]
		if err := s.validate(); err != nil {
			return fmt.Errorf("sinks[%d].%w", i, err)
		}
		if j, dup := seen[s.Name]; dup {
			return fmt.Errorf("sinks[%d].name: %q is also the name of sinks[%d]", i, s.Name, j)
		}
		seen[s.Name] = i
	}
	return nil
}

// validate checks one sink; errors name the key relative to the sink.
func (s *Sink) validate() error {
	if !sinkName.MatchString(s.Name) {
		return fmt.Errorf("name: %q must be 1 to 64 of A-Z a-z 0-9 _ . -", s.Name)
	}
	switch s.Type {
	case SinkStdout, SinkFile, SinkWebhook, SinkMQTT, SinkNATS:
	case "":
		return errors.New("type: required (stdout, file, webhook, mqtt or nats)")
	default:
		return fmt.Errorf("type: %q is not stdout, file, webhook, mqtt or nats", s.Type)
	}
	kinds := 0
	for _, set := range []bool{s.Stdout != nil, s.File != nil, s.Webhook != nil, s.MQTT != nil, s.NATS != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 || sinkKindMissing(s) {
		return fmt.Errorf("type: the keys of a %s sink are missing (start from config.DefaultSink)", s.Type)
	}
	switch {
	case s.Timeout <= 0:
		return fmt.Errorf("timeout: %s is not above 0", s.Timeout)
	case s.BackoffMin <= 0 || s.BackoffMin > time.Hour:
		return fmt.Errorf("backoff_min: %s is not in (0s, 1h]", s.BackoffMin)
	case s.BackoffMax < s.BackoffMin || s.BackoffMax > time.Hour:
		return fmt.Errorf("backoff_max: %s is not in backoff_min..1h", s.BackoffMax)
	}
	switch {
	case s.File != nil:
		f := s.File
		switch {
		case f.Path == "":
			return errors.New("path: required for a file sink")
		case f.MaxBytes < 1:
			return fmt.Errorf("max_bytes: %d is not 1 or more", f.MaxBytes)
		case f.Keep < 1:
			return fmt.Errorf("keep: %d is not 1 or more", f.Keep)
		}
	case s.Webhook != nil:
		w := s.Webhook
		if err := checkSinkURL(w.URL, s.Type, "http", "https"); err != nil {
			return err
		}
		if w.Secret != "" {
			if _, err := WebhookSecret(w.Secret); err != nil {
				return fmt.Errorf("secret: %w", err)
			}
		}
		if w.Mode != WebhookStructured && w.Mode != WebhookBinary {
			return fmt.Errorf("mode: %q is not structured or binary", w.Mode)
		}
	case s.MQTT != nil:
		m := s.MQTT
		if err := checkSinkURL(m.URL, s.Type, "tcp", "ssl", "tls", "mqtt", "mqtts", "ws", "wss"); err != nil {
			return err
		}
		if m.HANodeID == "" || haUnsafe.MatchString(m.HANodeID) {
			return fmt.Errorf("ha_node_id: %q must be 1 or more of A-Z a-z 0-9 _ -", m.HANodeID)
		}
		for _, kv := range []struct{ key, v string }{{"topic_prefix", m.TopicPrefix}, {"frigate_topic_prefix", m.FrigateTopicPrefix}, {"ha_discovery_prefix", m.HADiscoveryPrefix}} {
			if strings.ContainsAny(kv.v, "#+") || strings.HasSuffix(kv.v, "/") {
				return fmt.Errorf("%s: %q must not hold MQTT wildcards (# +) or end with /", kv.key, kv.v)
			}
		}
	case s.NATS != nil:
		n := s.NATS
		if err := checkSinkURL(n.URL, s.Type, "nats", "tls"); err != nil {
			return err
		}
		switch {
		case n.MaxAge < NATSDuplicates:
			return fmt.Errorf("max_age: %v is shorter than the %v deduplication window", n.MaxAge, NATSDuplicates)
		case n.MaxBytes < 1:
			return fmt.Errorf("max_bytes: %d is not 1 or more", n.MaxBytes)
		case n.SubjectPrefix == "":
			return errors.New("subject_prefix: required")
		case n.Stream == "":
			return errors.New("stream: required")
		}
	}
	return nil
}

// sinkKindMissing reports whether the pointer of s.Type is nil.
func sinkKindMissing(s *Sink) bool {
	switch s.Type {
	case SinkStdout:
		return s.Stdout == nil
	case SinkFile:
		return s.File == nil
	case SinkWebhook:
		return s.Webhook == nil
	case SinkMQTT:
		return s.MQTT == nil
	case SinkNATS:
		return s.NATS == nil
	}
	return true
}

// checkSinkURL checks a sink's url key: required, of one of the schemes,
// with a host. The error shows the URL without its credentials.
func checkSinkURL(raw, typ string, schemes ...string) error {
	if raw == "" {
		return fmt.Errorf("url: required for a %s sink", typ)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url: %s cannot be parsed", redact.URL(raw))
	}
	for _, sc := range schemes {
		if u.Scheme == sc && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("url: %s is not a %s URL (%s)", redact.URL(raw), typ, strings.Join(schemes, ", "))
}

// WebhookSecret decodes a Standard Webhooks secret: "whsec_" + the base64
// of at least 16 bytes.
func WebhookSecret(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New(`must start with "whsec_" followed by base64`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < 16 {
		return nil, errors.New(`must be "whsec_" followed by the base64 of at least 16 bytes`)
	}
	return key, nil
}
