package config

import (
	"strings"
	"testing"
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
