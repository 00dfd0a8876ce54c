package sched

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Config sizes a Pool. Zero fields take their defaults.
type Config[O, M any] struct {
	// Workers is the number of worker goroutines.
	// It defaults to 1 (the engine passes GOMAXPROCS).
	Workers int
	// MaxBytes bounds the bytes waiting in all queues together.
	// It defaults to 256 MiB.
	MaxBytes int
	// Handler processes one unit. Required.
	Handler Handler[O, M]
	// OnDrop is told of dropped units. Optional.
	OnDrop DropFunc[O]
}

// Pool is a fixed set of workers serving many queues fairly.
type Pool[O, M any] struct {
	handler Handler[O, M]
	onDrop  DropFunc[O]

	mu       sync.Mutex
	cond     *sync.Cond
	idle     *sync.Cond     // signalled when a closed queue's unit finishes
	ready    []*Queue[O, M] // FIFO of queues with work, not being served
	bytes    int
	maxBytes int
	queued   int
	closed   bool

	busy      atomic.Int64 // workers processing a unit
	busyNano  atomic.Int64 // total time spent in the handler
	workers   int
	startOnce sync.Once
	wg        sync.WaitGroup
}

// New returns a pool; Start starts its workers.
func New[O, M any](cfg Config[O, M]) (*Pool[O, M], error) {
	if cfg.Handler == nil {
		return nil, errors.New("sched: Handler is required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 256 << 20
	}
	p := &Pool[O, M]{handler: cfg.Handler, onDrop: cfg.OnDrop, maxBytes: cfg.MaxBytes, workers: cfg.Workers}
	p.cond = sync.NewCond(&p.mu)
	p.idle = sync.NewCond(&p.mu)
	return p, nil
}

// Start starts the workers; units pushed before wait for it. Calls after
// the first do nothing.
func (p *Pool[O, M]) Start() {
	p.startOnce.Do(func() {
		p.wg.Add(p.workers)
		for range p.workers {
			go p.work()
		}
	})
}

// NewQueue adds a queue bounded by maxUnits and maxBytes. Owner is handed
// to the handler with each unit. Nothing is reserved up front: the queue's
// slots grow with its backlog (doubling, up to maxUnits), so a large
// maxUnits costs memory only while units actually wait, and those are
// bounded by the pool's byte budget.
func (p *Pool[O, M]) NewQueue(owner O, maxUnits, maxBytes int) *Queue[O, M] {
	if maxUnits <= 0 {
		maxUnits = 1
	}
	return &Queue[O, M]{pool: p, owner: owner, maxUnits: maxUnits, maxBytes: maxBytes}
}

// Workers returns the number of workers.
func (p *Pool[O, M]) Workers() int { return p.workers }

// Queued returns the units and bytes waiting in all queues.
func (p *Pool[O, M]) Queued() (units, bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued, p.bytes
}

// Busy returns the number of workers processing a unit now and the total
// time all workers have spent processing.
func (p *Pool[O, M]) Busy() (int, time.Duration) {
	return int(p.busy.Load()), time.Duration(p.busyNano.Load())
}

// Close stops the workers after the units being processed finish, and waits
// for them. Units still queued are dropped with DropClosed.
func (p *Pool[O, M]) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	ready := p.ready
	p.ready = nil
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
	for _, q := range ready {
		q.Close()
	}
}

func (p *Pool[O, M]) work() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for len(p.ready) == 0 && !p.closed {
			p.cond.Wait()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		q := p.ready[0]
		copy(p.ready, p.ready[1:])
		p.ready[len(p.ready)-1] = nil
		p.ready = p.ready[:len(p.ready)-1]
		if q.n == 0 { // flushed or closed while waiting
			q.scheduled = false
			p.mu.Unlock()
			continue
		}
		u := q.popLocked()
		q.serving = true
		p.mu.Unlock()

		p.busy.Add(1)
		start := time.Now()
		p.handler(q.owner, u)
		p.busyNano.Add(int64(time.Since(start)))
		p.busy.Add(-1)

		p.mu.Lock()
		q.serving = false
		if q.closed {
			p.idle.Broadcast()
		}
		dropped := 0
		switch {
		case q.n > 0 && !q.closed && !p.closed:
			p.ready = append(p.ready, q) // back of the line: round-robin
			p.cond.Signal()
		case p.closed:
			// Close ran while this queue was being served (so not in the
			// ready list it emptied): its units are dropped here.
			dropped = q.clearLocked()
			q.scheduled = false
		default:
			q.scheduled = false
		}
		p.mu.Unlock()
		if dropped > 0 {
			p.drop(q.owner, DropClosed, dropped)
		}
	}
}

func (p *Pool[O, M]) drop(owner O, r DropReason, n int) {
	if p.onDrop != nil {
		p.onDrop(owner, r, n)
	}
}
