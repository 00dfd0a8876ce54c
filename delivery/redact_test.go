package delivery

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestSinkURLSecretsNeverLogged: a webhook whose URL holds user info and an
// access token fails and is retried; neither secret is in any log line or
// error, and the log still says which URL failed. Configuration errors of
// MQTT and NATS URLs hide them too.
func TestSinkURLSecretsNeverLogged(t *testing.T) {
	const token, pw = "tok-9f8e7d6c", "pw-5a4b3c2d"
	hook := fmt.Sprintf("http://alice:%s@127.0.0.1:%d/hook?access_token=%s&team=ops", pw, testkit.FreePort(t), token)
	var logs testkit.SyncBuffer
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "o.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkWebhook, "hook", hook, testkit.Backoff(10*time.Millisecond, 20*time.Millisecond)),
	}}, io.Discard, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	publishAll(t, d, incidenttest.Events(2))
	await.Until(t, 20*time.Second, "retries", func() bool { return testutil.ToFloat64(d.m.retried.WithLabelValues("hook")) >= 3 })
	closeErr := d.Close()
	out := logs.String()
	if closeErr != nil {
		out += closeErr.Error()
	}
	for _, secret := range []string{token, pw, "alice"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q appears in the logs:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "access_token=REDACTED") {
		t.Errorf("the failing URL is not named (redacted) in the logs:\n%s", out)
	}

}
