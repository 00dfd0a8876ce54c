package mqtt

import (
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
//   - person incidents are Frigate tracked objects labelled "person" on
//     <frigate>/events (type new, update, end; before is the previous
//     message's after), with pixel boxes, a running top_score and
//     has_snapshot once the incident has evidence; with the object network,
//     score and box are those of its best-scoring person; the end keeps
//     the last score and the top_score (it reports no new sighting);
//   - review segments on <frigate>/reviews and the camera's review_status
//     (frigate_reviews.go);
//   - <frigate>/<camera>/person, /all and their /active variants carry the
//     people count (0 at the end), <frigate>/<zone>/person and /all the
//     count of a crowd incident's zone;
//   - <frigate>/<camera>/person/snapshot carries the incident's snapshot
//     (JPEG, retained), when the sink can read it;
//   - motion incidents are <frigate>/<camera>/motion ON at the start, OFF
//     at the end;
//   - <frigate>/available is "online" while the sink is connected, with
//     its own connection's last will "offline", and each camera's retained
//     states (detect, motion, snapshots, ... /state) as Frigate publishes
//     them at start (frigate_available.go).
//
// Other kinds (intrusion, loitering, tamper, the health kinds) have no
// Frigate object label: they stay on vigil's own topics.

// frigateLabel is the Frigate label of vigil's people.
const frigateLabel = frigate.LabelPerson

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

// frigateState is what the sink remembers of the open person incidents,
// to publish before, the running top_score, entered_zones and the last
// box. It is used by the sink's delivery goroutine only.
type frigateState struct {
	objects map[string]*frigateDetails // by incident id
	order   []string                   // incident ids, oldest first
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

// update maps a person event to its <frigate>/events message, or returns
// false for an event that is not a person incident's.
func (s *frigateState) update(ev *incident.Event) (frigatePayload, bool) {
	d := &ev.Data
	if frigate.Label(d.Kind) != frigateLabel {
		return frigatePayload{}, false
	}
	if s.objects == nil {
		s.objects = map[string]*frigateDetails{}
	}
	prev := s.objects[d.IncidentID]
	cur := &frigateDetails{}
	if prev != nil {
		c := *prev
		cur = &c
		cur.EnteredZones = slices.Clone(prev.EnteredZones)
	} else {
		cur = &frigateDetails{ID: d.IncidentID, Camera: d.Camera, Label: frigateLabel, EnteredZones: []string{},
			Attributes: map[string]any{}, CurrentAttributes: []frigateAttribute{}}
	}
	cur.FrameTime = unixSeconds(d.FrameTime)
	cur.StartTime = unixSeconds(d.StartedAt)
	var obj *incident.Object
	if ev.Type != incident.TypeEnd || prev == nil {
		// The end reports no new sighting (no objects, the people count as
		// score): the object keeps its last score and top_score, as
		// Frigate's end does.
		cur.Score, obj = frigate.Score(d)
		cur.TopScore = math.Max(cur.TopScore, cur.Score)
	}
	if len(d.Boxes) > 0 && d.FrameWidth > 0 && d.FrameHeight > 0 {
		// Boxes are largest first: the main person, unless the network
		// scored one (its best is the object). Without a box (the end
		// event) or a frame size, the last known box stays.
		b := d.Boxes[0]
		if obj != nil {
			b = obj.Box
		}
		cur.Box = pixelBox(b, d.FrameWidth, d.FrameHeight)
		cur.Area = (cur.Box[2] - cur.Box[0]) * (cur.Box[3] - cur.Box[1])
		cur.Ratio = 0
		if h := cur.Box[3] - cur.Box[1]; h > 0 {
			cur.Ratio = math.Round(float64(cur.Box[2]-cur.Box[0])/float64(h)*1e6) / 1e6
		}
		cur.Region = frigateRegion(cur.Box, d.FrameWidth, d.FrameHeight)
	}
	cur.CurrentZones = []string{}
	if d.Zone != "" {
		cur.CurrentZones = []string{d.Zone}
		if !slices.Contains(cur.EnteredZones, d.Zone) {
			cur.EnteredZones = append(cur.EnteredZones, d.Zone)
		}
	}
	if len(d.Evidence) > 0 {
		if !cur.HasSnapshot || cur.Score >= cur.TopScore {
			cur.Snapshot = &frigateSnapshot{FrameTime: cur.FrameTime, Box: cur.Box, Area: cur.Area, Region: cur.Region,
				Score: cur.Score, Attributes: []string{}}
		}
		cur.HasSnapshot = true
	}
	cur.Active, cur.Stationary = true, false
	cur.EndTime = nil
	p := frigatePayload{Type: "update", Before: prev, After: cur}
	switch ev.Type {
	case incident.TypeStart:
		p.Type = "new"
	case incident.TypeEnd:
		p.Type = "end"
		if d.EndedAt != nil {
			end := unixSeconds(*d.EndedAt)
			cur.EndTime = &end
		}
		cur.CurrentZones = []string{}
	}
	if p.Before == nil {
		// Frigate's first message of an object has before = the state it
		// was created with: the same as after.
		p.Before = cur
	}
	if ev.Type == incident.TypeEnd {
		s.forget(d.IncidentID)
	} else {
		s.remember(d.IncidentID, cur)
	}
	return p, true
}

func (s *frigateState) remember(id string, d *frigateDetails) {
	if _, ok := s.objects[id]; !ok {
		s.order = append(s.order, id)
		if len(s.order) > frigateMaxObjects {
			delete(s.objects, s.order[0])
			s.order = s.order[1:]
		}
	}
	s.objects[id] = d
}

func (s *frigateState) forget(id string) {
	delete(s.objects, id)
	if i := slices.Index(s.order, id); i >= 0 {
		s.order = slices.Delete(s.order, i, i+1)
	}
}
