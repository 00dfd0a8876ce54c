package incidenttest

import (
	"time"

	"github.com/vigil-video/vigil/incident"
)

// EveryKind returns start, update and end events of every kind and cause
// vigil raises (a cluster node's cluster_degraded too), built the way the
// engine builds them.
func EveryKind() []incident.Event {
	t0 := time.Date(2026, 11, 22, 21, 4, 4, 600e6, time.UTC)
	t1, t2 := t0.Add(500*time.Millisecond), t0.Add(9*time.Second)
	type inc struct {
		kind, cause, zone string
		scores            [3]float64 // start, update, end
		boxes             [][4]float64
	}
	people := [][4]float64{{0.41, 0.38, 0.12, 0.40}, {0.7, 0.3, 0.1, 0.35}}
	moving := [][4]float64{{0.41, 0.38, 0.12, 0.20}}
	cars := [][4]float64{{0.1, 0.5, 0.3, 0.2}, {0.6, 0.55, 0.25, 0.18}}
	var incs []inc
	incs = append(incs,
		inc{"motion", "", "", [3]float64{0.031, 0.2, 1}, moving},
		inc{"intrusion", "", "yard", [3]float64{0.004, 0, 0.05}, moving},
		inc{"person", "", "", [3]float64{1, 2, 3}, people},
		inc{"vehicle", "", "", [3]float64{1, 2, 2}, cars},
		inc{"crowd", "", "square", [3]float64{4, 3, 7}, people},
		inc{"loitering", "", "door", [3]float64{8, 8.4, 13.08}, moving},
	)
	for _, c := range []string{"covered", "defocus", "moved", "frozen"} {
		incs = append(incs, inc{"tamper", c, "", [3]float64{0.88, 0.9, 1}, nil})
	}
	for _, c := range []string{"unreachable", "tls", "auth", "stalled", "timeout", "closed", "bad_stream", "unsupported", "over_limit", "no_keyframe"} {
		incs = append(incs, inc{"camera_offline", c, "", [3]float64{1, 1, 1}, nil})
	}
	for _, c := range []string{"decode_errors", "no_pictures", "timestamps", "not_processed", "below_rate"} {
		incs = append(incs, inc{"analysis_stalled", c, "", [3]float64{1, 1, 1}, nil})
	}
	for _, c := range []string{"store_down", "unreachable"} {
		incs = append(incs, inc{"cluster_degraded", c, "", [3]float64{1, 1, 1}, nil})
	}
	var evs []incident.Event
	for i, x := range incs {
		health := x.kind == "camera_offline" || x.kind == "analysis_stalled" || x.kind == "cluster_degraded"
		in := incident.Incident{IncidentID: "0193a1b2-0000-7000-8000-00000000000" + string(rune('a'+i%6)), Camera: "north-gate.2",
			Kind: x.kind, Cause: x.cause, Zone: x.zone, StartedAt: t0, FrameTime: t1, FrameTimeSource: incident.TimeRTCP}
		if health {
			in.FrameTimeSource = incident.TimeReceipt
		} else {
			in.FrameWidth, in.FrameHeight = 1920, 1080
		}
		for phase, typ := range []string{incident.TypeStart, incident.TypeUpdate, incident.TypeEnd} {
			in := in
			in.Score, in.Boxes = x.scores[phase], x.boxes
			if x.kind == "person" || x.kind == "vehicle" || x.kind == "motion" {
				// With the object network: its objects, pixel boxes in
				// the 1920x1080 picture.
				in.Objects = []incident.Object{{Label: "person", Score: 0.83, Box: [4]float64{0.41, 0.38, 0.12, 0.40}, PixelBox: &[4]int{787, 410, 1018, 842},
					TrackID: "0193a1b2-0000-7000-8000-0000000000a1"}}
				if x.kind == "vehicle" {
					in.Objects = []incident.Object{{Label: "vehicle", Score: 0.61, Box: [4]float64{0.1, 0.5, 0.3, 0.2}, PixelBox: &[4]int{192, 540, 768, 756},
						TrackID: "0193a1b2-0000-7000-8000-0000000000a2"}}
				}
				if x.kind == "motion" {
					in.Objects = append(in.Objects, incident.Object{Label: "vehicle", Score: 0.61, Box: [4]float64{0.1, 0.5, 0.3, 0.2}})
				}
			}
			switch typ {
			case incident.TypeStart:
				if !health {
					in.Evidence = []incident.Evidence{{Role: "start", Path: "north-gate.2/0193a1b2-0000-7000-8000-000000000001-start.jpg"}}
				}
			case incident.TypeUpdate:
				if !health {
					in.Evidence = []incident.Evidence{{Role: "best", JPEGBase64: "/9j/4AAQSkZJRgABAQ=="}}
				}
			case incident.TypeEnd:
				in.EndedAt, in.Boxes, in.Objects = &t2, nil, nil
			}
			evs = append(evs, incident.New(typ, in, t1))
		}
	}
	return evs
}
