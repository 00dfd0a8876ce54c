package mqtt

import (
	"context"
	"sort"
	"sync"
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
// id <client_id>-frigate, that publishes nothing else but the cameras'
// retained states (frigateStates). Like <prefix>/available, it watches the
// topic and puts its "online" back when another engine's "offline"
// replaced it.
type frigateAvailability struct {
	client    paho.Client
	prefix    string
	topic     string
	timeout   time.Duration
	snapshots bool // the sink reads snapshot files: snapshots/state ON
	// announce is set on every (re)connect: subscribe and publish "online"
	// and every camera's states (the sink's announcer does it); online,
	// when another engine's "offline" replaced it.
	announce, online atomic.Bool

	mu sync.Mutex
	// cameras are those whose states are published (true) or to be
	// (false). A removed camera's states are left: they are the same on
	// every engine, and clearing them would race with the engine that
	// took the camera over.
	cameras map[string]bool
}

// frigateStates are the retained states Frigate publishes for each camera
// when it starts (comms/mqtt.py, _set_initial_topics), which the Home
// Assistant integration's switches and camera entity show: vigil's fixed
// answers (the camera on, detection and motion detection on, no
// recordings, audio, contrast improvement, autotracking or birdseye,
// alerts and detections reviewed). Setting them (.../set) changes nothing
// in vigil: its configuration is its file.
var frigateStates = []struct{ topic, on string }{
	{"enabled/state", "ON"}, {"detect/state", "ON"}, {"motion/state", "ON"}, {"snapshots/state", ""},
	{"recordings/state", "OFF"}, {"audio/state", "OFF"}, {"improve_contrast/state", "OFF"},
	{"ptz_autotracker/state", "OFF"}, {"birdseye/state", "OFF"},
	{"review_alerts/state", "ON"}, {"review_detections/state", "ON"},
}

// newFrigateAvailability starts connecting (in the background, as paho
// does); wake has the sink's announcer run.
func newFrigateAvailability(cfg config.MQTTSink, timeout time.Duration, cameras []string, snapshots bool, wake func()) *frigateAvailability {
	a := &frigateAvailability{prefix: cfg.FrigateTopicPrefix, topic: cfg.FrigateTopicPrefix + "/available", timeout: timeout,
		snapshots: snapshots, cameras: map[string]bool{}}
	for _, c := range cameras {
		a.cameras[c] = false
	}
	o := clientOptions(cfg, cfg.ClientID+"-frigate", timeout).SetWill(a.topic, "offline", 1, true)
	o.SetOnConnectHandler(func(paho.Client) {
		a.announce.Store(true)
		wake()
	})
	a.client = paho.NewClient(o)
	a.client.Connect() // retries in the background
	return a
}

// setCameras has the states of new cameras published at the announcer's
// next round.
func (a *frigateAvailability) setCameras(ids []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	keep := map[string]bool{}
	for _, id := range ids {
		keep[id] = true
		if _, ok := a.cameras[id]; !ok {
			a.cameras[id] = false
		}
	}
	for c := range a.cameras {
		if !keep[c] {
			delete(a.cameras, c)
		}
	}
}

// announceOnce subscribes and publishes "online" and the cameras' states
// after a (re)connect, "online" again after another engine's "offline",
// and the states of new cameras; what fails
// is done at the announcer's next round. It runs in the sink's announcer.
func (a *frigateAvailability) announceOnce(s *Sink) {
	if !a.client.IsConnectionOpen() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	full := a.announce.Swap(false)
	err := a.announceStates(ctx, s, full)
	if err == nil && full {
		t := a.client.Subscribe(a.topic, 1, func(_ paho.Client, m paho.Message) {
			if string(m.Payload()) == "offline" {
				a.online.Store(true)
				s.wake()
			}
		})
		err = s.await(ctx, t, "subscribe "+a.topic)
	}
	if online := a.online.Swap(false); err == nil && (full || online) {
		err = s.await(ctx, a.client.Publish(a.topic, 1, true, "online"), "publish "+a.topic)
	}
	if err != nil {
		a.announce.Store(true)
	}
}

// announceStates publishes the states of every camera (all) or of the
// new ones.
func (a *frigateAvailability) announceStates(ctx context.Context, s *Sink, all bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var cams []string
	for c, done := range a.cameras {
		if all || !done {
			cams = append(cams, c)
		}
	}
	sort.Strings(cams)
	for _, c := range cams {
		for _, st := range frigateStates {
			v := st.on
			if v == "" { // snapshots/state
				v = "OFF"
				if a.snapshots {
					v = "ON"
				}
			}
			if err := a.publish(ctx, s, c+"/"+st.topic, v); err != nil {
				return err
			}
		}
		a.cameras[c] = true
	}
	return nil
}

func (a *frigateAvailability) publish(ctx context.Context, s *Sink, topic, payload string) error {
	topic = a.prefix + "/" + topic
	return s.await(ctx, a.client.Publish(topic, 1, true, payload), "publish "+topic)
}

// close publishes "offline" and disconnects.
func (a *frigateAvailability) close() {
	if a.client.IsConnectionOpen() {
		a.client.Publish(a.topic, 1, true, "offline").WaitTimeout(time.Second)
	}
	a.client.Disconnect(250)
}
