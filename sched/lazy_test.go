package sched

import (
	"runtime"
	"testing"
)

// TestQueueSlotsGrowWithBacklog: a queue bounded at two billion units
// reserves nothing up front (it used to allocate every slot and die of
// out-of-memory), grows with its backlog in order, still enforces its unit
// bound exactly, and gives a past backlog's slots back on Flush.
func TestQueueSlotsGrowWithBacklog(t *testing.T) {
	r := newRecorder()
	gate := make(chan struct{})
	p, err := New(Config[any, int]{Workers: 1, Handler: r.handle(gate), OnDrop: r.onDrop})
	p.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	huge := make([]*Queue[any, int], 100)
	for i := range huge {
		huge[i] = p.NewQueue(i, 2_000_000_000, 1<<30)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("100 queues of 2e9 units allocated %d bytes up front", grew)
	}
	if n := huge[0].slots(); n != 0 {
		t.Fatalf("an empty queue holds %d slots", n)
	}

	// A bound of 40 units: the ring grows 16 -> 32 -> 40, never past it.
	q := p.NewQueue("q", 40, 1<<30)
	q.Push(Unit[int]{Data: []byte{1}, Key: true, Meta: -1}) // taken by the worker, held at gate
	for len(r.seenOf("q")) == 0 && q.Len() != 0 {
		runtime.Gosched()
	}
	for i := range 45 {
		q.Push(Unit[int]{Data: []byte{1}, Key: true, Meta: i})
	}
	if n, s := q.Len(), q.slots(); n != 40 || s != 40 {
		t.Fatalf("after 45 pushes: %d units in %d slots, want 40 in 40", n, s)
	}
	if d := r.dropsOf(DropQueueFull); d != 5 {
		t.Fatalf("%d units dropped as queue_full, want 5", d)
	}
	for range 41 {
		gate <- struct{}{}
	}
	seen := r.seenOf("q")
	for len(seen) < 41 {
		runtime.Gosched()
		seen = r.seenOf("q")
	}
	for i, v := range seen[1:] {
		if v != i {
			t.Fatalf("units out of order after growing: %v", seen)
		}
	}
	for i := range 20 {
		q.Push(Unit[int]{Data: []byte{1}, Key: true, Meta: i})
	}
	q.Flush()
	if s := q.slots(); s != 0 {
		t.Errorf("a flushed queue keeps %d slots", s)
	}
	close(gate)
}
