package sched

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-video/vigil/internal/await"
)

type recorder struct {
	mu      sync.Mutex
	seen    map[any][]int
	order   []any
	active  map[any]int
	overlap bool
	drops   map[DropReason]int
}

func newRecorder() *recorder {
	return &recorder{seen: map[any][]int{}, active: map[any]int{}, drops: map[DropReason]int{}}
}

func (r *recorder) handle(gate <-chan struct{}) Handler[any, int] {
	return func(owner any, u Unit[int]) {
		r.mu.Lock()
		r.active[owner]++
		if r.active[owner] > 1 {
			r.overlap = true
		}
		r.mu.Unlock()
		if gate != nil {
			<-gate
		}
		r.mu.Lock()
		r.active[owner]--
		r.seen[owner] = append(r.seen[owner], u.Meta)
		r.order = append(r.order, owner)
		r.mu.Unlock()
	}
}

func (r *recorder) dropsOf(reason DropReason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.drops[reason]
}

func (r *recorder) seenOf(owner any) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.seen[owner]...)
}

func (r *recorder) onDrop(_ any, reason DropReason, n int) {
	r.mu.Lock()
	r.drops[reason] += n
	r.mu.Unlock()
}

func TestPoolProcessesEachQueueInOrderOneAtATime(t *testing.T) {
	r := newRecorder()
	p, err := New(Config[any, int]{Workers: 4, Handler: r.handle(nil), OnDrop: r.onDrop})
	p.Start()
	if err != nil {
		t.Fatal(err)
	}
	const cams, units = 8, 500
	qs := make([]*Queue[any, int], cams)
	for i := range qs {
		qs[i] = p.NewQueue(i, units, 1<<30)
	}
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range units {
				if !q.Push(Unit[int]{Data: make([]byte, 10), Key: n == 0, Meta: n}) {
					t.Errorf("camera %d: unit %d dropped", i, n)
				}
			}
		}()
	}
	wg.Wait()
	await.Until(t, 10*time.Second, "the condition", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.order) == cams*units })
	p.Close()
	if r.overlap {
		t.Fatal("a queue was served by two workers at once")
	}
	for i := range cams {
		got := r.seen[i]
		if len(got) != units {
			t.Fatalf("camera %d: %d units processed, want %d", i, len(got), units)
		}
		for n, v := range got {
			if v != n {
				t.Fatalf("camera %d: unit %d processed at position %d", i, v, n)
			}
		}
	}
}

func TestPoolRoundRobinFairness(t *testing.T) {
	// One worker, held by a gate, while a busy camera queues 50 units and a
	// quiet one queues 5: the quiet camera's units must not wait behind all
	// 50 of the busy one's.
	gate := make(chan struct{})
	r := newRecorder()
	p, _ := New(Config[any, int]{Workers: 1, Handler: r.handle(gate)})
	p.Start()
	defer p.Close()
	busy := p.NewQueue("busy", 100, 1<<30)
	quiet := p.NewQueue("quiet", 100, 1<<30)
	busy.Push(Unit[int]{Key: true, Meta: -1}) // occupies the worker
	await.Until(t, 10*time.Second, "the condition", func() bool { u, _ := p.Queued(); return u == 0 })
	for n := range 50 {
		busy.Push(Unit[int]{Meta: n})
	}
	for n := range 5 {
		quiet.Push(Unit[int]{Meta: n})
	}
	go func() {
		for range 56 {
			gate <- struct{}{}
		}
	}()
	await.Until(t, 10*time.Second, "the condition", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.order) == 56 })
	lastQuiet := 0
	for i, o := range r.order {
		if o == "quiet" {
			lastQuiet = i
		}
	}
	// alternating service: quiet's 5th unit is done by position ~11
	if lastQuiet > 12 {
		t.Fatalf("quiet camera's last unit served at position %d of 56: not round-robin (order %v)", lastQuiet, r.order[:15])
	}
}

func TestQueueBoundsAndGOPDrop(t *testing.T) {
	gate := make(chan struct{})
	r := newRecorder()
	p, _ := New(Config[any, int]{Workers: 1, Handler: r.handle(gate), OnDrop: r.onDrop})
	p.Start()
	defer func() {
		close(gate)
		p.Close()
	}()
	q := p.NewQueue("cam", 4, 1<<30)
	q.Push(Unit[int]{Key: true, Meta: 0}) // taken by the worker, blocked at the gate
	await.Until(t, 10*time.Second, "the condition", func() bool { return q.Len() == 0 })

	// GOP 1: key 10, then 11..16 — room for 4 units only.
	push := func(n int, key bool) bool { return q.Push(Unit[int]{Data: []byte{1}, Key: key, Meta: n}) }
	for n := 10; n <= 13; n++ {
		if !push(n, n == 10) {
			t.Fatalf("unit %d dropped with room left", n)
		}
	}
	if push(14, false) {
		t.Fatal("unit accepted past the unit bound")
	}
	// the rest of the GOP is skipped even when room frees up
	gate <- struct{}{}                                                                   // finishes 0
	gate <- struct{}{}                                                                   // finishes 10
	await.Until(t, 10*time.Second, "the condition", func() bool { return q.Len() == 2 }) // 11 being processed, 12 and 13 waiting
	if push(15, false) {
		t.Fatal("non-key unit accepted after a drop in its GOP")
	}
	if !push(20, true) {
		t.Fatal("next keyframe refused although there was room")
	}
	if !push(21, false) {
		t.Fatal("unit after the new keyframe refused")
	}
	for range 5 {
		gate <- struct{}{}
	}
	await.Until(t, 10*time.Second, "the condition", func() bool { return len(r.seenOf("cam")) == 7 })
	want := []int{0, 10, 11, 12, 13, 20, 21}
	got := r.seenOf("cam")
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("processed %v, want %v", got, want)
		}
	}
	if r.dropsOf(DropQueueFull) != 1 || r.dropsOf(DropGOP) != 1 {
		t.Fatalf("drops: %d queue_full, %d gop_skip; want 1 and 1", r.dropsOf(DropQueueFull), r.dropsOf(DropGOP))
	}
}

func TestQueueByteBoundAndPoolBudget(t *testing.T) {
	gate := make(chan struct{})
	r := newRecorder()
	p, _ := New(Config[any, int]{Workers: 1, MaxBytes: 250, Handler: r.handle(gate), OnDrop: r.onDrop})
	p.Start()
	defer func() {
		close(gate)
		p.Close()
	}()
	a := p.NewQueue("a", 100, 150)
	b := p.NewQueue("b", 100, 1000)
	a.Push(Unit[int]{Key: true, Meta: 0})
	await.Until(t, 10*time.Second, "the condition", func() bool { return a.Len() == 0 })
	if !a.Push(Unit[int]{Data: make([]byte, 100), Key: true, Meta: 1}) {
		t.Fatal("first 100 bytes refused")
	}
	if a.Push(Unit[int]{Data: make([]byte, 100), Key: true, Meta: 2}) {
		t.Fatal("queue accepted 200 bytes with a 150-byte bound")
	}
	if !b.Push(Unit[int]{Data: make([]byte, 100), Key: true, Meta: 1}) {
		t.Fatal("other queue refused within budget")
	}
	if b.Push(Unit[int]{Data: make([]byte, 100), Key: true, Meta: 2}) {
		t.Fatal("pool accepted 300 bytes with a 250-byte budget")
	}
	if _, bytes := p.Queued(); bytes != 200 {
		t.Fatalf("queued bytes %d, want 200", bytes)
	}
	if r.dropsOf(DropQueueFull) != 1 || r.dropsOf(DropBudget) != 1 {
		t.Fatalf("drops: %d queue_full, %d budget", r.dropsOf(DropQueueFull), r.dropsOf(DropBudget))
	}
}

func TestFlushSkipsToKeyframe(t *testing.T) {
	gate := make(chan struct{})
	r := newRecorder()
	p, _ := New(Config[any, int]{Workers: 1, Handler: r.handle(gate), OnDrop: r.onDrop})
	p.Start()
	defer func() {
		close(gate)
		p.Close()
	}()
	q := p.NewQueue("cam", 10, 1<<30)
	q.Push(Unit[int]{Key: true, Meta: 0})
	await.Until(t, 10*time.Second, "the condition", func() bool { return q.Len() == 0 })
	q.Push(Unit[int]{Meta: 1})
	q.Push(Unit[int]{Meta: 2})
	q.Flush()
	if q.Len() != 0 || r.dropsOf(DropClosed) != 2 {
		t.Fatalf("after flush: len %d, %d dropped", q.Len(), r.dropsOf(DropClosed))
	}
	if q.Push(Unit[int]{Meta: 3}) {
		t.Fatal("non-key unit accepted right after a flush")
	}
	if !q.Push(Unit[int]{Key: true, Meta: 4}) {
		t.Fatal("keyframe refused after a flush")
	}
}

func TestCloseStopsWorkers(t *testing.T) {
	var n atomic.Int64
	p, _ := New(Config[any, int]{Workers: 3, Handler: func(any, Unit[int]) { n.Add(1) }})
	p.Start()
	q := p.NewQueue(1, 10, 1<<20)
	q.Push(Unit[int]{Key: true})
	p.Close()
	p.Close() // idempotent
	if busy, _ := p.Busy(); busy != 0 {
		t.Fatalf("%d workers busy after Close", busy)
	}
}

func TestQueueCloseWaitWaitsForTheUnitInProgress(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	p, _ := New(Config[any, int]{Workers: 2, Handler: func(any, Unit[int]) {
		close(started)
		<-release
		finished.Store(true)
	}})
	p.Start()
	defer p.Close()
	q := p.NewQueue("cam", 10, 1<<20)
	q.Push(Unit[int]{Key: true, Meta: 1})
	q.Push(Unit[int]{Meta: 2})
	<-started
	q.Close() // unit 2 is dropped now; CloseWait below must still wait for unit 1
	done := make(chan struct{})
	go func() {
		q.CloseWait()
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("CloseWait returned while the handler was still running")
	default:
	}
	close(release)
	<-done
	if !finished.Load() {
		t.Fatal("CloseWait returned before the unit in progress finished")
	}
	if q.Len() != 0 {
		t.Fatalf("%d units left after CloseWait", q.Len())
	}
	if q.Push(Unit[int]{Key: true}) {
		t.Fatal("Push accepted a unit after CloseWait")
	}
}

// TestCloseDropsQueueBeingServed: units waiting in a queue whose unit is
// being processed when the pool closes are dropped as closed, and the
// pool's counts go back to zero.
func TestCloseDropsQueueBeingServed(t *testing.T) {
	r := newRecorder()
	gate := make(chan struct{})
	p, _ := New(Config[any, int]{Workers: 1, Handler: r.handle(gate), OnDrop: r.onDrop})
	p.Start()
	q := p.NewQueue("cam", 10, 1<<20)
	q.Push(Unit[int]{Data: []byte{1}, Key: true, Meta: 0}) // taken by the worker, held at the gate
	await.Until(t, 10*time.Second, "the worker to take unit 0", func() bool { u, _ := p.Queued(); return u == 0 })
	q.Push(Unit[int]{Data: []byte{1}, Meta: 1})
	q.Push(Unit[int]{Data: []byte{1}, Meta: 2})
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	await.Until(t, 10*time.Second, "Close to start waiting for the worker", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.closed
	})
	close(gate)
	<-closed
	if n := r.dropsOf(DropClosed); n != 2 {
		t.Errorf("%d units dropped as closed, want 2", n)
	}
	if u, b := p.Queued(); u != 0 || b != 0 {
		t.Errorf("pool still counts %d units, %d bytes", u, b)
	}
}
