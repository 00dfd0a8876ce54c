package incidenttest

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/vigil-video/vigil/incident"
)

// Events returns n events over three cameras, each camera's in
// start, update..., end order, of incidents no other call has (an end's
// id derives from its incident's).
func Events(n int) []incident.Event {
	batch := incidentBatch.Add(1)
	out := make([]incident.Event, n)
	for i := range out {
		typ := incident.TypeUpdate
		switch {
		case i < 3:
			typ = incident.TypeStart
		case i >= n-3:
			typ = incident.TypeEnd
		}
		cam := fmt.Sprintf("cam%d", i%3)
		out[i] = incident.New(typ, incident.Incident{IncidentID: fmt.Sprintf("inc-%s-%d-%s", incidentRun, batch, cam), Camera: cam, Kind: "motion", FrameTimeSource: incident.TimeReceipt,
			StartedAt: time.Now(), FrameTime: time.Now(), Score: 0.5}, time.Now())
	}
	return out
}

var (
	incidentRun   = uuid.NewString()[:8] // this process's (the matrix test runs children)
	incidentBatch atomic.Int64
)
