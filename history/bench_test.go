package history

import (
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
)

// BenchmarkHistoryWrite: what the writer costs per event, each incident a
// start, an update and an end of the engine's own shapes (EveryKind, a
// fresh UUID v7 incident id each, as the engine's), committed in batches of up to 64 events (fsync each)
// into the default 64 MiB budget, which it fills and then prunes. It
// reports the bytes held per incident and the file's size against the
// budget.
func BenchmarkHistoryWrite(b *testing.B) {
	cfg := testConfig(b.TempDir())
	s := Open(cfg, nil)
	defer s.Close()
	var shapes [][]incident.Event // start, update, end of one incident
	byID := map[string][]incident.Event{}
	var order []string
	for _, ev := range incidenttest.EveryKind() {
		if byID[ev.Data.IncidentID] == nil {
			order = append(order, ev.Data.IncidentID)
		}
		byID[ev.Data.IncidentID] = append(byID[ev.Data.IncidentID], ev)
	}
	for _, id := range order {
		shapes = append(shapes, byID[id])
	}
	// Groups of 64 incidents: a batch of their first events, then one of
	// their second, and so on, so that records are rewritten by later
	// transactions as the engine's updates and ends do.
	const group = 64
	b.ResetTimer()
	n := 0
	for i := 0; n < b.N; i += group {
		evs := make([][]incident.Event, group)
		for j := range evs {
			id := uuid.Must(uuid.NewV7()).String() // as the engine's: time-ordered
			for _, ev := range shapes[(i+j)%len(shapes)] {
				ev.Data.IncidentID = id
				ev.Data.StartedAt = ev.Data.StartedAt.Add(time.Duration(i+j) * time.Second)
				evs[j] = append(evs[j], ev)
			}
		}
		for k := 0; ; k++ {
			var batch []incident.Event
			for _, inc := range evs {
				if k < len(inc) {
					batch = append(batch, inc[k])
				}
			}
			if len(batch) == 0 {
				break
			}
			s.write(batch)
			n += len(batch)
		}
	}
	b.StopTimer()
	count, bytes := s.Size()
	st, err := os.Stat(cfg.Path)
	if err != nil {
		b.Fatal(err)
	}
	if count > 0 {
		b.ReportMetric(float64(bytes)/float64(count), "bytes/incident")
	}
	b.ReportMetric(float64(count), "incidents")
	b.ReportMetric(float64(st.Size())/float64(cfg.MaxBytes), "file/budget")
}
