package mqtt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/incident"
)

// Frigate's review segments (frigate/review/maintainer.py), on
// <frigate>/reviews: what the notification blueprints (SgtBatten's
// "Frigate Camera Notifications") and the Home Assistant integration's
// review status sensor read.
//
// A camera has at most one open segment, as in Frigate. It opens with the
// camera's first person or vehicle incident ("new"), changes when a new
// object joins (its <frigate>/events id in data.detections, its label in
// data.objects) or a zone is entered ("update"), and ends when the
// camera's last person or vehicle incident ends ("end"). Its severity is
// "detection" for objects alone and "alert" once a zone rule fires on the camera during the
// segment (an intrusion, loitering or crowd incident): the zone rules are
// what vigil's operators configure to be told, as Frigate's
// review.alerts.required_zones. Zone incidents that start before the first
// person count for the segment that follows while they are open.
//
// <frigate>/<camera>/review_status carries the open segment's severity
// ("DETECTION", "ALERT") and "NONE" at its end.

// reviewZoneKinds are the zone-bound incident kinds whose zones a segment
// enters and which make it an alert.
var reviewZoneKinds = map[string]bool{"intrusion": true, "loitering": true, "crowd": true}

// Review severities, as Frigate names them.
const (
	severityAlert     = "alert"
	severityDetection = "detection"
)

// frigateReview is a <frigate>/reviews message.
type frigateReview struct {
	Type   string         `json:"type"` // new, update, end
	Before *reviewSegment `json:"before"`
	After  *reviewSegment `json:"after"`
}

// reviewSegment is a review segment as Frigate publishes it (get_data).
type reviewSegment struct {
	ID        string     `json:"id"`
	Camera    string     `json:"camera"`
	StartTime float64    `json:"start_time"`
	EndTime   *float64   `json:"end_time"`
	Severity  string     `json:"severity"`
	ThumbPath string     `json:"thumb_path"`
	Data      reviewData `json:"data"`
}

// reviewData is a segment's data: detections are the ids of the
// <frigate>/events objects (each person and vehicle followed), whose
// snapshot and thumbnail the HTTP API serves at
// /api/events/<id>/snapshot.jpg; objects their labels.
type reviewData struct {
	Detections      []string `json:"detections"`
	Objects         []string `json:"objects"`
	VerifiedObjects []string `json:"verified_objects"`
	SubLabels       []string `json:"sub_labels"`
	Zones           []string `json:"zones"`
	Audio           []string `json:"audio"`
	ThumbTime       *float64 `json:"thumb_time"`
	Metadata        any      `json:"metadata"`
}

// reviewCamera is what the sink remembers of one camera for its segment.
type reviewCamera struct {
	seg     *reviewSegment
	objInc  map[string]bool   // open person and vehicle incidents of the segment
	zoneInc map[string]string // open zone incidents: incident id -> zone
}

// reviewState is the open segments by camera. It is used under the sink's
// mu, by the delivery goroutine.
type reviewState struct {
	cams map[string]*reviewCamera
}

// reviewID returns a segment's id: Frigate's form ("<start>-<6 chars>"),
// derived from the incident that opened it, so that a redelivered event,
// or an end delivered after a restart, names the same segment.
func reviewID(start time.Time, incidentID string) string {
	h := sha256.Sum256([]byte(incidentID))
	return fmt.Sprintf("%.6f-%s", unixSeconds(start), hex.EncodeToString(h[:])[:6])
}

// reviewMaxDetections bounds a segment's detections (a segment lasts as
// long as the camera sees someone: hours at a busy gate).
const reviewMaxDetections = 1000

// update applies an event, whose new <frigate>/events objects are added
// (frigateState.update), and returns the <frigate>/reviews message it
// causes and the camera's review status, or false when the segment does
// not change.
func (s *reviewState) update(ev *incident.Event, added []string) (frigateReview, string, bool) {
	d := &ev.Data
	label := frigate.Label(d.Kind)
	if label == "" && !reviewZoneKinds[d.Kind] {
		return frigateReview{}, "", false
	}
	if s.cams == nil {
		s.cams = map[string]*reviewCamera{}
	}
	c := s.cams[d.Camera]
	if c == nil {
		c = &reviewCamera{objInc: map[string]bool{}, zoneInc: map[string]string{}}
		s.cams[d.Camera] = c
	}
	defer func() {
		if c.seg == nil && len(c.zoneInc) == 0 {
			delete(s.cams, d.Camera)
		}
	}()
	if reviewZoneKinds[d.Kind] {
		if ev.Type == incident.TypeEnd {
			delete(c.zoneInc, d.IncidentID)
			return frigateReview{}, "", false
		}
		if d.Zone == "" || c.zoneInc[d.IncidentID] == d.Zone {
			return frigateReview{}, "", false
		}
		if len(c.zoneInc) >= frigateMaxObjects {
			return frigateReview{}, "", false
		}
		c.zoneInc[d.IncidentID] = d.Zone
		if c.seg == nil {
			return frigateReview{}, "", false // counts for the next segment
		}
		prev := c.seg
		cur := cloneSegment(prev)
		if !slices.Contains(cur.Data.Zones, d.Zone) {
			cur.Data.Zones = append(cur.Data.Zones, d.Zone)
		}
		cur.Severity = severityAlert
		if prev.Severity == cur.Severity && len(prev.Data.Zones) == len(cur.Data.Zones) {
			return frigateReview{}, "", false
		}
		c.seg = cur
		return frigateReview{Type: "update", Before: prev, After: cur}, statusOf(cur), true
	}

	// A person or vehicle incident.
	if ev.Type == incident.TypeEnd {
		delete(c.objInc, d.IncidentID)
		prev := c.seg
		if prev == nil {
			// Its segment was not seen (a restart between start and end):
			// end the one it opened.
			prev = newSegment(d, c, added, label)
		} else if len(c.objInc) > 0 {
			return frigateReview{}, "", false // others still there
		}
		cur := cloneSegment(prev)
		end := unixSeconds(ev.Time)
		if d.EndedAt != nil {
			end = unixSeconds(*d.EndedAt)
		}
		cur.EndTime = &end
		c.seg = nil
		return frigateReview{Type: "end", Before: prev, After: cur}, "NONE", true
	}
	if !c.objInc[d.IncidentID] && len(c.objInc) >= frigateMaxObjects {
		return frigateReview{}, "", false
	}
	c.objInc[d.IncidentID] = true
	if c.seg == nil {
		c.seg = newSegment(d, c, added, label)
		return frigateReview{Type: "new", Before: c.seg, After: c.seg}, statusOf(c.seg), true
	}
	prev := c.seg
	cur := cloneSegment(prev)
	for _, id := range added {
		if !slices.Contains(cur.Data.Detections, id) && len(cur.Data.Detections) < reviewMaxDetections {
			cur.Data.Detections = append(cur.Data.Detections, id)
		}
	}
	if len(added) > 0 && !slices.Contains(cur.Data.Objects, label) {
		cur.Data.Objects = append(cur.Data.Objects, label)
	}
	if len(cur.Data.Detections) == len(prev.Data.Detections) && len(cur.Data.Objects) == len(prev.Data.Objects) {
		return frigateReview{}, "", false
	}
	c.seg = cur
	return frigateReview{Type: "update", Before: prev, After: cur}, statusOf(cur), true
}

// save returns what restores the camera's state as it is now: a
// publication that failed is retried with the same message.
func (s *reviewState) save(camera string) (restore func()) {
	c := s.cams[camera]
	if c == nil {
		return func() { delete(s.cams, camera) }
	}
	saved := reviewCamera{seg: c.seg, objInc: maps.Clone(c.objInc), zoneInc: maps.Clone(c.zoneInc)}
	return func() { s.cams[camera] = &saved }
}

// newSegment returns the segment the person or vehicle incident d, with
// the objects added, opens on camera c.
func newSegment(d *incident.Incident, c *reviewCamera, added []string, label string) *reviewSegment {
	dets := slices.Clone(added)
	if dets == nil {
		dets = []string{}
	}
	seg := &reviewSegment{ID: reviewID(d.StartedAt, d.IncidentID), Camera: d.Camera, StartTime: unixSeconds(d.StartedAt),
		Severity: severityDetection, Data: reviewData{Detections: dets, Objects: []string{label},
			VerifiedObjects: []string{}, SubLabels: []string{}, Zones: []string{}, Audio: []string{}}}
	for _, z := range slices.Sorted(maps.Values(c.zoneInc)) {
		if !slices.Contains(seg.Data.Zones, z) {
			seg.Data.Zones = append(seg.Data.Zones, z)
		}
	}
	if len(seg.Data.Zones) > 0 {
		seg.Severity = severityAlert
	}
	return seg
}

// cloneSegment returns a copy of seg to change (the published ones stay
// as sent).
func cloneSegment(seg *reviewSegment) *reviewSegment {
	n := *seg
	n.Data.Detections = slices.Clone(seg.Data.Detections)
	n.Data.Zones = slices.Clone(seg.Data.Zones)
	n.Data.Objects = slices.Clone(seg.Data.Objects)
	return &n
}

// statusOf is <frigate>/<camera>/review_status for an open segment.
func statusOf(seg *reviewSegment) string {
	if seg.Severity == severityAlert {
		return "ALERT"
	}
	return "DETECTION"
}
