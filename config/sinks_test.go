package config

import (
	"strings"
	"testing"
	"time"
)

// TestSinkKeys: each sink kind decodes over its own defaults and knows
// only its keys; bad values are refused naming the key, and no error shows
// a URL's credentials.
func TestSinkKeys(t *testing.T) {
	const pw, token = "pa55word", "t0k3n"
	for _, c := range []struct {
		name, sink string
		want       string // "" for valid
	}{
		{"webhook_binary", "{type: webhook, url: 'http://h/', mode: binary}", ""},
		{"webhook_mode", "{type: webhook, url: 'http://h/', mode: batch}", `sinks[0].mode: "batch" is not structured or binary`},
		{"mode_on_mqtt", "{type: mqtt, url: 'tcp://h:1883', mode: binary}", "sinks[0].mode: unknown key (line 1)"},
		{"topic_on_webhook", "{type: webhook, url: 'http://h/', topic_prefix: x}", "sinks[0].topic_prefix: unknown key (line 1)"},
		{"nats_max_age", "{type: nats, url: 'nats://h:4222', max_age: 1m}", "sinks[0].max_age: 1m0s is shorter than the 10m0s deduplication window"},
		{"nats_max_age_negative", "{type: nats, url: 'nats://h:4222', max_age: -1h}", "sinks[0].max_age"},
		{"nats_max_bytes", "{type: nats, url: 'nats://h:4222', max_bytes: -1}", "sinks[0].max_bytes"},
		{"nats_limits", "{type: nats, url: 'nats://h:4222', max_age: 1h, max_bytes: 1048576}", ""},
		{"file_path", "{type: file}", "sinks[0].path: required for a file sink"},
		{"timeout_zero", "{type: stdout, timeout: 0s}", "sinks[0].timeout"},
		{"unknown_type", "{type: kafka}", `sinks[0].type: "kafka" is not stdout, file, webhook, mqtt or nats`},
		{"mqtt_wildcard", "{type: mqtt, url: 'tcp://h:1883', topic_prefix: 'a/#'}", "sinks[0].topic_prefix"},
		{"secret", "{type: webhook, url: 'http://h/', secret: nope}", "sinks[0].secret"},
		{"mqtt_url", "{type: mqtt, url: 'http://alice:" + pw + "@broker:1883?token=" + token + "'}", "sinks[0].url"},
		{"nats_url", "{type: nats, url: 'nats://alice:" + pw + "@nats:port?token=" + token + "'}", "sinks[0].url"},
		{"webhook_url", "{type: webhook, url: 'ftp://alice:" + pw + "@h/?sig=" + token + "'}", "sinks[0].url"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte("sinks: [" + c.sink + "]\ncameras: [{id: cam, url: 'rtsp://127.0.0.1/x'}]\n"))
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want %q", err, c.want)
			case err != nil && (strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), token)):
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

// TestSinkDefaults: what a sink given only its type and address runs
// with, and the keys that follow others.
func TestSinkDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
sinks:
  - {type: file, path: /tmp/x.jsonl}
  - {type: webhook, url: 'http://h/'}
  - {name: broker, type: mqtt, url: 'tcp://h:1883', topic_prefix: site, backoff_min: 1m}
  - {type: nats, url: 'nats://h:4222'}
cameras: [{id: cam, url: 'rtsp://127.0.0.1/x'}]
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sinks
	if f := s[0].File; f == nil || f.MaxBytes != 100<<20 || f.Keep != 5 || s[0].Name != "file" || s[0].Timeout != 5*time.Second {
		t.Errorf("file sink %+v %+v", s[0], f)
	}
	if w := s[1].Webhook; w == nil || w.Mode != WebhookStructured || s[1].MQTT != nil {
		t.Errorf("webhook sink %+v", s[1])
	}
	if m := s[2].MQTT; m == nil || m.ClientID != "vigil-broker-"+HostNode() || m.FrigateTopicPrefix != "site/frigate" || m.HANodeID != "vigil-broker" ||
		m.HADiscoveryPrefix != "homeassistant" || s[2].BackoffMax != time.Minute {
		t.Errorf("mqtt sink %+v %+v", s[2], m)
	}
	if n := s[3].NATS; n == nil || n.MaxAge != 168*time.Hour || n.MaxBytes != 1<<30 || n.Stream != "VIGIL_INCIDENTS" || n.SubjectPrefix != "vigil.incidents" {
		t.Errorf("nats sink %+v %+v", s[3], n)
	}
}

// TestMQTTClientIDPerNode: the default client_id ends with the node (in a
// cluster cluster.node_id, else the host name), so that engines sharing a
// file never share it; an explicit client_id is kept; ha_node_id is the
// same on every node and does not follow client_id.
func TestMQTTClientIDPerNode(t *testing.T) {
	for _, c := range []struct{ doc, clientID, haNodeID string }{
		{"sinks: [{type: mqtt, url: 'tcp://h:1883'}]\n", "vigil-mqtt-" + HostNode(), "vigil-mqtt"},
		{"cluster: {nats_url: 'nats://h:4222', node_id: pod-0}\nsinks: [{type: mqtt, url: 'tcp://h:1883'}]\n", "vigil-mqtt-pod-0", "vigil-mqtt"},
		// The cluster section after the sinks: the same.
		{"sinks: [{name: b.1, type: mqtt, url: 'tcp://h:1883'}]\ncluster: {nats_url: 'nats://h:4222', node_id: pod-1}\n", "vigil-b.1-pod-1", "vigil-b_1"},
		{"cluster: {nats_url: 'nats://h:4222', node_id: pod-0}\nsinks: [{type: mqtt, url: 'tcp://h:1883', client_id: mine}]\n", "mine", "vigil-mqtt"},
	} {
		cfg, err := Parse([]byte(c.doc + "cameras: [{id: cam, url: 'rtsp://127.0.0.1/x'}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if m := cfg.Sinks[0].MQTT; m.ClientID != c.clientID || m.HANodeID != c.haNodeID {
			t.Errorf("%s: client_id %q ha_node_id %q, want %q and %q", c.doc, m.ClientID, m.HANodeID, c.clientID, c.haNodeID)
		}
	}
	if h := HostNode(); h == "" || nodeUnsafe.MatchString(h) {
		t.Errorf("HostNode() = %q", h)
	}
}

// TestOutboxKeys: bad outbox keys are refused, naming the key.
func TestOutboxKeys(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"{max_bytes: -1}", "outbox.max_bytes"},
		{"{on_damage: ignore}", "outbox.on_damage"},
		{"{max_lag: 1ms}", "outbox.max_lag"},
		{"{max_lag: 48h}", "outbox.max_lag"},
		{"{path: ''}", "outbox.path"},
		{"{on_damage: refuse, max_lag: 1m}", ""},
	} {
		_, err := Parse([]byte("outbox: " + c.yaml + "\ncameras: [{id: cam, url: 'rtsp://127.0.0.1/x'}]\n"))
		if c.key == "" && err != nil || c.key != "" && (err == nil || !strings.HasPrefix(err.Error(), c.key+":")) {
			t.Errorf("%s: %v, want an error naming %q", c.yaml, err, c.key)
		}
	}
}
