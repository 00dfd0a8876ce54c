// Package incidenttest provides incident events and an in-memory
// publisher for tests and the scored replay, as net/http/httptest does for
// HTTP.
package incidenttest

import (
	"slices"
	"sync"

	"github.com/vigil-video/vigil/incident"
)

// Memory is a publisher that keeps every event in memory, in order: for
// the scored replay and for tests. Safe for concurrent use.
type Memory struct {
	mu  sync.Mutex
	evs []incident.Event
}

// Emit keeps ev; it never fails.
func (m *Memory) Emit(ev incident.Event) error {
	m.mu.Lock()
	m.evs = append(m.evs, ev)
	m.mu.Unlock()
	return nil
}

// Events returns a copy of the events kept so far.
func (m *Memory) Events() []incident.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.evs)
}
