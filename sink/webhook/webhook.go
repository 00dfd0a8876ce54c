// Package webhook is the webhook sink: CloudEvents over HTTP POST, signed
// following the Standard Webhooks convention (Sign, Verify).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/redact"
	"github.com/vigil-video/vigil/sink"
)

// Webhook content modes (config.WebhookSink.Mode), as the CloudEvents HTTP
// protocol binding names them.
const (
	// ModeStructured POSTs the whole event as application/cloudevents+json.
	ModeStructured = config.WebhookStructured
	// ModeBinary POSTs the data alone as application/json, the event's
	// attributes in ce-* headers.
	ModeBinary = config.WebhookBinary
)

// Sink POSTs each event in the CloudEvents HTTP binding's structured
// or binary content mode.
type Sink struct {
	cfg    config.WebhookSink
	secret []byte
	client *http.Client
}

// New returns a webhook sink for cfg.URL; it sends nothing yet.
func New(c sink.Common, cfg config.WebhookSink) (*Sink, error) {
	s := &Sink{cfg: cfg, client: &http.Client{Timeout: c.Timeout}}
	if cfg.Secret != "" {
		key, err := config.WebhookSecret(cfg.Secret)
		if err != nil {
			return nil, err
		}
		s.secret = key
	}
	return s, nil
}

func (s *Sink) Deliver(ctx context.Context, js []byte, ev *incident.Event) error {
	body, contentType := js, "application/cloudevents+json"
	if s.cfg.Mode == ModeBinary {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(js, &env); err != nil || len(env.Data) == 0 {
			return sink.Permanent(fmt.Errorf("event %s: no data to send in binary mode", ev.ID))
		}
		body, contentType = env.Data, ev.DataContentType
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return sink.Permanent(fmt.Errorf("webhook request: %s", redact.URL(s.cfg.URL)))
	}
	req.Header.Set("Content-Type", contentType)
	if s.cfg.Mode == ModeBinary {
		setBinaryHeaders(req.Header, ev)
	}
	for k, v := range s.cfg.Headers {
		req.Header.Set(k, v)
	}
	if s.cfg.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.BearerToken)
	}
	if s.secret != nil {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("webhook-id", ev.ID)
		req.Header.Set("webhook-timestamp", ts)
		req.Header.Set("webhook-signature", "v1,"+Sign(s.secret, ev.ID, ts, body))
	}
	res, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error text would repeat the URL
		}
		return fmt.Errorf("post to %s: %w", redact.URL(s.cfg.URL), err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) //nolint:errcheck // draining for reuse
	res.Body.Close()
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode == 408 || res.StatusCode == 429 || res.StatusCode >= 500:
		return fmt.Errorf("post to %s: %s", redact.URL(s.cfg.URL), res.Status)
	}
	return sink.Permanent(fmt.Errorf("post to %s: %s (not retried)", redact.URL(s.cfg.URL), res.Status))
}

// setBinaryHeaders maps the event's attributes to ce-* headers, as the
// CloudEvents HTTP binding's binary mode does (datacontenttype travels as
// Content-Type).
func setBinaryHeaders(h http.Header, ev *incident.Event) {
	set := func(name, v string) {
		if v != "" {
			h.Set("ce-"+name, ceHeaderValue(v))
		}
	}
	set("specversion", ev.SpecVersion)
	set("id", ev.ID)
	set("source", ev.Source)
	set("type", ev.Type)
	set("subject", ev.Subject)
	set("time", ev.Time.UTC().Format(time.RFC3339Nano))
	set("dataschema", ev.DataSchema)
}

// ceHeaderValue percent-encodes what the HTTP binding requires of a header
// value: space, double quote, percent and every byte outside printable
// ASCII.
func ceHeaderValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c > '~' || c == '"' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// Sign returns the base64 HMAC-SHA256 of "id.timestamp.body" under key:
// the v1 signature of the Standard Webhooks convention.
func Sign(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks a Standard Webhooks request: the webhook-signature header
// must hold a v1 signature of "id.timestamp.body" under secret ("whsec_"
// + base64), and the timestamp must be within tolerance of now. body is
// the request body as received: the whole event in structured mode, the
// data in binary mode.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := config.WebhookSecret(secret)
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil {
		return errors.New("missing webhook-id or webhook-timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook-timestamp outside the tolerance")
	}
	want := Sign(key, id, ts, body)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if v, ok := strings.CutPrefix(sig, "v1,"); ok && hmac.Equal([]byte(v), []byte(want)) {
			return nil
		}
	}
	return errors.New("no valid signature")
}
