package delivery

import (
	"slices"
	"sync"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// handoffEvents bounds the events waiting in memory for the outbox writer.
const handoffEvents = 4096

// handoff is the bounded in-memory queue between Publish and the outbox
// writer. Putting never blocks: when the queue is full, an update event is
// refused, and a start or end takes the place of the oldest queued update
// (or is refused when none is queued). Safe for concurrent use.
type handoff struct {
	ready chan struct{} // signalled when events are queued or the queue closes

	mu     sync.Mutex
	q      []queued
	max    int
	closed bool
	// held events were taken by the writer and are not stored yet (it may
	// wait for room): they still count as queued, since heldAt.
	held   int
	heldAt time.Time
}

type queued struct {
	ev incident.Event
	at time.Time // when it was published
}

func newHandoff(max int) *handoff {
	return &handoff{ready: make(chan struct{}, 1), max: max}
}

// put queues ev. It returns the event the full queue dropped for it (ev
// itself, or the oldest queued update), or ok false once the queue is
// closed (ev is not queued).
func (h *handoff) put(ev incident.Event, now time.Time) (dropped *incident.Event, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	if len(h.q) >= h.max {
		if ev.Type == incident.TypeUpdate {
			return &ev, true
		}
		i := slices.IndexFunc(h.q, func(q queued) bool { return q.ev.Type == incident.TypeUpdate })
		if i < 0 {
			return &ev, true
		}
		old := h.q[i].ev
		dropped = &old
		h.q = slices.Delete(h.q, i, i+1)
	}
	h.q = append(h.q, queued{ev, now})
	h.signal()
	return dropped, true
}

// take moves up to max queued events, oldest first, into buf; they count
// as queued until stored is called. It reports false once the queue is
// closed and empty.
func (h *handoff) take(buf []incident.Event, max int) ([]incident.Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := min(max, len(h.q))
	for _, q := range h.q[:n] {
		buf = append(buf, q.ev)
	}
	if n > 0 {
		h.held, h.heldAt = n, h.q[0].at
	}
	clear(h.q[:n]) // release the events
	h.q = h.q[n:]
	if len(h.q) == 0 {
		h.q = nil // let the backing array go
	}
	return buf, n > 0 || !h.closed
}

// stored says that the events last taken are stored (or given up).
func (h *handoff) stored() {
	h.mu.Lock()
	h.held, h.heldAt = 0, time.Time{}
	h.mu.Unlock()
}

// filling reports whether the queue is half full or more, the batch the
// writer holds included: the outbox writer is held up and should shed
// (outbox.makeRoomLocked).
func (h *handoff) filling() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.q)+h.held >= h.max/2
}

// close refuses further events; those queued stay for take.
func (h *handoff) close() {
	h.mu.Lock()
	h.closed = true
	h.signal()
	h.mu.Unlock()
}

// depth returns the events queued (the batch the writer holds included)
// and the time the oldest was published (zero when none).
func (h *handoff) depth() (int, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.held > 0:
		return len(h.q) + h.held, h.heldAt
	case len(h.q) == 0:
		return 0, time.Time{}
	}
	return len(h.q), h.q[0].at
}

func (h *handoff) signal() {
	select {
	case h.ready <- struct{}{}:
	default:
	}
}
