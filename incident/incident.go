// Package incident defines vigil's incident events: CloudEvents 1.0,
// structured JSON; the data is described by schema/incident-v1.json and
// the whole event by schema/incident-event-v1.json. It is a leaf: every
// part that raises, stores or sends incidents imports it.
package incident

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event types.
const (
	TypeStart  = "vigil.incident.start"
	TypeUpdate = "vigil.incident.update"
	TypeEnd    = "vigil.incident.end"
)

// SchemaVersion is the version of the data schema (schema/incident-v1.json);
// it changes when a field changes meaning or goes away, never for an addition.
const SchemaVersion = "1"

// DataSchema is the dataschema attribute of every event: the JSON Schema
// of its data, schema/incident-v1.json.
const DataSchema = "https://vigil.dev/schema/incident/v" + SchemaVersion

// Frame time sources: where Incident.FrameTime came from.
const (
	// TimeRTCP: the camera's clock, from an RTCP sender report (NTP).
	TimeRTCP = "rtcp"
	// TimeReceipt: the engine's clock when the frame's last packet arrived.
	TimeReceipt = "receipt"
)

// Event is one CloudEvents 1.0 event in structured JSON form.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	DataSchema      string    `json:"dataschema"`
	Data            Incident  `json:"data"`
}

// Incident is the data of an incident event.
type Incident struct {
	IncidentID string `json:"incident_id"`
	Camera     string `json:"camera"`
	Kind       string `json:"kind"`
	// Cause refines the kind (camera_offline: "unreachable", "stalled", ...).
	Cause     string     `json:"cause,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// FrameTime is the capture time of the frame that triggered the event.
	FrameTime       time.Time `json:"frame_time"`
	FrameTimeSource string    `json:"frame_time_source"`
	// Score is the kind's measure (schema/incident-v1.json): a share of
	// the frame 0..1 (motion, intrusion, tamper), people (person, crowd),
	// vehicles (vehicle), seconds (loitering), 1 (camera_offline,
	// analysis_stalled).
	Score float64 `json:"score"`
	// Boxes are [x, y, w, h] normalized to 0..1 of the frame.
	Boxes [][4]float64 `json:"boxes"`
	// FrameWidth and FrameHeight are the size in pixels of the picture
	// the boxes are normalized to (the decoded stream); 0 when unknown.
	// Sinks that speak pixels (frigate_compat) need them.
	FrameWidth  int `json:"frame_width,omitempty"`
	FrameHeight int `json:"frame_height,omitempty"`
	// Zone names the zone of a zone-bound incident.
	Zone string `json:"zone,omitempty"`
	// Objects are what the object network found on the triggering frame:
	// the people of person, crowd and zone incidents, the vehicles of
	// vehicle incidents, every person and vehicle of a motion incident.
	// Absent without the network.
	Objects []Object `json:"objects,omitempty"`
	// Evidence lists snapshots of the incident.
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Object is a thing the object network found.
type Object struct {
	// Label is "person" or "vehicle" (a car, bus, truck, motorcycle or
	// bicycle).
	Label string `json:"label"`
	// Score is the network's confidence in its latest detection of the
	// object, 0..1: below objects.min_score when a weaker detection
	// continued an object already followed.
	Score float64 `json:"score"`
	// Box is [x, y, w, h] normalized to 0..1 of the frame, like Boxes.
	Box [4]float64 `json:"box"`
	// PixelBox is [x1, y1, x2, y2] in pixels of the frame_width x
	// frame_height picture; absent when the frame size is unknown.
	PixelBox *[4]int `json:"pixel_box,omitempty"`
	// TrackID identifies the object (a UUID) for as long as the camera
	// follows it, across the events of every incident it is part of.
	TrackID string `json:"track_id,omitempty"`
}

// Evidence is a JPEG snapshot of an incident: a file path, or the image
// itself in base64.
type Evidence struct {
	// Role is "start" (the triggering frame) or "best" (the highest score).
	Role       string `json:"role"`
	Path       string `json:"path,omitempty"`
	JPEGBase64 string `json:"jpeg_base64,omitempty"`
}

// endNamespace derives the id of every incident's end event (EndID).
var endNamespace = uuid.MustParse("5b0c7d1e-2f1a-4c53-9a57-6f0e3c2b8d41")

// EndID is the event id of incidentID's end: the same whoever emits it
// (this run, the next run ending what a crash left open, the next owner of
// a camera in a cluster), so that a consumer, the outbox's sinks and
// JetStream's de-duplication (Nats-Msg-Id) see one end.
func EndID(incidentID string) string {
	return uuid.NewSHA1(endNamespace, []byte(incidentID+"/end")).String()
}

// DeriveID is the id of the incident of kind on camera (in zone) that
// started at start: every node that sees the same start names it the
// same (a UUID derived with SHA-1, like EndID).
func DeriveID(camera, kind, zone string, start time.Time) string {
	return uuid.NewSHA1(endNamespace, []byte(strings.Join([]string{camera, kind, zone, start.UTC().Format(time.RFC3339Nano)}, "\x00"))).String()
}

// eventID is the id of an event of type typ about inc: derived from what
// the event says, so that whoever sends the same event again (a node that
// took the camera over, a run resending what a crash left unsent) sends
// the same id, and a consumer, the outbox's sinks and JetStream's
// de-duplication (Nats-Msg-Id) see it once. A start is named by its
// incident, kind and cause; an update also by its frame time and score
// (two updates of one incident differ in them); an end by its incident
// only (EndID). Without an incident id: a fresh UUIDv7.
func eventID(typ string, inc Incident) string {
	switch {
	case inc.IncidentID == "":
		return uuid.Must(uuid.NewV7()).String()
	case typ == TypeEnd:
		return EndID(inc.IncidentID)
	case typ == TypeUpdate:
		return uuid.NewSHA1(endNamespace, []byte(strings.Join([]string{inc.IncidentID, "update", inc.Kind, inc.Cause,
			inc.FrameTime.UTC().Format(time.RFC3339Nano), strconv.FormatFloat(inc.Score, 'g', -1, 64)}, "\x00"))).String()
	}
	return uuid.NewSHA1(endNamespace, []byte(strings.Join([]string{inc.IncidentID, typ, inc.Kind, inc.Cause}, "\x00"))).String()
}

// New returns an event of type typ for the incident, with its derived id
// (eventID) and the given emission time.
func New(typ string, inc Incident, now time.Time) Event {
	if inc.Boxes == nil {
		inc.Boxes = [][4]float64{}
	}
	id := eventID(typ, inc)
	return Event{
		SpecVersion:     "1.0",
		ID:              id,
		Source:          "/cameras/" + inc.Camera,
		Type:            typ,
		Subject:         inc.Camera,
		Time:            now.UTC(),
		DataContentType: "application/json",
		DataSchema:      DataSchema,
		Data:            inc,
	}
}
