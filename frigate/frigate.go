// Package frigate says what vigil's incidents are in Frigate's terms
// (docs.frigate.video): which incident kinds are Frigate tracked objects,
// under what label, and their detection score. The MQTT sink's
// frigate_compat (sink/mqtt) and the HTTP API's Frigate endpoints (api)
// both answer from it, so that an object reads the same on both. It is a
// leaf: it imports incident only.
package frigate

import (
	"math"

	"github.com/vigil-video/vigil/incident"
)

// LabelPerson is the Frigate label of vigil's people, the only incident
// kind that is a Frigate tracked object (the others have no Frigate
// label: motion is Frigate's motion sensor, the zone rules make a review
// an alert, the rest stays on vigil's own topics).
const LabelPerson = "person"

// Label returns the Frigate label of an incident kind, or "" for a kind
// that is no Frigate object.
func Label(kind string) string {
	if kind == "person" {
		return LabelPerson
	}
	return ""
}

// Score is the detection confidence Frigate reports, 0..1, and the object
// it belongs to: the best-scoring person the network found, or, without
// the network (HOG gives no confidence, the incident's score is the count
// of people), 1 for a person seen and no object.
func Score(d *incident.Incident) (float64, *incident.Object) {
	var best *incident.Object
	for i := range d.Objects {
		if o := &d.Objects[i]; o.Label == LabelPerson && (best == nil || o.Score > best.Score) {
			best = o
		}
	}
	if best != nil {
		return math.Min(math.Max(best.Score, 0), 1), best
	}
	if d.Score >= 1 {
		return 1, nil
	}
	return math.Max(d.Score, 0), nil
}
