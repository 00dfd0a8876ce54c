package mqtt

import (
	"maps"
	"math"
	"slices"
	"time"

	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/incident"
)

// Frigate compatibility (config.MQTTSink.FrigateCompat): what vigil detects,
// published the way Frigate's MQTT API documents it
// (docs.frigate.video/integrations/mqtt), so that Frigate consumers read
// it unchanged:
//
//   - each person and vehicle the camera follows is a Frigate tracked
//     object (labelled "person" or "car") on <frigate>/events, its own
//     event within its incident (frigate.Incident: id from camera, track
//     id and the incident's start; type new, update, end; before is the
//     previous message's after), with its pixel box, score, a running
//     top_score and has_snapshot once the incident has evidence; it ends
//     when the incident's events no longer carry it or the incident ends,
//     keeping its last score and top_score (the end reports no new
//     sighting). Without the object network (HOG) a person incident is
//     one object under the incident's id;
//   - review segments on <frigate>/reviews grouping the objects of the
//     camera's incidents, and the camera's review_status
//     (frigate_reviews.go);
//   - <frigate>/<camera>/person (car for vehicles), /all (people only)
//     and their /active variants carry the count (0 at the end),
//     <frigate>/<zone>/person and /all the count of a crowd incident's
//     zone;
//   - <frigate>/<camera>/person/snapshot (car/snapshot) carries the
//     incident's snapshot (JPEG, retained), when the sink can read it;
//   - motion incidents are <frigate>/<camera>/motion ON at the start, OFF
//     at the end;
//   - <frigate>/available is "online" while the sink is connected, with
//     its own connection's last will "offline", and each camera's retained
//     states (detect, motion, snapshots, ... /state) as Frigate publishes
//     them at start (frigate_available.go).
//
// Other kinds (intrusion, loitering, tamper, the health kinds) have no
// Frigate object label: they stay on vigil's own topics.

// frigateMinRegion is the smallest detection region Frigate reports (its
// default model input, 320 pixels).
const frigateMinRegion = 320

// frigatePayload is a <frigate>/events message.
type frigatePayload struct {
	Type   string          `json:"type"` // new, update, end
	Before *frigateDetails `json:"before"`
	After  *frigateDetails `json:"after"`
}

// frigateDetails is a tracked object as Frigate publishes it.
type frigateDetails struct {
	ID                string             `json:"id"`
	Camera            string             `json:"camera"`
	FrameTime         float64            `json:"frame_time"`
	Snapshot          *frigateSnapshot   `json:"snapshot"`
	Label             string             `json:"label"`
	SubLabel          *string            `json:"sub_label"`
	TopScore          float64            `json:"top_score"`
	FalsePositive     bool               `json:"false_positive"`
	StartTime         float64            `json:"start_time"`
	EndTime           *float64           `json:"end_time"`
	Score             float64            `json:"score"`
	Box               [4]int             `json:"box"`
	Area              int                `json:"area"`
	Ratio             float64            `json:"ratio"`
	Region            [4]int             `json:"region"`
	CurrentZones      []string           `json:"current_zones"`
	EnteredZones      []string           `json:"entered_zones"`
	Thumbnail         *string            `json:"thumbnail"`
	HasSnapshot       bool               `json:"has_snapshot"`
	HasClip           bool               `json:"has_clip"`
	Active            bool               `json:"active"`
	Stationary        bool               `json:"stationary"`
	MotionlessCount   int                `json:"motionless_count"`
	PositionChanges   int                `json:"position_changes"`
	Attributes        map[string]any     `json:"attributes"`
	CurrentAttributes []frigateAttribute `json:"current_attributes"`
}

// frigateAttribute is an attribute box (a face on a person); vigil has none.
type frigateAttribute struct {
	Label string  `json:"label"`
	Box   [4]int  `json:"box"`
	Score float64 `json:"score"`
}

// frigateSnapshot is the snapshot of a tracked object: the frame it was
// taken from and the object there.
type frigateSnapshot struct {
	FrameTime  float64  `json:"frame_time"`
	Box        [4]int   `json:"box"`
	Area       int      `json:"area"`
	Region     [4]int   `json:"region"`
	Score      float64  `json:"score"`
	Attributes []string `json:"attributes"`
}

// frigateState is what the sink remembers of the open person and vehicle
// incidents: their Frigate objects (frigate.Incident) and each object's
// last message, to publish before, the running top_score and the last
// box. It is used under the sink's mu, by the delivery goroutine.
type frigateState struct {
	incidents map[string]*frigateIncident // by incident id
	order     []string                    // incident ids, oldest first
}

// frigateIncident is one incident's objects and their last messages.
type frigateIncident struct {
	fold    frigate.Incident
	details map[string]*frigateDetails // by Frigate event id
}

// frigateMaxObjects bounds the remembered incidents (their end events may
// never come: a crash with the outbox lost).
const frigateMaxObjects = 4096

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// pixelBox returns a normalized [x, y, w, h] box as Frigate's [x1, y1,
// x2, y2] in pixels of a w×h frame.
func pixelBox(b [4]float64, w, h int) [4]int {
	fw, fh := float64(w), float64(h)
	x1, y1 := int(math.Round(b[0]*fw)), int(math.Round(b[1]*fh))
	x2, y2 := int(math.Round((b[0]+b[2])*fw)), int(math.Round((b[1]+b[3])*fh))
	return [4]int{max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)}
}

// frigateRegion returns the square Frigate would have run its detector on
// for box: twice the box's larger side, at least frigateMinRegion, at most
// the frame's smaller side, centred on the box and moved inside the frame.
func frigateRegion(box [4]int, w, h int) [4]int {
	bw, bh := box[2]-box[0], box[3]-box[1]
	side := min(max(2*max(bw, bh), frigateMinRegion), min(w, h))
	cx, cy := (box[0]+box[2])/2, (box[1]+box[3])/2
	x1 := min(max(cx-side/2, 0), w-side)
	y1 := min(max(cy-side/2, 0), h-side)
	return [4]int{x1, y1, x1 + side, y1 + side}
}

// update maps a person or vehicle event to its <frigate>/events messages,
// one per object it changes (frigate.Incident.Apply), and returns the ids
// of the objects it made new (at the incident's end: those it ended);
// false for an event of another kind.
func (s *frigateState) update(ev *incident.Event) ([]frigatePayload, []string, bool) {
	d := &ev.Data
	if frigate.Label(d.Kind) == "" {
		return nil, nil, false
	}
	if s.incidents == nil {
		s.incidents = map[string]*frigateIncident{}
	}
	inc := s.incidents[d.IncidentID]
	if inc == nil {
		inc = &frigateIncident{details: map[string]*frigateDetails{}}
	}
	var out []frigatePayload
	var added []string
	for _, c := range inc.fold.Apply(ev) {
		prev := inc.details[c.After.ID]
		cur := frigateMessage(&c.After, d, prev, inc.fold.Snapshot, c.Type == "end")
		p := frigatePayload{Type: c.Type, Before: prev, After: cur}
		if c.Type == "new" || prev == nil {
			// Frigate's first message of an object has before = the state
			// it was created with: the same as after.
			p.Before = cur
		}
		if c.Type == "new" || ev.Type == incident.TypeEnd {
			added = append(added, c.After.ID)
		}
		inc.details[c.After.ID] = cur
		out = append(out, p)
	}
	if ev.Type == incident.TypeEnd {
		s.forget(d.IncidentID)
	} else {
		if len(inc.details) > len(inc.fold.Objects) {
			// Objects the fold let go to make room.
			for id := range inc.details {
				if !slices.ContainsFunc(inc.fold.Objects, func(o frigate.Object) bool { return o.ID == id }) {
					delete(inc.details, id)
				}
			}
		}
		s.remember(d.IncidentID, inc)
	}
	return out, added, true
}

// frigateMessage returns the <frigate>/events object for o after an
// event of its incident d; prev is its previous message (nil for none).
func frigateMessage(o *frigate.Object, d *incident.Incident, prev *frigateDetails, snapshot, ended bool) *frigateDetails {
	cur := &frigateDetails{ID: o.ID, Camera: d.Camera, Label: o.Label, EnteredZones: slices.Clone(o.Zones),
		Attributes: map[string]any{}, CurrentAttributes: []frigateAttribute{}, CurrentZones: []string{}}
	if cur.EnteredZones == nil {
		cur.EnteredZones = []string{}
	}
	if prev != nil {
		cur.Box, cur.Area, cur.Ratio, cur.Region = prev.Box, prev.Area, prev.Ratio, prev.Region
		cur.Snapshot, cur.HasSnapshot = prev.Snapshot, prev.HasSnapshot
	}
	cur.FrameTime = unixSeconds(o.Last)
	cur.StartTime = unixSeconds(o.Start)
	cur.Score, cur.TopScore = o.Score, o.TopScore
	if o.HasBox && d.FrameWidth > 0 && d.FrameHeight > 0 {
		// Without a frame size the last known box stays.
		cur.Box = pixelBox(o.Box, d.FrameWidth, d.FrameHeight)
		cur.Area = (cur.Box[2] - cur.Box[0]) * (cur.Box[3] - cur.Box[1])
		cur.Ratio = 0
		if h := cur.Box[3] - cur.Box[1]; h > 0 {
			cur.Ratio = math.Round(float64(cur.Box[2]-cur.Box[0])/float64(h)*1e6) / 1e6
		}
		cur.Region = frigateRegion(cur.Box, d.FrameWidth, d.FrameHeight)
	}
	if d.Zone != "" && !ended {
		cur.CurrentZones = []string{d.Zone}
	}
	if snapshot {
		if !cur.HasSnapshot || cur.Score >= cur.TopScore {
			cur.Snapshot = &frigateSnapshot{FrameTime: cur.FrameTime, Box: cur.Box, Area: cur.Area, Region: cur.Region,
				Score: cur.Score, Attributes: []string{}}
		}
		cur.HasSnapshot = true
	}
	cur.Active = true
	if ended && o.End != nil {
		end := unixSeconds(*o.End)
		cur.EndTime = &end
	}
	return cur
}

// save returns what restores an incident's objects as they are now: a
// publication that failed is retried with the same messages.
func (s *frigateState) save(id string) (restore func()) {
	inc := s.incidents[id]
	if inc == nil {
		return func() { s.forget(id) }
	}
	saved := &frigateIncident{fold: inc.fold.Clone(), details: maps.Clone(inc.details)}
	return func() { s.remember(id, saved) }
}

func (s *frigateState) remember(id string, inc *frigateIncident) {
	if s.incidents == nil {
		s.incidents = map[string]*frigateIncident{}
	}
	if _, ok := s.incidents[id]; !ok {
		s.order = append(s.order, id)
		if len(s.order) > frigateMaxObjects {
			delete(s.incidents, s.order[0])
			s.order = s.order[1:]
		}
	}
	s.incidents[id] = inc
}

func (s *frigateState) forget(id string) {
	delete(s.incidents, id)
	if i := slices.Index(s.order, id); i >= 0 {
		s.order = slices.Delete(s.order, i, i+1)
	}
}
