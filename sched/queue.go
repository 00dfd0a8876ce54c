// Package sched runs the work of many cameras on one bounded pool of workers.
//
// Each camera owns a Queue of access units, bounded by count and by bytes,
// and the pool as a whole is bounded by a byte budget, so memory stays bounded
// whatever the number of cameras or the overload. A queue is served by at most
// one worker at a time (a camera's units are processed in order), and queues
// with work waiting are served round-robin, one unit per turn, so no camera
// starves another.
//
// Overload sheds load without breaking decoding: when a unit does not fit,
// the queue drops it and every following unit until the next keyframe, so the
// decoder never sees a frame whose reference was dropped.
package sched

import "sync/atomic"

// Unit is one access unit waiting to be processed.
type Unit[M any] struct {
	// Data is owned by the queue until it is handed to the handler, then by the handler.
	Data []byte
	// Key is true for a unit that starts an independently decodable group (IDR).
	Key bool
	// Meta carries the caller's per-unit metadata (timestamps) unchanged.
	Meta M
}

// DropReason says why a unit was dropped.
type DropReason int

const (
	// DropQueueFull: the camera's queue was full (by count or bytes).
	DropQueueFull DropReason = iota
	// DropBudget: the pool's global byte budget was exhausted.
	DropBudget
	// DropGOP: the unit followed a dropped unit in the same group of pictures.
	DropGOP
	// DropClosed: the queue was closed or flushed.
	DropClosed
)

// String returns the metric label of the reason.
func (r DropReason) String() string {
	switch r {
	case DropQueueFull:
		return "queue_full"
	case DropBudget:
		return "memory_budget"
	case DropGOP:
		return "gop_skip"
	case DropClosed:
		return "closed"
	}
	return "unknown"
}

// Handler processes units of one queue. It is never called concurrently for
// the same queue. Owner is the value given to NewQueue.
type Handler[O, M any] func(owner O, u Unit[M])

// DropFunc is told of every dropped unit; it must not block.
type DropFunc[O any] func(owner O, reason DropReason, n int)

// Queue is one camera's bounded queue. Push is safe for concurrent use with
// the pool's workers.
type Queue[O, M any] struct {
	pool   *Pool[O, M]
	owner  O
	length atomic.Int32 // n, for Len without the pool's lock (written under it)

	// guarded by pool.mu
	items     []Unit[M] // ring buffer, grown on demand up to maxUnits
	head, n   int
	bytes     int
	maxUnits  int
	maxBytes  int
	dropToKey bool // dropping until the next keyframe
	scheduled bool // in the ready list or being served
	serving   bool // a worker is processing one of its units
	closed    bool
}

// Bytes returns the bytes of the units waiting. It takes the pool's lock:
// for metrics, not for a hot path.
func (q *Queue[O, M]) Bytes() int {
	q.pool.mu.Lock()
	defer q.pool.mu.Unlock()
	return q.bytes
}

// Len returns the number of units waiting.
func (q *Queue[O, M]) Len() int { return int(q.length.Load()) }

// Push adds a unit, or drops it when the queue or the pool is full, or while
// the queue is skipping to the next keyframe. It never blocks on processing.
// It reports whether the unit was accepted.
func (q *Queue[O, M]) Push(u Unit[M]) bool {
	p := q.pool
	p.mu.Lock()
	if q.closed {
		p.mu.Unlock()
		p.drop(q.owner, DropClosed, 1)
		return false
	}
	if q.dropToKey && !u.Key {
		p.mu.Unlock()
		p.drop(q.owner, DropGOP, 1)
		return false
	}
	reason, full := DropReason(0), false
	switch {
	case q.n == q.maxUnits || q.bytes+len(u.Data) > q.maxBytes:
		reason, full = DropQueueFull, true
	case p.bytes+len(u.Data) > p.maxBytes:
		reason, full = DropBudget, true
	}
	if full {
		q.dropToKey = true
		p.mu.Unlock()
		p.drop(q.owner, reason, 1)
		return false
	}
	q.dropToKey = false
	if q.n == len(q.items) {
		q.growLocked()
	}
	q.items[(q.head+q.n)%len(q.items)] = u
	q.n++
	q.length.Store(int32(q.n))
	q.bytes += len(u.Data)
	p.bytes += len(u.Data)
	p.queued++
	if !q.scheduled {
		q.scheduled = true
		p.ready = append(p.ready, q)
		p.cond.Signal()
	}
	p.mu.Unlock()
	return true
}

// Flush drops every waiting unit and skips to the next keyframe, as after a
// reconnect. Dropped units are reported with DropClosed.
func (q *Queue[O, M]) Flush() {
	p := q.pool
	p.mu.Lock()
	n := q.clearLocked()
	q.dropToKey = true
	p.mu.Unlock()
	if n > 0 {
		p.drop(q.owner, DropClosed, n)
	}
}

// Close drops every waiting unit and refuses new ones. A unit being processed
// when Close is called finishes; Close does not wait for it (see Pool.Close).
func (q *Queue[O, M]) Close() {
	p := q.pool
	p.mu.Lock()
	q.closed = true
	n := q.clearLocked()
	p.mu.Unlock()
	if n > 0 {
		p.drop(q.owner, DropClosed, n)
	}
}

// CloseWait closes the queue like Close, then waits until the unit being
// processed, if any, has finished: after it returns the handler is not
// running for this queue and will not be called for it again.
func (q *Queue[O, M]) CloseWait() {
	q.Close()
	p := q.pool
	p.mu.Lock()
	for q.serving {
		p.idle.Wait()
	}
	p.mu.Unlock()
}

// minSlots is the first allocation of a queue's ring.
const minSlots = 16

// growLocked doubles the ring (at least minSlots, at most maxUnits slots),
// keeping the waiting units in order.
func (q *Queue[O, M]) growLocked() {
	size := min(max(2*len(q.items), minSlots), q.maxUnits)
	items := make([]Unit[M], size)
	for i := 0; i < q.n; i++ {
		items[i] = q.items[(q.head+i)%len(q.items)]
	}
	q.items, q.head = items, 0
}

// slots returns the allocated ring size (for tests).
func (q *Queue[O, M]) slots() int {
	q.pool.mu.Lock()
	defer q.pool.mu.Unlock()
	return len(q.items)
}

func (q *Queue[O, M]) clearLocked() int {
	n := q.n
	for i := 0; i < q.n; i++ {
		j := (q.head + i) % len(q.items)
		q.pool.bytes -= len(q.items[j].Data)
		q.items[j] = Unit[M]{}
	}
	q.pool.queued -= n
	q.head, q.n, q.bytes = 0, 0, 0
	q.length.Store(0)
	if len(q.items) > minSlots {
		q.items = nil // a past backlog's slots are given back
	}
	return n
}

// popLocked removes the oldest unit.
func (q *Queue[O, M]) popLocked() Unit[M] {
	u := q.items[q.head]
	q.items[q.head] = Unit[M]{}
	q.head = (q.head + 1) % len(q.items)
	q.n--
	q.length.Store(int32(q.n))
	q.bytes -= len(u.Data)
	q.pool.bytes -= len(u.Data)
	q.pool.queued--
	return u
}
