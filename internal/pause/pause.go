// Package pause detects that the whole process stopped running for a while
// (SIGSTOP, a VM or swap stall, a long runtime pause): a ticker that finds
// the monotonic clock advanced far more than its period since its last tick
// was not running, and nor was anything else. Timers that measure silence
// (no frame for the grace period, no picture, no access unit) restart from
// the resume instead of counting the process's own stall as the camera's.
package pause

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// Period is how often the detector ticks.
	Period = 250 * time.Millisecond
	// Threshold is the least gap between two ticks counted as a stall; a
	// busy machine delays a tick by far less.
	Threshold = 2 * time.Second
)

// Detector notices process stalls. Its methods are safe for concurrent use;
// a nil Detector sees none.
type Detector struct {
	base time.Time // monotonic origin of the offsets below
	// last is the offset of the last tick (or of a stall noticed by
	// Resumed), resumed that of the last stall's end (-1: none).
	last, resumed atomic.Int64

	onStall func(length time.Duration)
	log     *slog.Logger

	started atomic.Bool
	closed  atomic.Bool // after Close, a gap is no stall
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// Config configures a Detector.
type Config struct {
	// OnStall is called once per stall with its length (for a metric).
	OnStall func(length time.Duration)
	// Log receives the WARN line of each stall.
	Log *slog.Logger
}

// New returns a detector; Start runs its ticker.
func New(cfg Config) *Detector {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	d := &Detector{base: time.Now(), onStall: cfg.OnStall, log: cfg.Log,
		stop: make(chan struct{}), done: make(chan struct{})}
	d.resumed.Store(-1)
	return d
}

// Start runs the ticker until Close.
func (d *Detector) Start() {
	if d.started.Swap(true) {
		return
	}
	// The time between New and Start (loading the model, opening the
	// cameras) is no stall, nor is the time after Close.
	d.last.Store(int64(time.Since(d.base)))
	go func() {
		defer close(d.done)
		t := time.NewTicker(Period)
		defer t.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-t.C:
				d.observe(time.Now())
			}
		}
	}()
}

// Close stops the ticker and waits for it (if Start ran). Idempotent.
func (d *Detector) Close() {
	d.closed.Store(true)
	d.once.Do(func() { close(d.stop) })
	if d.started.Load() {
		<-d.done
	}
}

// observe records that the process runs at now, and a stall if the last
// sign of life is more than Threshold older.
func (d *Detector) observe(now time.Time) {
	if d.closed.Load() {
		return
	}
	off := now.Sub(d.base)
	for {
		last := d.last.Load()
		if int64(off) <= last {
			return
		}
		if !d.last.CompareAndSwap(last, int64(off)) {
			continue
		}
		if gap := off - time.Duration(last); gap > Threshold {
			d.resumed.Store(int64(off))
			d.log.Warn("process stalled; health timers restart from the resume", "stalled", gap.Round(time.Millisecond))
			if d.onStall != nil {
				d.onStall(gap)
			}
		}
		return
	}
}

// Resumed returns when the last process stall ended, as seen at now (zero
// time: none). A caller woken by the stall itself, before the ticker ran
// again, sees it too: now far after the last tick is that stall.
func (d *Detector) Resumed(now time.Time) time.Time {
	if d == nil {
		return time.Time{}
	}
	d.observe(now)
	r := d.resumed.Load()
	if r < 0 {
		return time.Time{}
	}
	return d.base.Add(time.Duration(r))
}

// Since is how long ago at now the process last ran without a stall
// from t: t, or the end of a later stall.
func (d *Detector) Since(now, t time.Time) time.Duration {
	if r := d.Resumed(now); r.After(t) {
		t = r
	}
	return now.Sub(t)
}
