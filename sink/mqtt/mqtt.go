// Package mqtt is the MQTT sink, with Frigate's MQTT API
// (frigate_compat, frigate.go) and Home Assistant discovery
// (ha_discovery, homeassistant.go).
package mqtt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/redact"
	"github.com/vigil-video/vigil/sink"
)

// Sink publishes each event with QoS 1 to <prefix>/events and
// <prefix>/<camera>/<kind>; <prefix>/available is a retained "online",
// replaced by the broker with the last-will "offline" if vigil goes away.
// Several engines may share the prefix: each watches <prefix>/available
// and puts its "online" back when another one's "offline" replaced it, so
// that it reads "offline" only once none is left.
// With FrigateCompat it also speaks Frigate's MQTT API (frigate.go), with
// HADiscovery it announces each camera's binary sensors and snapshot image to Home Assistant
// (homeassistant.go).
type Sink struct {
	cfg      config.MQTTSink
	timeout  time.Duration // of one publication and of connecting
	client   paho.Client
	evidence sink.EvidenceOpener // nil: only embedded snapshots are published

	// announce is set on every (re)connect: the announcer publishes the
	// retained "online" (and the Home Assistant configurations and states)
	// again. Publishing from the connect handler would race with paho's
	// resume of stored packets.
	announce atomic.Bool
	// online is set when another engine's "offline" replaced this one's
	// "online" on <prefix>/available: the announcer publishes it again.
	online atomic.Bool
	kick   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup

	// mu guards the state below and orders the state publications of the
	// delivery goroutine and the announcer (a state published from a stale
	// snapshot would overwrite a newer one).
	// frigateAvail is the connection whose last will is
	// <frigate>/available (with FrigateCompat; else nil).
	frigateAvail *frigateAvailability

	mu      sync.Mutex
	frigate frigateState
	reviews reviewState
	ha      haState
	// cameras are the cameras announced to Home Assistant (true) or to be
	// announced (false); withdraw, the removed ones whose sensors are still
	// to be removed from it.
	cameras  map[string]bool
	withdraw []string
	// kinds are the incident kinds each camera can raise (nil: every
	// kind): only their sensors are announced.
	kinds map[string][]string
	// cleared are the sensors (camera + "/" + key) a camera cannot raise
	// whose configurations were emptied since the sink started or the
	// camera's kinds changed (once is enough: they are retained).
	cleared map[string]bool
}

// New starts connecting to the broker at cfg.URL (in the background, as
// paho does) and the announcer of the cameras (with HADiscovery).
func New(c sink.Common, cfg config.MQTTSink, cameras []sink.Camera, evidence sink.EvidenceOpener) (*Sink, error) {
	o := clientOptions(cfg, cfg.ClientID, c.Timeout).SetWill(cfg.TopicPrefix+"/available", "offline", 1, true)
	s := &Sink{cfg: cfg, timeout: c.Timeout, evidence: evidence, kick: make(chan struct{}, 1), done: make(chan struct{}), cameras: map[string]bool{},
		kinds: map[string][]string{}, cleared: map[string]bool{}}
	if cfg.FrigateCompat {
		s.frigateAvail = newFrigateAvailability(cfg, c.Timeout, sink.IDs(cameras), evidence != nil, s.wake)
	}
	for _, cam := range cameras {
		s.cameras[cam.ID] = false
		s.kinds[cam.ID] = cam.Kinds
	}
	o.SetOnConnectHandler(func(paho.Client) {
		s.announce.Store(true)
		s.wake()
	})
	s.client = paho.NewClient(o)
	s.client.Connect() // retries in the background; deliver waits for it
	s.wg.Add(1)
	go s.announcer()
	return s, nil
}

// clientOptions are the options of a connection to the broker, as
// clientID, without a last will.
func clientOptions(cfg config.MQTTSink, clientID string, timeout time.Duration) *paho.ClientOptions {
	return paho.NewClientOptions().AddBroker(cfg.URL).SetClientID(clientID).
		SetUsername(cfg.Username).SetPassword(cfg.Password).
		// The outbox, not paho's store, redelivers after a reconnect: a
		// clean session keeps paho from resending on its own. What it still
		// resends on a reconnect (a publish in flight) comes from a store
		// that shares no packet with its writer (copyingStore).
		SetCleanSession(true).SetOrderMatters(true).SetStore(newCopyingStore()).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).SetConnectTimeout(timeout).SetWriteTimeout(timeout)
}

func (s *Sink) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// announcer publishes the availability, and the Home Assistant
// configurations and states, after every (re)connect, every reannounce
// (with HADiscovery) and for cameras added by SetCameras; a failed
// announcement is retried every second.
func (s *Sink) announcer() {
	defer s.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	announced := time.Now()
	for {
		select {
		case <-s.done:
			return
		case <-s.kick:
		case <-t.C:
			if s.cfg.HADiscovery && time.Since(announced) >= reannounce {
				s.announce.Store(true)
				announced = time.Now()
			}
		}
		if s.frigateAvail != nil {
			s.frigateAvail.announceOnce(s)
		}
		if !s.client.IsConnectionOpen() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		err := s.announceOnce(ctx)
		cancel()
		if err != nil {
			s.announce.Store(true) // again at the next tick
		}
	}
}

// reannounce is how often the Home Assistant configurations are announced
// again: the engines of one deployment share them (one discovery topic
// per camera sensor), and a camera that moved to another engine can have
// them emptied by its former engine after the new one announced them (a
// withdrawal that waited for a reconnect). Home Assistant ignores a
// configuration it already has. A variable for tests.
var reannounce = 5 * time.Minute

func (s *Sink) announceOnce(ctx context.Context) error {
	full := s.announce.Swap(false)
	if full {
		// Subscriptions do not outlive a connection (clean session).
		t := s.client.Subscribe(s.cfg.TopicPrefix+"/available", 1, s.availability)
		if err := s.await(ctx, t, "subscribe "+s.cfg.TopicPrefix+"/available"); err != nil {
			return err
		}
	}
	if online := s.online.Swap(false); full || online {
		if err := s.publish(ctx, s.cfg.TopicPrefix+"/available", "online", true); err != nil {
			return err // the announcer retries it all (announce)
		}
	}
	if !s.cfg.HADiscovery {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.withdraw) > 0 {
		c := s.withdraw[0]
		for i := range haSensors {
			topic, _ := haConfig(&s.cfg, c, &haSensors[i])
			if err := s.publish(ctx, topic, "", true); err != nil {
				return err
			}
			if err := s.publish(ctx, haStateTopic(s.cfg.TopicPrefix, c, &haSensors[i]), "", true); err != nil {
				return err
			}
		}
		topic, _ := haImageConfig(&s.cfg, c)
		if err := s.publish(ctx, topic, "", true); err != nil {
			return err
		}
		if err := s.publish(ctx, haImageTopic(s.cfg.TopicPrefix, c), "", true); err != nil {
			return err
		}
		s.withdraw = s.withdraw[1:]
	}
	var cams []string
	for c, done := range s.cameras {
		if full || !done {
			cams = append(cams, c)
		}
	}
	sort.Strings(cams)
	for _, c := range cams {
		if err := s.announceCameraLocked(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// availability handles a message on <prefix>/available: an "offline"
// (another engine's last will or close) has this one's "online" published
// again. It runs in paho's delivery goroutine: it must not block.
func (s *Sink) availability(_ paho.Client, m paho.Message) {
	if string(m.Payload()) == "offline" {
		s.online.Store(true)
		s.wake()
	}
}

// announceCameraLocked publishes a camera's discovery configurations and
// current states, retained, for the kinds it can raise, and empties those
// of the others once (an entity a reconfiguration took away, or one an
// earlier version announced); s.mu is held.
func (s *Sink) announceCameraLocked(ctx context.Context, camera string) error {
	for i := range haSensors {
		sn := &haSensors[i]
		if !s.raisesLocked(camera, sn) {
			if s.cleared[camera+"/"+sn.key] {
				continue
			}
			topic, _ := haConfig(&s.cfg, camera, sn)
			if err := s.publish(ctx, topic, "", true); err != nil {
				return err
			}
			if err := s.publish(ctx, haStateTopic(s.cfg.TopicPrefix, camera, sn), "", true); err != nil {
				return err
			}
			s.cleared[camera+"/"+sn.key] = true
			delete(s.ha.published, camera+"/"+sn.key)
			continue
		}
		topic, cfg := haConfig(&s.cfg, camera, sn)
		if err := s.publish(ctx, topic, cfg, true); err != nil {
			return err
		}
		state := s.ha.state(camera, sn)
		if err := s.publish(ctx, haStateTopic(s.cfg.TopicPrefix, camera, sn), state, true); err != nil {
			return err
		}
		s.ha.sent(camera, sn, state)
	}
	topic, cfg := haImageConfig(&s.cfg, camera)
	if err := s.publish(ctx, topic, cfg, true); err != nil {
		return err
	}
	s.cameras[camera] = true
	return nil
}

// raisesLocked reports whether camera can raise the kind of sensor sn
// (its kinds unknown: every kind); s.mu is held.
func (s *Sink) raisesLocked(camera string, sn *haSensor) bool {
	kinds, ok := s.kinds[camera]
	return !ok || kinds == nil || slices.Contains(kinds, sn.kind)
}

// SetCameras announces new cameras to Home Assistant, with a sensor for
// each kind it can raise, and withdraws the sensors of removed cameras
// and of kinds a camera can no longer raise (an empty retained
// configuration removes them). With FrigateCompat it does the same with
// the cameras' Frigate states (frigate_available.go). It does not wait:
// the announcer publishes.
func (s *Sink) SetCameras(cams []sink.Camera) {
	if s.frigateAvail != nil {
		s.frigateAvail.setCameras(sink.IDs(cams))
		s.wake()
	}
	if !s.cfg.HADiscovery {
		return
	}
	keep := map[string]bool{}
	for _, c := range cams {
		keep[c.ID] = true
	}
	s.mu.Lock()
	for c := range s.cameras {
		if !keep[c] {
			s.withdraw = append(s.withdraw, c)
			delete(s.cameras, c)
			delete(s.kinds, c)
			delete(s.ha.open, c)
			for i := range haSensors {
				delete(s.ha.published, c+"/"+haSensors[i].key)
				delete(s.cleared, c+"/"+haSensors[i].key)
			}
		}
	}
	for _, c := range cams {
		old, known := s.kinds[c.ID]
		if _, ok := s.cameras[c.ID]; !ok || !known || !sameKinds(old, c.Kinds) {
			// New, or what it can raise changed: announced again (its
			// sensors taken away emptied).
			s.cameras[c.ID] = false
			for i := range haSensors {
				delete(s.cleared, c.ID+"/"+haSensors[i].key)
			}
		}
		s.kinds[c.ID] = c.Kinds
	}
	s.mu.Unlock()
	s.wake()
}

// sameKinds reports whether a and b hold the same kinds (nil: every
// kind).
func sameKinds(a, b []string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for _, k := range a {
		if !slices.Contains(b, k) {
			return false
		}
	}
	return true
}

// publish sends payload ([]byte or string) with QoS 1 and waits for the
// broker's acknowledgement.
func (s *Sink) publish(ctx context.Context, topic string, payload any, retained bool) error {
	if !s.client.IsConnectionOpen() {
		return fmt.Errorf("mqtt %s: not connected", redact.URL(s.cfg.URL))
	}
	return s.await(ctx, s.client.Publish(topic, 1, retained, payload), "publish "+topic)
}

// await waits for the broker's acknowledgement of t (what names the
// operation in the error).
func (s *Sink) await(ctx context.Context, t paho.Token, what string) error {
	select {
	case <-t.Done():
		if err := t.Error(); err != nil {
			return fmt.Errorf("mqtt %s: %w", what, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.timeout):
		return fmt.Errorf("mqtt %s: no acknowledgement within %s", what, s.timeout)
	}
}

func (s *Sink) Deliver(ctx context.Context, js []byte, ev *incident.Event) error {
	p := s.cfg.TopicPrefix
	if err := s.publish(ctx, p+"/events", js, false); err != nil {
		return err
	}
	if err := s.publish(ctx, p+"/"+ev.Data.Camera+"/"+ev.Data.Kind, js, false); err != nil {
		return err
	}
	if !s.cfg.FrigateCompat && !s.cfg.HADiscovery {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.HADiscovery {
		if err := s.haDeliverLocked(ctx, ev); err != nil {
			return err
		}
	}
	if s.cfg.FrigateCompat {
		return s.frigateDeliverLocked(ctx, ev)
	}
	return nil
}

// haDeliverLocked announces a camera not announced yet and publishes the
// state the event changes; s.mu is held.
func (s *Sink) haDeliverLocked(ctx context.Context, ev *incident.Event) error {
	cam := ev.Data.Camera
	sn, state := s.ha.apply(ev)
	if !s.cameras[cam] {
		// Its configuration and current state (this event's included).
		if err := s.announceCameraLocked(ctx, cam); err != nil {
			return err
		}
		return s.haSnapshotLocked(ctx, ev)
	}
	if err := s.haSnapshotLocked(ctx, ev); err != nil {
		return err
	}
	if sn == nil || !s.raisesLocked(cam, sn) || !s.ha.changed(cam, sn, state) {
		return nil
	}
	if err := s.publish(ctx, haStateTopic(s.cfg.TopicPrefix, cam, sn), state, true); err != nil {
		return err
	}
	s.ha.sent(cam, sn, state)
	return nil
}

// haSnapshotLocked publishes the incident's snapshot, when the event has
// one, on the camera's image entity topic, retained; s.mu is held.
func (s *Sink) haSnapshotLocked(ctx context.Context, ev *incident.Event) error {
	jpg := s.snapshot(&ev.Data)
	if jpg == nil {
		return nil
	}
	return s.publish(ctx, haImageTopic(s.cfg.TopicPrefix, ev.Data.Camera), jpg, true)
}

// frigateDeliverLocked publishes what Frigate would for the event; s.mu is
// held.
func (s *Sink) frigateDeliverLocked(ctx context.Context, ev *incident.Event) error {
	f := s.cfg.FrigateTopicPrefix
	d := &ev.Data
	count := "0"
	if ev.Type != incident.TypeEnd {
		count = strconv.Itoa(int(math.Round(d.Score)))
	}
	switch d.Kind {
	case "motion":
		state := "ON"
		if ev.Type == incident.TypeEnd {
			state = "OFF"
		}
		if ev.Type == incident.TypeUpdate {
			return nil // ON already
		}
		return s.publish(ctx, f+"/"+d.Camera+"/motion", state, false)
	case "crowd":
		if err := s.publishCounts(ctx, f+"/"+d.Zone, frigate.LabelPerson, count); err != nil {
			return err
		}
	case "person", "vehicle":
		label := frigate.Label(d.Kind)
		restore := s.frigate.save(d.IncidentID)
		msgs, added, _ := s.frigate.update(ev)
		for _, msg := range msgs {
			b, err := json.Marshal(msg)
			if err != nil {
				restore()
				return sink.Permanent(err)
			}
			if err := s.publish(ctx, f+"/events", b, false); err != nil {
				restore()
				return err
			}
		}
		if err := s.publishCounts(ctx, f+"/"+d.Camera, label, count); err != nil {
			restore()
			return err
		}
		if jpg := s.snapshot(d); jpg != nil {
			if err := s.publish(ctx, f+"/"+d.Camera+"/"+label+"/snapshot", jpg, true); err != nil {
				restore()
				return err
			}
		}
		if err := s.reviewDeliverLocked(ctx, ev, added); err != nil {
			restore()
			return err
		}
		return nil
	}
	return s.reviewDeliverLocked(ctx, ev, nil)
}

// reviewDeliverLocked publishes the <frigate>/reviews message and the
// camera's review_status the event causes (frigate_reviews.go); a failed
// publication leaves the segment as it was, for the retry. s.mu is held.
func (s *Sink) reviewDeliverLocked(ctx context.Context, ev *incident.Event, added []string) error {
	f := s.cfg.FrigateTopicPrefix
	restore := s.reviews.save(ev.Data.Camera)
	msg, status, ok := s.reviews.update(ev, added)
	if !ok {
		return nil
	}
	b, err := json.Marshal(msg)
	if err != nil {
		restore()
		return sink.Permanent(err)
	}
	if err := s.publish(ctx, f+"/reviews", b, false); err != nil {
		restore()
		return err
	}
	if err := s.publish(ctx, f+"/"+ev.Data.Camera+"/review_status", status, false); err != nil {
		restore()
		return err
	}
	return nil
}

// publishCounts publishes Frigate's object counts of label under base (a
// camera or a zone): label, and all for people, and their active
// variants (vigil's objects are all moving). "all" counts the people
// only: a person and a vehicle incident each know their own count.
func (s *Sink) publishCounts(ctx context.Context, base, label, count string) error {
	objs := []string{label}
	if label == frigate.LabelPerson {
		objs = append(objs, "all")
	}
	for _, obj := range objs {
		for _, suffix := range []string{"", "/active"} {
			if err := s.publish(ctx, base+"/"+obj+suffix, count, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// snapshot returns the JPEG of the incident's best snapshot (else its
// start snapshot) the event references, or nil when there is none or it
// cannot be read.
func (s *Sink) snapshot(d *incident.Incident) []byte {
	var pick *incident.Evidence
	for i := range d.Evidence {
		if pick == nil || d.Evidence[i].Role == "best" {
			pick = &d.Evidence[i]
		}
	}
	switch {
	case pick == nil:
		return nil
	case pick.JPEGBase64 != "":
		b, err := base64.StdEncoding.DecodeString(pick.JPEGBase64)
		if err != nil {
			return nil
		}
		return b
	case pick.Path != "" && s.evidence != nil:
		camera, name := path.Split(pick.Path)
		f, err := s.evidence.Open(strings.TrimSuffix(camera, "/"), name)
		if err != nil {
			return nil
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSnapshotBytes+1))
		if err != nil || len(b) > maxSnapshotBytes {
			return nil
		}
		return b
	}
	return nil
}

// maxSnapshotBytes bounds a snapshot published on MQTT.
const maxSnapshotBytes = 8 << 20

func (s *Sink) Close() error {
	close(s.done)
	s.wg.Wait()
	if s.client.IsConnectionOpen() {
		t := s.client.Publish(s.cfg.TopicPrefix+"/available", 1, true, "offline")
		t.WaitTimeout(time.Second)
	}
	if s.frigateAvail != nil {
		s.frigateAvail.close()
	}
	s.client.Disconnect(250)
	return nil
}
