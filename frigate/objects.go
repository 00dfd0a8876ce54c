package frigate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// One Frigate event per tracked object: each person or vehicle the
// camera follows (incident.Object.TrackID) is its own Frigate event
// within its incident, with its own label, score, top_score and box. It
// is new when an event of the incident first carries it, updated by each
// event that carries it again, and ends when an event of the incident no
// longer carries it (the camera stopped following it) or the incident
// ends. Scores do not change at the end: it reports no new sighting. An
// object that comes back under the same track id within the incident
// (the tracker found it again) is new again under the same id.
//
// Without tracked objects (HOG, or events from before tracking) the
// incident is one Frigate event, under the incident's id, scored by
// Score.

// MaxObjects bounds the objects kept of one incident: past it a new
// object takes the place of the oldest ended one, or is not reported
// while every one is open (the tracker follows at most 32 per camera).
const MaxObjects = 64

// maxZones bounds the zones an object records as entered.
const maxZones = 16

// EventID is the Frigate event id of the object trackID of the incident
// that started at start on camera, in Frigate's form
// "<start, Unix seconds, 6 decimals>-<6 characters>" (the Home Assistant
// integration reads the start from it to expire notification links): the
// characters are hex digits of the SHA-256 of camera, track id and start,
// so every node and every run that sees the same events names the object
// the same.
func EventID(camera, trackID string, start time.Time) string {
	st := start.UTC().Format(time.RFC3339Nano)
	h := sha256.Sum256([]byte(strings.Join([]string{camera, trackID, st}, "\x00")))
	return fmt.Sprintf("%d.%06d-%s", start.Unix(), start.Nanosecond()/1000, hex.EncodeToString(h[:3]))
}

// StartOf returns the incident start an EventID names, or false for an
// id not of that form (an incident id): the start as EventID writes it
// (no sign, no leading zero), six decimals, six lower-case hex digits.
func StartOf(id string) (time.Time, bool) {
	num, hash, ok := strings.Cut(id, "-")
	if !ok || len(hash) != 6 || strings.Trim(hash, "0123456789abcdef") != "" {
		return time.Time{}, false
	}
	sec, frac, ok := strings.Cut(num, ".")
	if !ok || len(frac) != 6 || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}, false
	}
	s, err1 := strconv.ParseInt(sec, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || s < 0 || strconv.FormatInt(s, 10) != sec {
		return time.Time{}, false
	}
	return time.Unix(s, us*1000), true
}

// Object is one Frigate event: a tracked object of an incident, or the
// whole incident when it has none.
type Object struct {
	ID string `json:"id"`
	// TrackID is the camera's track id; empty for the whole incident.
	TrackID string `json:"track_id,omitempty"`
	Label   string `json:"label"`
	// Start and Last are the frame times of its first and latest
	// sightings in the incident.
	Start time.Time `json:"start"`
	Last  time.Time `json:"last"`
	// End is set once it ended.
	End      *time.Time `json:"end,omitempty"`
	Score    float64    `json:"score"`
	TopScore float64    `json:"top_score"`
	// Box is its latest box, [x, y, w, h] normalized; HasBox is false
	// until one was seen.
	Box    [4]float64 `json:"box"`
	HasBox bool       `json:"has_box,omitempty"`
	// Zones are the zones it entered.
	Zones []string `json:"zones,omitempty"`
}

// Incident is what Frigate sees of a person or vehicle incident: its
// objects in the order they appeared, at most MaxObjects. The zero value
// is an incident with no event applied.
type Incident struct {
	Objects []Object `json:"objects"`
	// Snapshot: the incident has evidence (every object's has_snapshot).
	Snapshot bool `json:"snapshot,omitempty"`
}

// Change is what an event did to one object: Type is "new", "update" or
// "end"; Before is the object as it was (nil when new), After as it is.
type Change struct {
	Type   string
	Before *Object
	After  Object
}

// Clone returns a copy of inc that shares nothing with it.
func (inc *Incident) Clone() Incident {
	c := Incident{Objects: slices.Clone(inc.Objects), Snapshot: inc.Snapshot}
	for i := range c.Objects {
		c.Objects[i].Zones = slices.Clone(c.Objects[i].Zones)
		if e := c.Objects[i].End; e != nil {
			t := *e
			c.Objects[i].End = &t
		}
	}
	return c
}

// Apply folds ev, an event of the incident, into inc and returns what it
// changed, new and updated objects first, then those that ended. Events
// of an incident must come in order; one of a kind with no Frigate label
// changes nothing.
func (inc *Incident) Apply(ev *incident.Event) []Change {
	d := &ev.Data
	label := Label(d.Kind)
	if label == "" {
		return nil
	}
	if len(d.Evidence) > 0 {
		inc.Snapshot = true
	}
	var out []Change
	if ev.Type == incident.TypeEnd {
		end := d.FrameTime
		if d.EndedAt != nil {
			end = *d.EndedAt
		}
		if len(inc.Objects) == 0 {
			// Its earlier events were not seen (a restart between start
			// and end): the whole incident ends.
			o := inc.whole(d, label)
			o.Score, _ = Score(d)
			o.TopScore = o.Score
		}
		for i := range inc.Objects {
			if inc.Objects[i].End == nil {
				out = append(out, inc.end(i, end))
			}
		}
		return out
	}
	var tracked []*incident.Object
	for i := range d.Objects {
		if o := &d.Objects[i]; o.TrackID != "" && ObjectLabel(o.Label) == label {
			tracked = append(tracked, o)
		}
	}
	if len(tracked) == 0 && !inc.hasTracks() {
		// The whole incident is the object.
		i := inc.index(d.IncidentID)
		var before *Object
		if i < 0 {
			inc.whole(d, label)
			i = len(inc.Objects) - 1
		} else {
			b := inc.Objects[i]
			before = &b
		}
		o := &inc.Objects[i]
		score, obj := Score(d)
		box, ok := [4]float64{}, false
		switch {
		case obj != nil:
			box, ok = obj.Box, true
		case len(d.Boxes) > 0:
			box, ok = d.Boxes[0], true
		}
		inc.sighted(o, d, score, box, ok)
		out = append(out, change(before, o))
		return out
	}
	seen := make(map[string]bool, len(tracked))
	for _, t := range tracked {
		id := EventID(d.Camera, t.TrackID, d.StartedAt)
		seen[id] = true
		i := inc.index(id)
		var before *Object
		if i >= 0 && inc.Objects[i].End == nil {
			b := inc.Objects[i]
			before = &b
		}
		if i < 0 {
			if !inc.makeRoom() {
				continue
			}
			start := d.FrameTime
			if ev.Type == incident.TypeStart {
				start = d.StartedAt // there since the incident began
			}
			inc.Objects = append(inc.Objects, Object{ID: id, TrackID: t.TrackID, Label: label, Start: start})
			i = len(inc.Objects) - 1
		}
		o := &inc.Objects[i]
		o.End = nil
		inc.sighted(o, d, clamp01(t.Score), t.Box, true)
		out = append(out, change(before, o))
	}
	// The objects no longer carried (and the whole incident, when tracked
	// objects take over from it) end at their last sighting.
	for i := range inc.Objects {
		if o := &inc.Objects[i]; o.End == nil && !seen[o.ID] {
			out = append(out, inc.end(i, o.Last))
		}
	}
	return out
}

// whole appends the whole-incident object and returns it.
func (inc *Incident) whole(d *incident.Incident, label string) *Object {
	inc.Objects = append(inc.Objects, Object{ID: d.IncidentID, Label: label, Start: d.StartedAt, Last: d.FrameTime})
	return &inc.Objects[len(inc.Objects)-1]
}

// sighted records a sighting of o on d's frame.
func (inc *Incident) sighted(o *Object, d *incident.Incident, score float64, box [4]float64, hasBox bool) {
	o.Last = d.FrameTime
	o.Score = score
	o.TopScore = max(o.TopScore, score)
	if hasBox {
		o.Box, o.HasBox = box, true
	}
	if d.Zone != "" && !slices.Contains(o.Zones, d.Zone) && len(o.Zones) < maxZones {
		o.Zones = append(o.Zones, d.Zone)
	}
}

// end ends object i at t (not before its last sighting) and returns the
// change.
func (inc *Incident) end(i int, t time.Time) Change {
	o := &inc.Objects[i]
	before := *o
	if t.Before(o.Last) {
		t = o.Last
	}
	o.End = &t
	return Change{Type: "end", Before: &before, After: *o}
}

func change(before *Object, o *Object) Change {
	if before == nil {
		return Change{Type: "new", After: *o}
	}
	return Change{Type: "update", Before: before, After: *o}
}

func (inc *Incident) index(id string) int {
	return slices.IndexFunc(inc.Objects, func(o Object) bool { return o.ID == id })
}

func (inc *Incident) hasTracks() bool {
	return slices.ContainsFunc(inc.Objects, func(o Object) bool { return o.TrackID != "" })
}

// makeRoom makes room for one more object: false when MaxObjects are
// held and all are open.
func (inc *Incident) makeRoom() bool {
	if len(inc.Objects) < MaxObjects {
		return true
	}
	i := slices.IndexFunc(inc.Objects, func(o Object) bool { return o.End != nil })
	if i < 0 {
		return false
	}
	inc.Objects = slices.Delete(inc.Objects, i, i+1)
	return true
}
