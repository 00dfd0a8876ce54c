package config

import (
	"bytes"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestShowMasksSecrets: the effective configuration is shown with its
// defaults and without any credential, and it parses back.
func TestShowMasksSecrets(t *testing.T) {
	cfg, err := Parse([]byte(`
cameras:
  - id: gate
    url: rtsp://admin:hunter2@10.0.0.1/stream?token=t0k3n&channel=1
    password: s3cret-pass
sinks:
  - type: webhook
    url: https://ioc.example/hook?access_token=abc123
    bearer_token: b34rer
    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
    headers: {X-Api-Key: k3y-value}
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Show(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, secret := range []string{"hunter2", "admin", "t0k3n", "s3cret-pass", "abc123", "b34rer", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "k3y-value"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q shown:\n%s", secret, s)
		}
	}
	for _, want := range []string{"analysis_fps: 5", "channel=1", "id: gate", "listen: 127.0.0.1:9108"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q missing:\n%s", want, s)
		}
	}
}

// TestShowSplicesCameras: Show, which encodes the cameras one at a time,
// prints the same text as encoding the whole configuration at once (with
// a cluster after the cameras, and with no camera).
func TestShowSplicesCameras(t *testing.T) {
	for _, doc := range [][]byte{cityConfig(50),
		append([]byte("cluster: {nats_url: 'nats://u:pw@127.0.0.1:4222', node_id: vigil-0}\n"), cityConfig(3)...),
		[]byte("cluster: {nats_url: nats://h:4222, node_id: n}\ncameras: []\n")} {
		cfg, err := Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Show(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var whole yaml.Node
		if err := whole.Encode(cfg); err != nil {
			t.Fatal(err)
		}
		mask(&whole, false)
		want, err := yaml.Marshal(&whole)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Show differs from the whole document:\n%s\n---- want\n%s", got, want)
		}
	}
}
