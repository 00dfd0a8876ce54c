// Package delivery takes incident events and delivers every one to every
// sink, at least once, in order per sink, through the on-disk outbox
// (package outbox); the sinks are opened by the caller's function
// (sinks.Env.Open).
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/backoff"
	"github.com/vigil-video/vigil/internal/sleep"
	"github.com/vigil-video/vigil/outbox"
	"github.com/vigil-video/vigil/sink"
)

// Config is the `outbox` and `sinks` part of the configuration, complete
// and valid (package config).
type Config struct {
	Outbox config.Outbox
	// Sinks receive every event; at least one.
	Sinks []config.Sink

	// queueEvents bounds the in-memory queue in front of the outbox
	// (tests); 0 means handoffEvents.
	queueEvents int
}

// Delivery takes incident events and delivers every one of them to every
// sink, at least once, in order per sink: each event is committed to the
// on-disk outbox before any sink sees it and removed once all sinks have
// acknowledged it, so a sink outage, a crash or kill -9 loses nothing. Each
// sink has its own goroutine, cursor and retry state: a dead sink holds
// back no other (its backlog is evicted first when the outbox is full),
// and Publish never waits for the disk or a sink. A slow but healthy sink
// whose backlog fills the outbox does hold the others back: its events are
// never evicted, so new events wait in the queue, and past half of it
// updates are shed for every sink (see Publish and outbox.Outbox.Append).
// Publish is safe for concurrent use.
type Delivery struct {
	log   *slog.Logger
	box   *outbox.Outbox
	sinks []*sinkRunner
	m     *deliveryMetrics

	queue *handoff // Publish to writeLoop
	// onStored are called with each event once stored (OnStored).
	onStored atomic.Pointer[[]func(incident.Event)]
	// onDiscarded are called with each event a BeforeStore hook kept
	// back for good (OnDiscarded).
	onDiscarded atomic.Pointer[[]func(incident.Event)]
	hooksMu     sync.Mutex // serializes OnStored and OnDiscarded
	// beforeStore is called with each batch before it is stored, and
	// returns what to store (BeforeStore).
	beforeStore atomic.Pointer[func([]incident.Event) []incident.Event]
	maxLag      time.Duration
	ctx         context.Context // of the sinks
	cancel      context.CancelFunc
	wg          sync.WaitGroup // the sinks

	closing   chan struct{} // closed when Close starts
	giveUp    chan struct{} // closed when Close stops waiting for the disk
	writeDone chan struct{} // closed when writeLoop returns
	notStored atomic.Int64
	writeErr  atomic.Pointer[error] // the last outbox write error
	dropLog   dropLog
	startOnce sync.Once
	closeOnce sync.Once
	closed    chan struct{} // closed when Close has returned
	report    ShutdownReport
	closeErr  error

	// writeFailing is the outbox's last write error while writes fail, nil
	// once one succeeds (Ready); written by writeLoop only.
	writeFailing atomic.Pointer[error]
}

// New opens the outbox, then each sink with open (sinks.Env.Open); it
// starts no goroutine (Start does). Delivery owns the sinks: Close closes
// them (and New those it opened, if it fails). Events published before
// Start wait in the in-memory queue.
func New(cfg Config, open func(config.Sink) (sink.Sink, error), log *slog.Logger) (*Delivery, error) {
	if len(cfg.Sinks) == 0 {
		return nil, errors.New("delivery: no sink")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.queueEvents == 0 {
		cfg.queueEvents = handoffEvents
	}
	d := &Delivery{log: log, m: newDeliveryMetrics(), queue: newHandoff(cfg.queueEvents), maxLag: cfg.Outbox.MaxLag,
		closing: make(chan struct{}), giveUp: make(chan struct{}), writeDone: make(chan struct{}), closed: make(chan struct{})}
	d.m.d = d
	names := make([]string, len(cfg.Sinks))
	for i, s := range cfg.Sinks {
		names[i] = s.Name
	}
	box, err := outbox.Open(cfg.Outbox, names, log, d.dropped, d.m.damaged.Inc)
	if err != nil {
		return nil, err
	}
	d.box = box
	d.ctx, d.cancel = context.WithCancel(context.Background())
	for _, sc := range cfg.Sinks {
		s, err := open(sc)
		if err != nil {
			d.cancel()
			for _, r := range d.sinks {
				r.s.Close() //nolint:errcheck // failing start
			}
			box.Close() //nolint:errcheck
			return nil, err
		}
		r := &sinkRunner{d: d, cfg: sink.CommonOf(sc), s: s, wake: make(chan struct{}, 1), log: log.With("sink", sc.Name)}
		d.m.forSink(sc.Name)
		d.sinks = append(d.sinks, r)
	}
	return d, nil
}

// Start starts the outbox writer and one goroutine per sink, which first
// redelivers what a previous run left undelivered. Later calls do nothing.
func (d *Delivery) Start() {
	d.startOnce.Do(func() {
		for _, r := range d.sinks {
			d.wg.Add(1)
			go r.run()
		}
		go d.writeLoop()
	})
}

// dropped counts what the full outbox evicted or refused: per reason,
// and per sink that had not delivered it yet. The log gets a summary at
// most every 10 s.
func (d *Delivery) dropped(drops []outbox.Drop, sinkDrops map[outbox.SinkReason]int) {
	for _, dr := range drops {
		d.m.dropped.WithLabelValues(dr.Reason).Inc()
	}
	for s, n := range sinkDrops {
		d.m.sinkDropped.WithLabelValues(s.Sink, s.Reason).Add(float64(n))
	}
	d.dropLog.add(d.log, drops, sinkDrops)
}

// SetCameras tells the sinks that describe cameras (mqtt ha_discovery)
// the configured cameras and the incident kinds each can raise, after a
// reload: new ones are announced, removed ones (and kinds) withdrawn.
// Safe for concurrent use; it does not wait for the broker.
func (d *Delivery) SetCameras(cams []sink.Camera) {
	for _, r := range d.sinks {
		if c, ok := r.s.(sink.CameraSetter); ok {
			c.SetCameras(cams)
		}
	}
}

// Emit publishes an event (it implements the engine's Publisher).
func (d *Delivery) Emit(ev incident.Event) error { return d.Publish(ev) }

// Publish queues an event for the outbox and returns at once: it never
// waits for the disk or a sink, so analysis never waits for delivery.
// When the in-memory queue (4096 events) is full because the outbox
// writer is held up, an update event is dropped, and a start or end takes
// the place of the oldest queued update (or is dropped when none is
// queued): each drop is counted against every sink
// (vigil_sink_events_dropped_total{reason="queue_full"}) and summed in a
// log line at most every 10 s, and Publish returns nil. An event
// published once Close has begun is lost, counted and returned as an
// error.
func (d *Delivery) Publish(ev incident.Event) error {
	dropped, ok := d.queue.put(ev, time.Now())
	if !ok {
		d.lose(1)
		return fmt.Errorf("delivery closed: event %s not stored", ev.ID)
	}
	if dropped != nil {
		drops := map[outbox.SinkReason]int{}
		for _, r := range d.sinks {
			drops[outbox.SinkReason{Sink: r.cfg.Name, Reason: outbox.DropQueueFull}] = 1
		}
		d.dropped([]outbox.Drop{{Reason: outbox.DropQueueFull}}, drops)
	}
	return nil
}

func (d *Delivery) lose(n int) {
	d.notStored.Add(int64(n))
	d.m.notStored.Add(float64(n))
}

// writeLoop commits queued events to the outbox in batches, until the
// queue is closed and empty.
func (d *Delivery) writeLoop() {
	defer close(d.writeDone)
	batch := make([]incident.Event, 0, 256)
	for {
		var more bool
		batch, more = d.queue.take(batch[:0], cap(batch))
		if len(batch) > 0 {
			kept := batch
			if hook := d.beforeStore.Load(); hook != nil {
				kept = (*hook)(batch)
			}
			d.store(kept)
			d.queue.stored()
			clear(batch)
			continue
		}
		if !more {
			return
		}
		<-d.queue.ready
	}
}

// store commits a batch to the outbox, in order. While the outbox is full
// of what healthy sinks have not delivered, it waits for them (Publish
// keeps queueing); once the queue is half full it sheds instead: updates
// that find no room are dropped, starts and ends go into the outbox's
// reserve, and only when that is full does it wait again; while
// the disk refuses the write, it retries every second; once Close gives
// up on the disk, what is left of the batch is counted as lost.
func (d *Delivery) store(batch []incident.Event) {
	failures := 0
	for len(batch) > 0 {
		if isClosed(d.giveUp) { // Close gave up on the disk: no more writes
			d.lose(len(batch))
			return
		}
		n, kept, err := d.box.Append(batch, isClosed(d.closing), d.queue.filling())
		d.stored(kept)
		batch = batch[n:]
		switch {
		case err == nil:
			if failures > 0 {
				d.log.Info("outbox writable again", "failed_attempts", failures)
			}
			failures = 0
			if d.writeFailing.Load() != nil {
				d.writeFailing.Store(nil)
			}
		case errors.Is(err, outbox.ErrFull):
			select {
			case <-d.box.Progress():
			case <-d.closing: // stored past the budget on shutdown
			case <-time.After(time.Second):
			}
		default:
			failures++
			d.writeErr.Store(&err)
			d.writeFailing.Store(&err)
			if failures == 1 || failures%30 == 0 {
				d.log.Error("outbox write failed; retrying", "events", len(batch), "attempts", failures, "error", err)
			}
			select {
			case <-d.giveUp:
				d.lose(len(batch))
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// BeforeStore has f called with each batch of events before it is stored
// in the outbox (so before any sink can have them), on the outbox writer:
// f returns the events to store (evs, or part of it in place: an event f
// leaves out is f's to publish again later, or to account for). f may wait
// briefly (it holds delivery back), and must not keep evs. Set it before
// publishing.
func (d *Delivery) BeforeStore(f func(evs []incident.Event) []incident.Event) {
	d.beforeStore.Store(&f)
}

// OnStored has f called with each event once it is stored in the outbox
// (in order, on the outbox writer: f must not block), after the functions
// given before (the API's recent log and live stream, the engine's open
// incidents). Set it before publishing.
func (d *Delivery) OnStored(f func(incident.Event)) {
	d.hooksMu.Lock()
	defer d.hooksMu.Unlock()
	var hooks []func(incident.Event)
	if p := d.onStored.Load(); p != nil {
		hooks = *p
	}
	hooks = append(slices.Clip(hooks), f)
	d.onStored.Store(&hooks)
}

// OnDiscarded has f called with each event that the BeforeStore hook
// kept back and then gave up (Discard): it will never be stored (in a
// cluster, an incident the camera's new owner reported during an
// overlap). The engine forgets such an incident's end as if stored. Set it
// before publishing.
func (d *Delivery) OnDiscarded(f func(incident.Event)) {
	d.hooksMu.Lock()
	defer d.hooksMu.Unlock()
	var hooks []func(incident.Event)
	if p := d.onDiscarded.Load(); p != nil {
		hooks = *p
	}
	hooks = append(slices.Clip(hooks), f)
	d.onDiscarded.Store(&hooks)
}

// Discard says that ev, kept back by the BeforeStore hook, will never be
// stored: the OnDiscarded functions are called with it. Safe for
// concurrent use.
func (d *Delivery) Discard(ev incident.Event) {
	if hooks := d.onDiscarded.Load(); hooks != nil {
		for _, f := range *hooks {
			f(ev)
		}
	}
}

// stored feeds stored events to the OnStored hooks and wakes the sinks.
func (d *Delivery) stored(evs []incident.Event) {
	if len(evs) == 0 {
		return
	}
	if hooks := d.onStored.Load(); hooks != nil {
		for _, ev := range evs {
			for _, f := range *hooks {
				f(ev)
			}
		}
	}
	for _, r := range d.sinks {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Collectors returns the delivery metrics.
func (d *Delivery) Collectors() []prometheus.Collector { return d.m.collectors() }

// sinkRunner delivers the outbox to one sink, in order, retrying.
type sinkRunner struct {
	d    *Delivery
	cfg  sink.Common
	s    sink.Sink
	wake chan struct{}
	log  *slog.Logger
	fail failLog
	// pending is when the oldest event the sink has not acknowledged was
	// stored (Unix nanoseconds), 0 when it has every stored event.
	pending atomic.Int64
}

// sinkLogInterval is the shortest time between two ERROR lines about one
// failing sink: a sink that fails every event, or an outage, logs one line
// per interval, not one per event or attempt.
const sinkLogInterval = time.Minute

// failLog rate-limits a sink's failure log; used by its runner only. The
// interval spans outages: a sink that fails and recovers at every event
// logs no more than one that stays down.
type failLog struct {
	last             time.Time // of the last ERROR line
	retried, refused int       // failures since that line
	streak           bool      // failing since the last success
	logged           bool      // an ERROR line was written during the streak
}

// failed records a failed delivery (refused: permanently) and logs one
// ERROR line, with what happened since the previous one, at most once per
// sinkLogInterval.
func (f *failLog) failed(log *slog.Logger, ev *incident.Event, err error, refused bool, retryIn time.Duration, now time.Time) {
	if refused {
		f.refused++
	} else {
		f.retried++
		f.streak = true
	}
	if !f.last.IsZero() && now.Sub(f.last) < sinkLogInterval {
		return
	}
	args := []any{"event_id", ev.ID, "camera", ev.Data.Camera, "failed_attempts", f.retried, "refused_events", f.refused, "error", err}
	if !refused {
		args = append(args, "retry_in", retryIn.Seconds())
	}
	log.Error("sink delivery failing", args...)
	f.last, f.retried, f.refused = now, 0, 0
	f.logged = f.logged || f.streak
}

// delivered ends a failure streak; its end is logged (INFO) if an ERROR
// line was written during it.
func (f *failLog) delivered(log *slog.Logger, attempts int) {
	if !f.streak {
		return
	}
	if f.logged {
		log.Info("sink delivering again", "attempts", attempts)
	}
	f.streak, f.logged = false, false
}

func (r *sinkRunner) run() {
	defer r.d.wg.Done()
	ctx := r.d.ctx
	m := r.d.m
	after, err := r.d.box.Cursor(r.cfg.Name)
	if err != nil {
		r.log.Error("outbox cursor unreadable", "error", err)
		return
	}
	for ctx.Err() == nil {
		recs, err := r.d.box.Next(after, 64)
		if err != nil {
			r.log.Error("outbox read failed", "error", err)
			if !sleep.For(ctx, time.Second) {
				return
			}
			continue
		}
		if len(recs) == 0 {
			r.pending.Store(0)
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
			case <-time.After(5 * time.Second):
			}
			continue
		}
		for _, rec := range recs {
			r.pending.Store(rec.Stored.UnixNano())
			var ev incident.Event
			if err := json.Unmarshal(rec.JSON, &ev); err != nil {
				r.log.Error("undecodable event in the outbox; skipped", "seq", rec.Seq, "error", err)
			} else if !r.deliverOne(ctx, rec, &ev) {
				return // closing
			}
			if err := r.d.box.Ack(r.cfg.Name, rec.Seq); err != nil {
				r.log.Error("outbox acknowledgement failed", "seq", rec.Seq, "error", err)
			}
			after = rec.Seq
			m.delivery.WithLabelValues(r.cfg.Name).Observe(time.Since(rec.Stored).Seconds())
		}
	}
}

// deliverOne retries one event until it is delivered or permanently
// refused; it returns false when the delivery is closing.
func (r *sinkRunner) deliverOne(ctx context.Context, rec outbox.Record, ev *incident.Event) bool {
	m := r.d.m
	bo := backoff.Backoff{Min: r.cfg.BackoffMin, Max: r.cfg.BackoffMax}
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		err := r.s.Deliver(actx, rec.JSON, ev)
		cancel()
		if err == nil {
			r.d.box.SetFailing(r.cfg.Name, false)
			m.delivered.WithLabelValues(r.cfg.Name).Inc()
			r.fail.delivered(r.log, attempt+1)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		var perm *sink.PermanentError
		if errors.As(err, &perm) {
			r.d.box.SetFailing(r.cfg.Name, false) // it answers
			m.failed.WithLabelValues(r.cfg.Name).Inc()
			r.fail.failed(r.log, ev, err, true, 0, time.Now())
			return true
		}
		r.d.box.SetFailing(r.cfg.Name, true)
		m.retried.WithLabelValues(r.cfg.Name).Inc()
		wait := bo.Next()
		r.fail.failed(r.log, ev, err, false, wait, time.Now())
		if !sleep.For(ctx, wait) {
			return false
		}
	}
}

// deliveryMetrics are the sinks' and the outbox's metrics.
type deliveryMetrics struct {
	d         *Delivery
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
	retried   *prometheus.CounterVec
	dropped   *prometheus.CounterVec
	// sinkDropped counts, per sink and reason, events it never got.
	sinkDropped *prometheus.CounterVec
	notStored   prometheus.Counter
	damaged     prometheus.Counter
	delivery    *prometheus.HistogramVec
}

var (
	outboxEventsDesc = prometheus.NewDesc("vigil_outbox_events", "Events in the outbox, not yet acknowledged by every sink.", nil, nil)
	outboxBytesDesc  = prometheus.NewDesc("vigil_outbox_bytes", "Bytes of the events in the outbox.", nil, nil)
	queueEventsDesc  = prometheus.NewDesc("vigil_delivery_queue_events", "Events published and waiting in memory to be stored in the outbox.", nil, nil)
	sinkLagDesc      = prometheus.NewDesc("vigil_sink_lag_seconds",
		"Age of the oldest stored event the sink has not acknowledged; 0 when it has every one.", []string{"sink"}, nil)
	maxLagDesc = prometheus.NewDesc("vigil_delivery_max_lag_seconds",
		"outbox.max_lag: the delivery lag past which /readyz answers not ready.", nil, nil)
)

func newDeliveryMetrics() *deliveryMetrics {
	s := []string{"sink"}
	return &deliveryMetrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_sink_events_delivered_total", Help: "Events a sink acknowledged."}, s),
		failed:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_sink_events_failed_total", Help: "Events a sink refused for good (not retried)."}, s),
		retried:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_sink_events_retried_total", Help: "Delivery attempts that failed and were retried."}, s),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_outbox_dropped_total",
			Help: "Events dropped: evicted from the full outbox (update: update events first; oldest: then the oldest), or never stored (overflow: updates refused by an outbox full of what healthy sinks have not taken; queue_full: the in-memory queue was full)."}, []string{"reason"}),
		sinkDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_sink_events_dropped_total",
			Help: "Events a sink never got: outbox_full (evicted from the full outbox while the sink was failing), overflow, queue_full (never stored; see vigil_outbox_dropped_total)."}, []string{"sink", "reason"}),
		notStored: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_outbox_events_not_stored_total",
			Help: "Events published but never stored in the outbox (the disk refused them until shutdown, or delivery was closed): lost."}),
		damaged: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_outbox_damaged_total",
			Help: "Damaged outbox files moved aside at start (outbox.on_damage: move_aside); the events they held are not delivered."}),
		delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_sink_delivery_duration_seconds",
			Help: "Time from an event's commit to the outbox to its acknowledgement by the sink.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, s),
	}
}

func (m *deliveryMetrics) forSink(name string) {
	m.delivered.WithLabelValues(name)
	m.failed.WithLabelValues(name)
	m.retried.WithLabelValues(name)
	for _, r := range []string{outbox.DropOutboxFull, outbox.DropOverflow, outbox.DropQueueFull} {
		m.sinkDropped.WithLabelValues(name, r)
	}
	for _, r := range []string{"update", "oldest", outbox.DropOverflow, outbox.DropQueueFull} {
		m.dropped.WithLabelValues(r)
	}
}

func (m *deliveryMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxEventsDesc
	ch <- outboxBytesDesc
	ch <- queueEventsDesc
	ch <- sinkLagDesc
	ch <- maxLagDesc
}

func (m *deliveryMetrics) Collect(ch chan<- prometheus.Metric) {
	d, now := m.d, time.Now()
	n, b := d.box.Depth()
	ch <- prometheus.MustNewConstMetric(outboxEventsDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(outboxBytesDesc, prometheus.GaugeValue, float64(b))
	q, _ := d.queue.depth()
	ch <- prometheus.MustNewConstMetric(queueEventsDesc, prometheus.GaugeValue, float64(q))
	for _, r := range d.sinks {
		ch <- prometheus.MustNewConstMetric(sinkLagDesc, prometheus.GaugeValue, r.lag(now).Seconds(), r.cfg.Name)
	}
	ch <- prometheus.MustNewConstMetric(maxLagDesc, prometheus.GaugeValue, d.maxLag.Seconds())
}

func (m *deliveryMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m, m.delivered, m.failed, m.retried, m.dropped, m.sinkDropped, m.notStored, m.damaged, m.delivery}
}
