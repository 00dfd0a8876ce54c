package delivery

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink/webhook"
)

// received is one webhook request, decoded two ways: by the CloudEvents Go
// SDK (the reference implementation of the HTTP binding) and by hand from
// the raw headers and body.
type received struct {
	encoding binding.Encoding
	header   http.Header
	body     []byte
	sdkID    string
	sdkAttrs map[string]string
	sdkData  []byte
	sigErr   error
}

// TestWebhookContentModes: the webhook delivers in the CloudEvents HTTP
// binding's structured mode by default and in binary mode on request; a
// real HTTP server decodes each request with the CloudEvents SDK and
// checks the raw form the binding prescribes; the Standard Webhooks
// signature covers the body as sent in both modes.
func TestWebhookContentModes(t *testing.T) {
	for _, mode := range []string{"", webhook.ModeStructured, webhook.ModeBinary} {
		name := mode
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var got []received
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				rc := received{header: r.Header.Clone(), body: body, sigErr: webhook.Verify(testSecret, r.Header, body, time.Now(), time.Minute)}
				r.Body = io.NopCloser(strings.NewReader(string(body)))
				rc.encoding = cehttp.NewMessageFromHttpRequest(r).ReadEncoding()
				r.Body = io.NopCloser(strings.NewReader(string(body)))
				ce, err := cehttp.NewEventFromHTTPRequest(r)
				if err != nil {
					http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
					return
				}
				if err := ce.Validate(); err != nil {
					http.Error(w, "invalid CloudEvent: "+err.Error(), http.StatusBadRequest)
					return
				}
				rc.sdkID = ce.ID()
				rc.sdkAttrs = map[string]string{"specversion": ce.SpecVersion(), "source": ce.Source(), "type": ce.Type(),
					"subject": ce.Subject(), "time": ce.Time().UTC().Format(time.RFC3339Nano), "datacontenttype": ce.DataContentType(),
					"dataschema": ce.DataSchema()}
				rc.sdkData = ce.Data()
				mu.Lock()
				got = append(got, rc)
				mu.Unlock()
				w.WriteHeader(http.StatusAccepted)
			}))
			defer srv.Close()
			d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(t.TempDir(), "outbox.db")}, Sinks: []config.Sink{
				testkit.Sink(config.SinkWebhook, "hook", srv.URL, func(s *config.Sink) {
					if mode != "" { // else the default
						s.Webhook.Mode = mode
					}
					s.Webhook.Secret, s.BackoffMin = testSecret, 20*time.Millisecond
				}),
			}}, io.Discard, testLog(t))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var evs []incident.Event
			for _, ev := range incidenttest.EveryKind() {
				if ev.Data.Kind == "loitering" || ev.Data.Kind == "tamper" && ev.Data.Cause == "moved" {
					evs = append(evs, ev)
				}
			}
			publishAll(t, d, evs)
			failed := func() float64 { return counterValue(d.m.failed.WithLabelValues("hook")) }
			await.Until(t, 20*time.Second, "every event", func() bool { return deliveredCount(d, "hook")+failed() >= float64(len(evs)) })
			if f := failed(); f != 0 {
				t.Fatalf("%g events refused by the receiver (not read as CloudEvents)", f)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != len(evs) {
				t.Fatalf("%d requests, want %d", len(got), len(evs))
			}
			for i, rc := range got {
				ev := evs[i]
				if rc.sigErr != nil {
					t.Errorf("event %d: signature: %v", i, rc.sigErr)
				}
				// The SDK reads the same event either way.
				want := map[string]string{"specversion": "1.0", "source": ev.Source, "type": ev.Type, "subject": ev.Subject,
					"time": ev.Time.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json", "dataschema": incident.DataSchema}
				if rc.sdkID != ev.ID || !reflect.DeepEqual(rc.sdkAttrs, want) {
					t.Errorf("event %d: the SDK read id %s %v, want %s %v", i, rc.sdkID, rc.sdkAttrs, ev.ID, want)
				}
				var data incident.Incident
				if err := json.Unmarshal(rc.sdkData, &data); err != nil {
					t.Fatalf("event %d: data: %v", i, err)
				}
				if !reflect.DeepEqual(data, roundTrip(t, ev.Data)) {
					t.Errorf("event %d: data %+v, want %+v", i, data, ev.Data)
				}
				// The raw request, as the binding prescribes for the mode.
				ceHeaders := 0
				for k := range rc.header {
					if strings.HasPrefix(strings.ToLower(k), "ce-") {
						ceHeaders++
					}
				}
				switch mode {
				case webhook.ModeBinary:
					if rc.encoding != binding.EncodingBinary {
						t.Errorf("event %d: the SDK sees %v, want binary", i, rc.encoding)
					}
					if ct := rc.header.Get("Content-Type"); ct != "application/json" {
						t.Errorf("event %d: Content-Type %q, want application/json (the datacontenttype)", i, ct)
					}
					for k, v := range map[string]string{"ce-specversion": "1.0", "ce-id": ev.ID, "ce-source": ev.Source, "ce-type": ev.Type,
						"ce-subject": ev.Subject, "ce-dataschema": incident.DataSchema} {
						if rc.header.Get(k) != v {
							t.Errorf("event %d: %s %q, want %q", i, k, rc.header.Get(k), v)
						}
					}
					if tm, err := time.Parse(time.RFC3339Nano, rc.header.Get("ce-time")); err != nil || !tm.Equal(ev.Time) {
						t.Errorf("event %d: ce-time %q, want %s", i, rc.header.Get("ce-time"), ev.Time)
					}
					if rc.header.Get("ce-datacontenttype") != "" {
						t.Errorf("event %d: datacontenttype must travel as Content-Type, not ce-datacontenttype", i)
					}
					var body incident.Incident
					if err := json.Unmarshal(rc.body, &body); err != nil || body.IncidentID != ev.Data.IncidentID {
						t.Errorf("event %d: the body is not the data alone: %s", i, rc.body)
					}
					if strings.Contains(string(rc.body), `"specversion"`) {
						t.Errorf("event %d: the body carries the envelope in binary mode", i)
					}
				default:
					if rc.encoding != binding.EncodingStructured {
						t.Errorf("event %d: the SDK sees %v, want structured", i, rc.encoding)
					}
					if ct := rc.header.Get("Content-Type"); ct != "application/cloudevents+json" {
						t.Errorf("event %d: Content-Type %q", i, ct)
					}
					if ceHeaders != 0 {
						t.Errorf("event %d: %d ce-* headers in structured mode", i, ceHeaders)
					}
					var whole incident.Event
					if err := json.Unmarshal(rc.body, &whole); err != nil || whole.ID != ev.ID {
						t.Errorf("event %d: the body is not the whole event: %s", i, rc.body)
					}
				}
			}
		})
	}
}

// roundTrip returns v as a JSON consumer reads it back (times in UTC,
// nil slices as sent).
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
