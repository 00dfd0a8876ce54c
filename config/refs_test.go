package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretReferences: secrets come from the environment or from files,
// never inline; a missing one is an error naming the key, not the value.
func TestSecretReferences(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIL_TEST_CAM_PASS", "hunter2")
	t.Setenv("VIGIL_TEST_WORKERS", "3")
	cfg, err := Parse([]byte(`
workers: ${env:VIGIL_TEST_WORKERS}
cameras:
  - id: gate
    url: rtsp://10.0.0.1/stream
    username: viewer
    password: ${env:VIGIL_TEST_CAM_PASS}
sinks:
  - type: webhook
    url: https://ioc.example/hook
    secret: ${file:` + secretFile + `}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cameras[0].Password != "hunter2" || cfg.Workers != 3 || cfg.Sinks[0].Webhook.Secret != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" {
		t.Fatalf("references not resolved: password %q workers %d secret %q", cfg.Cameras[0].Password, cfg.Workers, cfg.Sinks[0].Webhook.Secret)
	}
	for _, tc := range []struct{ doc, want string }{
		{"cameras:\n  - {id: a, url: 'rtsp://h/x', password: '${env:VIGIL_TEST_UNSET_VAR}'}\n", "cameras[0].password: environment variable VIGIL_TEST_UNSET_VAR is not set"},
		{"cameras:\n  - {id: a, url: 'rtsp://h/x', password: '${file:" + filepath.Join(dir, "missing") + "}'}\n", "cameras[0].password: secret file"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}
