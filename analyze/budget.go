package analyze

import (
	"math"
	"sync"
	"time"
)

// The inference budget follows the machine: every budgetTick it reads the
// load (InferenceConfig.Load, the busier of the machine's CPUs and the
// analysis workers, 0..1) and
//   - above budgetLoadHigh, halves the rate (down to budgetFloor): the
//     cameras' analysis comes first, and a camera whose own ladder steps
//     down keeps one request waiting at a time (ObjectSlot.SetShed);
//   - under budgetLoadLow, when the budget held a request back since the
//     last tick, grows it by half (up to the ceiling, max_per_second), so
//     that inference takes the spare CPU;
//   - under budgetLoadGrow, when it held a request back, grows it by
//     budgetStep: a budget halved by a start-up's burst (300 cameras
//     connecting) climbs back while the machine has room, where it once
//     stayed at the floor with a quarter of the machine idle;
//   - in between, holds it;
//   - whatever the load, never under what serves the first results
//     waiting (requests of cameras whose motion has just begun away
//     from what they report) within firstWait: one per firstWait each, up to
//     budgetSurge; and they do not wait for the budget's interval but
//     for the surge's own: up to firstBurst of them start back to back,
//     then budgetSurge a second (firstWaitAt). A
//     person walking into a busy camera's view is worth
//     more than the idle cameras' keyframes, which their ladders shed
//     first when this takes their CPU (sched.Ladder.Busy).
//
// The rate is a budget, not a target: inference runs only on requests
// (motion, re-checks), one at a time, so it is also bounded by the
// network's own time (about 25 a second at 40 ms).
const (
	budgetTick     = 500 * time.Millisecond
	budgetLoadHigh = 0.8
	budgetLoadLow  = 0.65
	budgetLoadGrow = 0.75
	budgetStep     = 1.0 // inferences a second added per tick between budgetLoadLow and budgetLoadGrow: 2% of 2 cores at 45 ms each
	budgetFloor    = 2.0 // inferences a second, the least the budget falls to: the old fixed budget
	budgetStart    = 4.0
	budgetMax      = 1000.0 // the ceiling without max_per_second
	budgetGrow     = 1.5
	budgetShrink   = 0.5
	budgetSurge    = 8.0 // inferences a second, the most first results waiting may raise the floor to: about 0.4 of a core
	// firstBurst is how many first results may start back to back
	// before the surge's rate holds them (a bucket refilled at
	// budgetSurge a second): people entering many views in the same
	// second (a crowd crossing a square, a bus emptying) are each
	// reported within a second, at 40-65 ms an inference, for about one
	// second of one core at most, and the rate over time stays the
	// surge's.
	firstBurst = 16.0
	// firstWait is how soon the floor serves each first result waiting
	// (issue 25: a busy camera's first inference within 1 s of motion).
	firstWait = time.Second
)

// budget is the inference rate. Its methods are for the inference
// goroutine, except Rate.
type budget struct {
	ceiling float64        // largest rate
	load    func() float64 // nil: a fixed rate, the ceiling
	next    time.Time      // next tick
	limited bool           // a request waited for the budget since the last tick
	burst   float64        // first results that may start back to back (firstBurst; 1 under max_per_second)
	tokens  float64        // first results that may start now (firstWaitAt)
	filled  time.Time      // when tokens was last refilled

	mu   sync.Mutex
	rate float64
}

// newBudget returns the budget under ceiling (0: budgetMax), following
// load; without load it stays at ceiling.
func newBudget(ceiling float64, load func() float64) *budget {
	if ceiling <= 0 {
		ceiling = budgetMax
	}
	b := &budget{ceiling: ceiling, load: load, rate: ceiling, burst: 1}
	if ceiling >= budgetMax {
		// max_per_second set is a ceiling per second: no burst past it.
		b.burst = firstBurst
	}
	b.tokens = b.burst
	if load != nil {
		b.rate = math.Min(budgetStart, ceiling)
	}
	return b
}

// Rate returns the current rate, inferences a second. Safe for concurrent
// use.
func (b *budget) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate
}

// interval is the least time between two inference starts.
func (b *budget) interval() time.Duration {
	return time.Duration(float64(time.Second) / b.Rate())
}

// surge is the rate first results start at once any burst is spent: the
// surge's, under the ceiling.
func (b *budget) surge() float64 { return math.Min(budgetSurge, b.ceiling) }

// firstWaitAt is how long from now the next first result waits to start,
// whatever the budget: 0 while the bucket holds one (up to burst start
// back to back), then one surge interval each. The floor's rise for first
// results waiting comes only at a tick, and spreads them over firstWait,
// so a first result arriving with others, or just after an inference
// started at the floor's rate, waited past firstWait; at the surge's rate
// 8 arriving at once were served within a second, and 30 walkers entering
// in the same second took 3-4 s.
func (b *budget) firstWaitAt(now time.Time) time.Duration {
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.surge() * float64(time.Second))
}

// startedFirst notes that a first result started at now.
func (b *budget) startedFirst(now time.Time) {
	b.refill(now)
	b.tokens = math.Max(0, b.tokens-1)
}

// refill adds the first results the surge's rate allows since the last
// refill, up to burst.
func (b *budget) refill(now time.Time) {
	if d := now.Sub(b.filled); !b.filled.IsZero() && d > 0 {
		b.tokens = math.Min(b.burst, b.tokens+d.Seconds()*b.surge())
	}
	b.filled = now
}

// held notes that a request waited for the budget.
func (b *budget) held() { b.limited = true }

// update moves the rate at now when a tick has passed since the last
// move, and reports the new rate. firsts, called at a tick, returns how
// many first results wait.
func (b *budget) update(now time.Time, firsts func() int) float64 {
	if b.load == nil || now.Before(b.next) {
		return b.Rate()
	}
	b.next = now.Add(budgetTick)
	l := b.load()
	n := firsts()
	b.mu.Lock()
	defer b.mu.Unlock()
	floor := math.Min(math.Max(budgetFloor, math.Min(budgetSurge, float64(n)/firstWait.Seconds())), b.ceiling)
	switch {
	case l > budgetLoadHigh:
		b.rate = math.Max(floor, b.rate*budgetShrink)
	case l < budgetLoadLow && b.limited:
		b.rate = math.Min(b.ceiling, b.rate*budgetGrow)
	case l < budgetLoadGrow && b.limited:
		b.rate = math.Min(b.ceiling, b.rate+budgetStep)
	}
	b.rate = math.Max(b.rate, floor)
	b.limited = false
	return b.rate
}
