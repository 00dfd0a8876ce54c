package mqtt

import (
	"context"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-video/vigil/config"
)

// frigateAvailability keeps <frigate>/available as Frigate does: a retained
// "online" while the engine runs, replaced by the broker with the last
// will "offline" when it goes away (killed, or its network lost) and
// published "offline" at Close. An MQTT connection has one last will, and
// the sink's is <prefix>/available: this is a second connection, client
// id <client_id>-frigate, that publishes nothing else. Like
// <prefix>/available, it watches the topic and puts its "online" back when
// another engine's "offline" replaced it.
type frigateAvailability struct {
	client  paho.Client
	topic   string
	timeout time.Duration
	// announce is set on every (re)connect: subscribe and publish "online"
	// (the sink's announcer does it); online, when another engine's
	// "offline" replaced it.
	announce, online atomic.Bool
}

// newFrigateAvailability starts connecting (in the background, as paho
// does); wake has the sink's announcer run.
func newFrigateAvailability(cfg config.MQTTSink, timeout time.Duration, wake func()) *frigateAvailability {
	a := &frigateAvailability{topic: cfg.FrigateTopicPrefix + "/available", timeout: timeout}
	o := clientOptions(cfg, cfg.ClientID+"-frigate", timeout).SetWill(a.topic, "offline", 1, true)
	o.SetOnConnectHandler(func(paho.Client) {
		a.announce.Store(true)
		wake()
	})
	a.client = paho.NewClient(o)
	a.client.Connect() // retries in the background
	return a
}

// announceOnce subscribes and publishes "online" after a (re)connect, and
// "online" again after another engine's "offline"; what fails is done at
// the announcer's next round. It runs in the sink's announcer.
func (a *frigateAvailability) announceOnce(s *Sink) {
	if !a.client.IsConnectionOpen() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	full := a.announce.Swap(false)
	if full {
		t := a.client.Subscribe(a.topic, 1, func(_ paho.Client, m paho.Message) {
			if string(m.Payload()) == "offline" {
				a.online.Store(true)
				s.wake()
			}
		})
		if err := s.await(ctx, t, "subscribe "+a.topic); err != nil {
			a.announce.Store(true)
			return
		}
	}
	if online := a.online.Swap(false); full || online {
		if err := s.await(ctx, a.client.Publish(a.topic, 1, true, "online"), "publish "+a.topic); err != nil {
			a.announce.Store(true)
		}
	}
}

// close publishes "offline" and disconnects.
func (a *frigateAvailability) close() {
	if a.client.IsConnectionOpen() {
		a.client.Publish(a.topic, 1, true, "offline").WaitTimeout(time.Second)
	}
	a.client.Disconnect(250)
}
