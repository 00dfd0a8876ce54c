package event

import (
	"slices"
	"sync"
)

// Memory is a publisher that keeps every event in memory, in order: for
// the scored replay and for tests. Safe for concurrent use.
type Memory struct {
	mu  sync.Mutex
	evs []Event
}

// Emit keeps ev; it never fails.
func (m *Memory) Emit(ev Event) error {
	m.mu.Lock()
	m.evs = append(m.evs, ev)
	m.mu.Unlock()
	return nil
}

// Events returns a copy of the events kept so far.
func (m *Memory) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.evs)
}
