package event

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-video/vigil/redact"
)

// mqttSink publishes each event with QoS 1 to <prefix>/events and
// <prefix>/<camera>/<kind>; <prefix>/available is a retained "online",
// replaced by the broker with the last-will "offline" if vigil goes away.
type mqttSink struct {
	cfg    SinkConfig
	client mqtt.Client
	// announce is set on every (re)connect: the next delivery first
	// publishes the retained "online". (Publishing from the connect handler
	// races with paho's resume of stored packets.)
	announce atomic.Bool
}

func newMQTTSink(cfg SinkConfig) (*mqttSink, error) {
	avail := cfg.TopicPrefix + "/available"
	o := mqtt.NewClientOptions().AddBroker(cfg.URL).SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).SetPassword(cfg.Password).
		// The outbox, not paho's in-memory store, redelivers after a
		// reconnect: a clean session keeps paho from resending on its own
		// (and avoids a data race in its resume path).
		SetCleanSession(true).SetOrderMatters(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10*time.Second).SetConnectTimeout(cfg.Timeout).SetWriteTimeout(cfg.Timeout).
		SetWill(avail, "offline", 1, true)
	s := &mqttSink{cfg: cfg}
	o.SetOnConnectHandler(func(mqtt.Client) { s.announce.Store(true) })
	s.client = mqtt.NewClient(o)
	s.client.Connect() // retries in the background; deliver waits for it
	go func() {
		// Announce availability as soon as the first connection is up, even
		// before the first event.
		for range 100 {
			if s.client.IsConnectionOpen() {
				if s.announce.Swap(false) {
					s.client.Publish(avail, 1, true, "online")
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return s, nil
}

func (s *mqttSink) publish(ctx context.Context, topic string, payload []byte) error {
	if !s.client.IsConnectionOpen() {
		return fmt.Errorf("mqtt %s: not connected", redact.URL(s.cfg.URL))
	}
	t := s.client.Publish(topic, 1, false, payload)
	select {
	case <-t.Done():
		if err := t.Error(); err != nil {
			return fmt.Errorf("mqtt publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.cfg.Timeout):
		return fmt.Errorf("mqtt publish %s: no acknowledgement within %s", topic, s.cfg.Timeout)
	}
}

func (s *mqttSink) deliver(ctx context.Context, r record, ev *Event) error {
	p := s.cfg.TopicPrefix
	if s.announce.Swap(false) {
		t := s.client.Publish(p+"/available", 1, true, "online")
		if !t.WaitTimeout(s.cfg.Timeout) || t.Error() != nil {
			s.announce.Store(true)
		}
	}
	if err := s.publish(ctx, p+"/events", r.json); err != nil {
		return err
	}
	if err := s.publish(ctx, p+"/"+ev.Data.Camera+"/"+ev.Data.Kind, r.json); err != nil {
		return err
	}
	if s.cfg.FrigateCompat {
		b, err := json.Marshal(frigateEvent(ev))
		if err != nil {
			return permanentError{err}
		}
		return s.publish(ctx, p+"/frigate/events", b)
	}
	return nil
}

func (s *mqttSink) close() error {
	if s.client.IsConnectionOpen() {
		t := s.client.Publish(s.cfg.TopicPrefix+"/available", 1, true, "offline")
		t.WaitTimeout(time.Second)
	}
	s.client.Disconnect(250)
	return nil
}

// frigatePayload is Frigate's MQTT "frigate/events" message.
type frigatePayload struct {
	Type   string         `json:"type"` // new, update, end
	Before frigateDetails `json:"before"`
	After  frigateDetails `json:"after"`
}

type frigateDetails struct {
	ID            string     `json:"id"`
	Camera        string     `json:"camera"`
	Label         string     `json:"label"`
	SubLabel      *string    `json:"sub_label"`
	StartTime     float64    `json:"start_time"`
	EndTime       *float64   `json:"end_time"`
	Score         float64    `json:"score"`
	TopScore      float64    `json:"top_score"`
	Box           [4]float64 `json:"box"`
	Zones         []string   `json:"current_zones"`
	Stationary    bool       `json:"stationary"`
	HasSnapshot   bool       `json:"has_snapshot"`
	HasClip       bool       `json:"has_clip"`
	FalsePositive bool       `json:"false_positive"`
}

// frigateEvent maps an incident event to Frigate's event message, so that
// consumers of Frigate's MQTT API work unchanged: type new/update/end, the
// incident kind as the label, the first box in [x1, y1, x2, y2] normalized.
func frigateEvent(ev *Event) frigatePayload {
	d := ev.Data
	det := frigateDetails{ID: d.IncidentID, Camera: d.Camera, Label: d.Kind, Score: d.Score, TopScore: d.Score,
		StartTime: float64(d.StartedAt.UnixNano()) / 1e9, Zones: []string{}}
	if d.Zone != "" {
		det.Zones = []string{d.Zone}
	}
	if len(d.Boxes) > 0 {
		b := d.Boxes[0]
		det.Box = [4]float64{b[0], b[1], b[0] + b[2], b[1] + b[3]}
	}
	if d.EndedAt != nil {
		end := float64(d.EndedAt.UnixNano()) / 1e9
		det.EndTime = &end
	}
	p := frigatePayload{Type: "update", Before: det, After: det}
	switch ev.Type {
	case TypeStart:
		p.Type = "new"
	case TypeEnd:
		p.Type = "end"
		p.Before.EndTime = nil
	}
	return p
}
