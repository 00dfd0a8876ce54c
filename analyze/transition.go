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

// KindMotion is the Transition.Kind of motion incidents.
const KindMotion = "motion"

// Transition reports a change in an incident's life. The caller owns it,
// including Boxes.
type Transition struct {
	Phase      Phase
	IncidentID string    // stable for the incident's life (UUID v7)
	Kind       string    // KindMotion
	StartedAt  time.Time // frame time of the first frame of the incident's motion
	EndedAt    time.Time // zero unless Phase == PhaseEnd
	FrameTime  time.Time // capture time of the frame that triggered this transition
	Score      float64   // moving share of the frame area, 0..1 (max over the incident for PhaseEnd)
	Boxes      []Box     // moving regions of the triggering frame, largest first, at most MaxBoxes
}

// MaxBoxes is the most boxes a Transition carries.
const MaxBoxes = 8
