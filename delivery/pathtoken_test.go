package delivery

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// TestWebhookPathTokensNeverLogged: webhooks that carry their token in the
// URL path (Slack's /services/T/B/TOKEN, Discord's /api/webhooks/ID/TOKEN)
// fail, one with a 500 from a real server, one refused; the delivery logs
// (the real JSON handler) name the host and the first path element, never
// the tokens.
func TestWebhookPathTokensNeverLogged(t *testing.T) {
	const slackTok, discordTok = "aBcDeFgHiJkLmNoPqRsTuVwX", "Ab-Cd_Ef12Gh34Ij56Kl78Mn90Op12Qr34St56Uv78Wx90Yz12"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	slack := srv.URL + "/services/T0123ABCD/B0456EFGH/" + slackTok
	discord := fmt.Sprintf("http://127.0.0.1:%d/api/webhooks/1234567890123456789/%s", testkit.FreePort(t), discordTok)
	var logs testkit.SyncBuffer
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "o.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkWebhook, "slack", slack, testkit.Backoff(10*time.Millisecond, 20*time.Millisecond)),
		testkit.Sink(config.SinkWebhook, "discord", discord, testkit.Backoff(10*time.Millisecond, 20*time.Millisecond)),
	}}, io.Discard, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	publishAll(t, d, incidenttest.Events(2))
	await.Until(t, 20*time.Second, "retries", func() bool {
		return testutil.ToFloat64(d.m.retried.WithLabelValues("slack")) >= 3 && testutil.ToFloat64(d.m.retried.WithLabelValues("discord")) >= 3
	})
	closeErr := d.Close()
	out := logs.String()
	if closeErr != nil {
		out += closeErr.Error()
	}
	for _, secret := range []string{slackTok, discordTok, "B0456EFGH", "1234567890123456789"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q appears in the logs:\n%s", secret, out)
		}
	}
	for _, named := range []string{strings.TrimPrefix(srv.URL, "http://") + "/services/REDACTED/REDACTED/REDACTED", "/api/webhooks/REDACTED/REDACTED"} {
		if !strings.Contains(out, named) {
			t.Errorf("the failing URL is not named (redacted) as %q in the logs:\n%s", named, out)
		}
	}
}
