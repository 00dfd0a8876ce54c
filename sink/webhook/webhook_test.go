package webhook

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestWebhookSignature(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	key, _ := config.WebhookSecret(testSecret)
	h := http.Header{}
	ts := fmt.Sprint(time.Now().Unix())
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", "v1,"+Sign(key, "msg_1", ts, body))
	if err := Verify(testSecret, h, body, time.Now(), time.Minute); err != nil {
		t.Fatalf("valid signature rejected: %v", err)
	}
	if err := Verify("whsec_"+strings.Repeat("QUJD", 8), h, body, time.Now(), time.Minute); err == nil {
		t.Fatal("signature verified with the wrong secret")
	}
	if err := Verify(testSecret, h, []byte(`{"id":"y"}`), time.Now(), time.Minute); err == nil {
		t.Fatal("signature verified over a changed body")
	}
	if err := Verify(testSecret, h, body, time.Now().Add(time.Hour), time.Minute); err == nil {
		t.Fatal("stale timestamp accepted")
	}
}

func TestCEHeaderValuePercentEncodes(t *testing.T) {
	for in, want := range map[string]string{
		"/cameras/north-gate":     "/cameras/north-gate",
		"a b":                     "a%20b",
		`say "hi"`:                "say%20%22hi%22",
		"100%":                    "100%25",
		"caméra":                  "cam%C3%A9ra",
		"tab\there":               "tab%09here",
		"2026-11-22T21:04:05.12Z": "2026-11-22T21:04:05.12Z",
	} {
		if got := ceHeaderValue(in); got != want {
			t.Errorf("ceHeaderValue(%q) = %q, want %q", in, got, want)
		}
	}
}
