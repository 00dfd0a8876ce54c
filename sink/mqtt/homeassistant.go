package mqtt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
)

// Home Assistant MQTT discovery (config.MQTTSink.HADiscovery): per camera, a
// binary sensor per incident kind (haSensors) announced with retained
// configurations on
// <discovery prefix>/binary_sensor/<node id>/<camera>_<sensor>/config, whose
// retained ON/OFF states the sink publishes on
// <topic prefix>/<camera>/<sensor>/state, and an image entity
// (<discovery prefix>/image/<node id>/<camera>_snapshot/config) showing the
// JPEG of the camera's latest incident snapshot, published retained on
// <topic prefix>/<camera>/snapshot (the snapshot the Frigate topics carry,
// Sink.snapshot); their availability is the
// sink's <topic prefix>/available (so they go unavailable with vigil, the
// last of its engines). Every engine of a deployment announces the same
// ids (from ha_node_id, not the per-engine client id): a camera keeps its
// entities whatever engine runs it.

// haSensor is one binary sensor of a camera.
type haSensor struct {
	key   string // in topics and ids
	name  string
	class string // Home Assistant binary_sensor device class
	// kind is the incident kind that turns it on (off for online).
	kind string
}

var haSensors = []haSensor{
	{key: "motion", name: "Motion", class: "motion", kind: "motion"},
	{key: "person", name: "Person", class: "occupancy", kind: "person"},
	{key: "vehicle", name: "Vehicle", class: "occupancy", kind: "vehicle"},
	{key: "tamper", name: "Tamper", class: "tamper", kind: "tamper"},
	{key: "intrusion", name: "Intrusion", class: "occupancy", kind: "intrusion"},
	{key: "loitering", name: "Loitering", class: "occupancy", kind: "loitering"},
	{key: "crowd", name: "Crowd", class: "occupancy", kind: "crowd"},
	// analysis_stalled is ON while the camera streams but is not analyzed.
	{key: "analysis_stalled", name: "Analysis stalled", class: "problem", kind: "analysis_stalled"},
	// online is ON until a camera_offline incident starts, OFF until it
	// ends.
	{key: "online", name: "Online", class: "connectivity", kind: "camera_offline"},
}

// haID makes a camera id or node id fit a discovery topic level and a
// unique_id ([a-zA-Z0-9_-]) without two ids meeting: an id that fits is
// kept (ids stay those of earlier versions), one that does not has the
// other characters as "_" and "_" + 8 hex digits of its SHA-256 appended
// ("gate.1" is "gate_1_<hash>", never "gate_1"). The same id always gives
// the same result, on every engine and across restarts.
var haUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

func haID(s string) string {
	if !haUnsafe.MatchString(s) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return haUnsafe.ReplaceAllString(s, "_") + "_" + hex.EncodeToString(sum[:4])
}

// haState tracks, per camera and sensor, the open incidents that set it
// and the state last published. Guarded by the sink's haMu.
type haState struct {
	open map[string]map[string]map[string]bool // camera → sensor → incident ids
	// published is the state last published, by camera + "/" + sensor.
	published map[string]string
}

// changed reports whether state differs from what was last published for
// the camera's sensor (marking it published is the caller's, with sent).
func (h *haState) changed(camera string, s *haSensor, state string) bool {
	return h.published[camera+"/"+s.key] != state
}

func (h *haState) sent(camera string, s *haSensor, state string) {
	if h.published == nil {
		h.published = map[string]string{}
	}
	h.published[camera+"/"+s.key] = state
}

// apply records an event; it returns the sensor it concerns (nil for none)
// and the sensor's state after it.
func (h *haState) apply(ev *incident.Event) (*haSensor, string) {
	d := &ev.Data
	for i := range haSensors {
		s := &haSensors[i]
		if s.kind != d.Kind {
			continue
		}
		if h.open == nil {
			h.open = map[string]map[string]map[string]bool{}
		}
		cam := h.open[d.Camera]
		if cam == nil {
			cam = map[string]map[string]bool{}
			h.open[d.Camera] = cam
		}
		if cam[s.key] == nil {
			cam[s.key] = map[string]bool{}
		}
		if ev.Type == incident.TypeEnd {
			delete(cam[s.key], d.IncidentID)
		} else {
			cam[s.key][d.IncidentID] = true
		}
		return s, h.state(d.Camera, s)
	}
	return nil, ""
}

// state is a sensor's state: ON while an incident of its kind is open
// (online: OFF while the camera is offline).
func (h *haState) state(camera string, s *haSensor) string {
	on := len(h.open[camera][s.key]) > 0
	if s.key == "online" {
		on = !on
	}
	if on {
		return "ON"
	}
	return "OFF"
}

// haDiscovery is a binary_sensor discovery configuration.
type haDiscovery struct {
	Name                string   `json:"name"`
	UniqueID            string   `json:"unique_id"`
	StateTopic          string   `json:"state_topic"`
	PayloadOn           string   `json:"payload_on"`
	PayloadOff          string   `json:"payload_off"`
	DeviceClass         string   `json:"device_class"`
	EntityCategory      string   `json:"entity_category,omitempty"`
	AvailabilityTopic   string   `json:"availability_topic"`
	PayloadAvailable    string   `json:"payload_available"`
	PayloadNotAvailable string   `json:"payload_not_available"`
	QoS                 int      `json:"qos"`
	Device              haDevice `json:"device"`
	Origin              haOrigin `json:"origin"`
}

type haDevice struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
}

// haCameraDevice is the Home Assistant device of a camera's entities.
func haCameraDevice(node, obj, camera string) haDevice {
	return haDevice{Identifiers: []string{"vigil_" + node + "_" + obj}, Name: camera, Manufacturer: "vigil", Model: "vigil camera"}
}

type haOrigin struct {
	Name string `json:"name"`
}

// haStateTopic is where a camera sensor's state is published.
func haStateTopic(prefix, camera string, s *haSensor) string {
	return prefix + "/" + camera + "/" + s.key + "/state"
}

// haConfig returns a camera sensor's discovery topic and configuration.
func haConfig(cfg *config.MQTTSink, camera string, s *haSensor) (string, []byte) {
	node, obj := haID(cfg.HANodeID), haID(camera)
	d := haDiscovery{
		Name:                s.name,
		UniqueID:            "vigil_" + node + "_" + obj + "_" + s.key,
		StateTopic:          haStateTopic(cfg.TopicPrefix, camera, s),
		PayloadOn:           "ON",
		PayloadOff:          "OFF",
		DeviceClass:         s.class,
		AvailabilityTopic:   cfg.TopicPrefix + "/available",
		PayloadAvailable:    "online",
		PayloadNotAvailable: "offline",
		QoS:                 1,
		Device:              haCameraDevice(node, obj, camera),
		Origin:              haOrigin{Name: "vigil"},
	}
	if s.key == "online" || s.key == "analysis_stalled" {
		d.EntityCategory = "diagnostic"
	}
	b, _ := json.Marshal(d) // plain strings: cannot fail
	topic := strings.Join([]string{cfg.HADiscoveryPrefix, "binary_sensor", node, obj + "_" + s.key, "config"}, "/")
	return topic, b
}

// haImage is an image entity's discovery configuration (Home Assistant's
// MQTT image platform): the camera's latest incident snapshot.
type haImage struct {
	Name                string   `json:"name"`
	UniqueID            string   `json:"unique_id"`
	ImageTopic          string   `json:"image_topic"`
	ContentType         string   `json:"content_type"`
	AvailabilityTopic   string   `json:"availability_topic"`
	PayloadAvailable    string   `json:"payload_available"`
	PayloadNotAvailable string   `json:"payload_not_available"`
	Device              haDevice `json:"device"`
	Origin              haOrigin `json:"origin"`
}

// haImageTopic is where a camera's latest incident snapshot (JPEG) is
// published, retained.
func haImageTopic(prefix, camera string) string {
	return prefix + "/" + camera + "/snapshot"
}

// haImageConfig returns a camera's image entity discovery topic and
// configuration: <discovery prefix>/image/<node id>/<camera>_snapshot/config.
func haImageConfig(cfg *config.MQTTSink, camera string) (string, []byte) {
	node, obj := haID(cfg.HANodeID), haID(camera)
	d := haImage{
		Name:                "Snapshot",
		UniqueID:            "vigil_" + node + "_" + obj + "_snapshot",
		ImageTopic:          haImageTopic(cfg.TopicPrefix, camera),
		ContentType:         "image/jpeg",
		AvailabilityTopic:   cfg.TopicPrefix + "/available",
		PayloadAvailable:    "online",
		PayloadNotAvailable: "offline",
		Device:              haCameraDevice(node, obj, camera),
		Origin:              haOrigin{Name: "vigil"},
	}
	b, _ := json.Marshal(d) // plain strings: cannot fail
	topic := strings.Join([]string{cfg.HADiscoveryPrefix, "image", node, obj + "_snapshot", "config"}, "/")
	return topic, b
}
