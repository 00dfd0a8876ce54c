// Package frigate says what vigil's incidents are in Frigate's terms
// (docs.frigate.video): which incident kinds are Frigate tracked objects,
// under what label, their detection score, and the Frigate events
// (tracked objects) an incident's events make (Incident, objects.go). The
// MQTT sink's frigate_compat (sink/mqtt), the incident history (history)
// and the HTTP API's Frigate endpoints (api) all answer from it, so that
// an object reads the same everywhere. It is a leaf: it imports incident
// only.
package frigate

import (
	"math"

	"github.com/vigil-video/vigil/incident"
)

// Frigate labels of vigil's objects: people are Frigate's "person",
// vehicles (one class-agnostic label in vigil) Frigate's "car", the label
// its default model gives most vehicles and the one Home Assistant's
// Frigate integration and blueprints offer.
const (
	LabelPerson = "person"
	LabelCar    = "car"
)

// Label returns the Frigate label of an incident kind: person and vehicle
// incidents are Frigate tracked objects; the others have none (motion is
// Frigate's motion sensor, the zone rules make a review an alert, the
// rest stays on vigil's own topics).
func Label(kind string) string {
	switch kind {
	case "person":
		return LabelPerson
	case "vehicle":
		return LabelCar
	}
	return ""
}

// ObjectLabel returns the Frigate label of an incident.Object's label
// ("person", "vehicle"), or "".
func ObjectLabel(label string) string {
	switch label {
	case "person":
		return LabelPerson
	case "vehicle":
		return LabelCar
	}
	return ""
}

// Score is the detection confidence Frigate reports for an incident taken
// as one object, 0..1, and the object it belongs to: the best-scoring
// object of the kind's label the network found, or, without the network
// (HOG gives no confidence, the incident's score is the count of people),
// 1 for a person seen and no object.
func Score(d *incident.Incident) (float64, *incident.Object) {
	label := Label(d.Kind)
	var best *incident.Object
	for i := range d.Objects {
		if o := &d.Objects[i]; ObjectLabel(o.Label) == label && (best == nil || o.Score > best.Score) {
			best = o
		}
	}
	if best != nil {
		return clamp01(best.Score), best
	}
	if d.Score >= 1 {
		return 1, nil
	}
	return math.Max(d.Score, 0), nil
}

func clamp01(x float64) float64 { return math.Min(math.Max(x, 0), 1) }
