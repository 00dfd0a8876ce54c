package analyze

import (
	"strconv"
	"time"
)

// Box is a region of a frame: x, y, width, height normalized to [0,1] of
// the frame's width and height.
type Box [4]float64

// Phase is the step of an incident's life that a Transition reports.
type Phase int

// The phases of an incident, in order. An incident has exactly one start,
// any number of updates and exactly one end.
const (
	PhaseStart Phase = iota
	PhaseUpdate
	PhaseEnd
)

// String returns "start", "update" or "end".
func (p Phase) String() string {
	switch p {
	case PhaseStart:
		return "start"
	case PhaseUpdate:
		return "update"
	case PhaseEnd:
		return "end"
	}
	return "Phase(" + strconv.Itoa(int(p)) + ")"
}

// Incident kinds (Transition.Kind).
const (
	KindMotion    = "motion"    // moving regions over motion.min_area
	KindIntrusion = "intrusion" // motion or a person in a restricted zone
	KindPerson    = "person"    // people found by HOG or the object network
	KindVehicle   = "vehicle"   // vehicles found by the object network
	KindCrowd     = "crowd"     // people in a zone at or above its crowd count
	KindLoitering = "loitering" // one object in a zone longer than its limit
	KindTamper    = "tamper"    // Cause: covered, defocus, moved or frozen
)

// Transition reports a change in an incident's life. The caller owns it,
// including Boxes.
type Transition struct {
	Phase      Phase
	IncidentID string    // stable for the incident's life (UUID v7)
	Kind       string    // KindMotion, KindTamper, ...
	Zone       string    // the zone of intrusion, crowd and loitering
	Cause      string    // the tamper cause
	StartedAt  time.Time // frame time of the first frame of the incident's motion
	EndedAt    time.Time // zero unless Phase == PhaseEnd
	FrameTime  time.Time // capture time of the frame that triggered this transition
	// Score is the kind's measure on the triggering frame (the maximum over
	// the incident for PhaseEnd): the moving share of the frame (motion,
	// intrusion), people (person, crowd), vehicles (vehicle), seconds in the zone (loitering),
	// or the tamper measure's distance past its threshold, 0..1.
	Score float64
	Boxes []Box // moving regions or people of the triggering frame, largest first, at most MaxBoxes
	// Objects are the objects followed on the triggering frame (found by
	// the object detector, each under its track id), largest first: the people of a person, crowd or
	// zone incident, the vehicles of a vehicle incident, every object of a
	// motion incident. Nil without an
	// object detector, and at PhaseEnd.
	Objects []Object
}

// Shot asks for a snapshot of the frame just analyzed as evidence of an
// incident: Role "start" (its first frame) or "best" (a frame scoring
// well above the previous best), with Boxes drawn.
type Shot struct {
	IncidentID string
	Kind       string
	Role       string
	Boxes      []Box
}

// MaxBoxes is the most boxes a Transition carries.
const MaxBoxes = 8
