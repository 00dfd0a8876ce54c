package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestMQTTBrokerRestartLosesNothing: the broker goes away while incidents
// are produced and comes back; a QoS 1 subscriber gets every event, in order
// per camera, and the availability topic is retained "online".
func TestMQTTBrokerRestartLosesNothing(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	broker := testkit.StartMosquitto(t, port, dir)
	url := fmt.Sprintf("tcp://127.0.0.1:%d", port)

	rec := newReceiver()
	var topicsMu sync.Mutex
	topics := map[string]int{}
	subOpts := mqtt.NewClientOptions().AddBroker(url).SetClientID("test-subscriber").SetCleanSession(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetMaxReconnectInterval(time.Second).SetOrderMatters(true)
	onMessage := func(_ mqtt.Client, m mqtt.Message) {
		topicsMu.Lock()
		topics[m.Topic()]++
		topicsMu.Unlock()
		if m.Topic() == "site/events" {
			var ev incident.Event
			if json.Unmarshal(m.Payload(), &ev) == nil {
				rec.add(ev)
			}
		}
	}
	// The session's queued messages can arrive before Subscribe registers
	// its route again: the default handler takes them.
	subOpts.SetDefaultPublishHandler(onMessage)
	subOpts.SetOnConnectHandler(func(c mqtt.Client) { c.Subscribe("site/#", 1, onMessage) })
	sub := mqtt.NewClient(subOpts)
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	defer sub.Disconnect(100)

	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(dir, "outbox.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkMQTT, "mqtt", url, testkit.Backoff(50*time.Millisecond, 500*time.Millisecond), func(s *config.Sink) {
			s.MQTT.TopicPrefix, s.MQTT.FrigateCompat, s.Timeout = "site", true, time.Second
		}),
	}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	evs := incidenttest.Events(30)
	publishAll(t, d, evs[:10])
	await.Until(t, 20*time.Second, "the first events", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.ids) >= 10 })

	// The outage must be seen: deliveries fail and are retried while the
	// broker is away.
	retried := testutil.ToFloat64(d.m.retried.WithLabelValues("mqtt"))
	broker.Stop()
	publishAll(t, d, evs[10:])
	await.Until(t, 20*time.Second, "deliveries to fail and be retried during the outage", func() bool {
		return testutil.ToFloat64(d.m.retried.WithLabelValues("mqtt")) >= retried+2
	})
	if n := deliveredCount(d, "mqtt"); n >= 30 {
		t.Fatalf("%g events delivered with the broker down", n)
	}
	broker = testkit.StartMosquitto(t, port, dir)
	defer broker.Stop()
	rec.check(t, evs, 30*time.Second)

	topicsMu.Lock()
	defer topicsMu.Unlock()
	for _, want := range []string{"site/cam0/motion", "site/frigate/cam0/motion", "site/frigate/available", "site/available"} {
		if topics[want] == 0 {
			t.Errorf("nothing on %s (topics: %v)", want, topics)
		}
	}
	// A new subscriber gets the retained availability "online". The sink's
	// announcer publishes it after the reconnect, beside the deliveries and
	// not before them, so the last events can land before it: wait for it.
	attempt := 0
	retained := func() string {
		attempt++
		got := make(chan string, 1)
		late := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("late-%d", attempt)))
		if tok := late.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		defer late.Disconnect(100)
		late.Subscribe("site/available", 1, func(_ mqtt.Client, m mqtt.Message) {
			select {
			case got <- string(m.Payload()):
			default:
			}
		})
		select {
		case v := <-got:
			return v
		case <-time.After(2 * time.Second):
			return "(none)"
		}
	}
	await.Until(t, 20*time.Second, "the retained availability to be online", func() bool { return retained() == "online" })
}

// TestNATSRestartLosesNothing: JetStream goes away mid-run and comes back
// on the same port and store: every event lands in the stream exactly once
// (Nats-Msg-Id deduplicates redeliveries).
func TestNATSRestartLosesNothing(t *testing.T) {
	dir := t.TempDir()
	port := testkit.FreePort(t)
	srv := testkit.StartNATS(t, port, filepath.Join(dir, "js"))
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	d, err := testOpen(Config{Outbox: OutboxConfig{Path: filepath.Join(dir, "outbox.db")}, Sinks: []config.Sink{
		testkit.Sink(config.SinkNATS, "js", url, testkit.Backoff(50*time.Millisecond, 500*time.Millisecond), func(s *config.Sink) {
			s.NATS.CreateStream, s.Timeout = true, time.Second
		}),
	}}, io.Discard, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	evs := incidenttest.Events(30)
	publishAll(t, d, evs[:10])
	await.Until(t, 20*time.Second, "the first events", func() bool { return deliveredCount(d, "js") >= 10 })
	retried := testutil.ToFloat64(d.m.retried.WithLabelValues("js"))
	srv.Shutdown()
	srv.WaitForShutdown()
	publishAll(t, d, evs[10:])
	await.Until(t, 20*time.Second, "deliveries to fail and be retried during the outage", func() bool {
		return testutil.ToFloat64(d.m.retried.WithLabelValues("js")) >= retried+2
	})
	if n := deliveredCount(d, "js"); n >= 30 {
		t.Fatalf("%g events delivered with the server down", n)
	}
	srv = testkit.StartNATS(t, port, filepath.Join(dir, "js"))
	defer srv.Shutdown()
	await.Until(t, 20*time.Second, "every event delivered", func() bool { return deliveredCount(d, "js") >= 30 })

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "VIGIL_INCIDENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 30 {
		t.Fatalf("stream holds %d messages, want exactly 30", info.State.Msgs)
	}
	rec := newReceiver()
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		var ev incident.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("Nats-Msg-Id") != ev.ID {
			t.Errorf("Nats-Msg-Id %q, event id %q", m.Header.Get("Nats-Msg-Id"), ev.ID)
		}
		rec.add(ev)
	}
	rec.check(t, evs, time.Second)
}

func deliveredCount(d *Delivery, sink string) float64 {
	return counterValue(d.m.delivered.WithLabelValues(sink))
}

func counterValue(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil || m.Counter == nil {
		return 0
	}
	return m.Counter.GetValue()
}
