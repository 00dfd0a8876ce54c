package engine

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigil-video/vigil/incident"
)

// ledgerBeat is how often the ledger is rewritten while incidents are
// open, so that an incident left open by a crash is ended at most this
// long after the last moment the engine was known to run.
const ledgerBeat = 10 * time.Second

// ledgerFile is what the ledger's file holds.
type ledgerFile struct {
	// WrittenAt is when the file was written: the engine ran then, with
	// these incidents open.
	WrittenAt time.Time           `json:"written_at"`
	Open      []incident.Incident `json:"open"`
}

// ledger keeps the engine's open incidents (their last start or update
// payload) in a small file of the data directory, written atomically
// (temporary file, fsync, rename) by its own goroutine, at most one write
// at a time and each holding every change before it. An incident that
// outlives its process (SIGKILL, power loss) is ended with its own id at
// the next start. Safe for concurrent use.
type ledger struct {
	path string
	log  *slog.Logger
	// failed counts writes that failed (a metric).
	failed func()

	// afterStore: an incident is forgotten when its end is stored in the
	// outbox (stored), not when it is published: an end still queued in
	// memory when the process dies is sent again by the next run.
	afterStore bool

	mu    sync.Mutex
	open  map[string]incident.Incident
	dirty bool
	erred bool // the last write failed (logged once per streak)

	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started bool
}

// openLedger reads the ledger at path and returns it with the incidents
// a previous run left open and when it last wrote them. A missing file
// holds none; a damaged one is moved aside (path.damaged) with an error
// logged, and holds none.
func openLedger(path string, log *slog.Logger, failed func()) (*ledger, []incident.Incident, time.Time) {
	l := &ledger{path: path, log: log, failed: failed, open: map[string]incident.Incident{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil, time.Time{}
	}
	var f ledgerFile
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		aside := path + ".damaged"
		rerr := os.Rename(path, aside)
		log.Error("open incidents of the last run lost", "path", path, "error", err, "moved_to", aside, "move_error", rerr)
		failed()
		return l, nil, time.Time{}
	}
	return l, f.Open, f.WrittenAt
}

// start runs the writer until close.
func (l *ledger) start() {
	l.started = true
	go func() {
		defer close(l.done)
		t := time.NewTicker(ledgerBeat)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-l.kick:
			case <-t.C:
				l.mu.Lock()
				l.dirty = l.dirty || len(l.open) > 0 // a heartbeat
				l.mu.Unlock()
			}
			l.write()
		}
	}()
}

// track records an event: a start or an update keeps its incident open,
// an end forgets it (once stored, with afterStore). It never blocks on
// the disk.
func (l *ledger) track(ev incident.Event) {
	if ev.Type == incident.TypeEnd && l.afterStore {
		return
	}
	l.forget(ev)
}

// stored records an event stored in the outbox: an end forgets its
// incident (afterStore).
func (l *ledger) stored(ev incident.Event) {
	if ev.Type == incident.TypeEnd && l.afterStore {
		l.forget(ev)
	}
}

// forget applies ev to the open incidents.
func (l *ledger) forget(ev incident.Event) {
	inc := ev.Data
	l.mu.Lock()
	if ev.Type == incident.TypeEnd {
		if _, ok := l.open[inc.IncidentID]; !ok {
			l.mu.Unlock()
			return
		}
		delete(l.open, inc.IncidentID)
	} else {
		// Embedded snapshots stay out of the file; their paths are kept.
		inc.Evidence = nil
		for _, e := range ev.Data.Evidence {
			if e.Path != "" {
				inc.Evidence = append(inc.Evidence, incident.Evidence{Role: e.Role, Path: e.Path})
			}
		}
		l.open[inc.IncidentID] = inc
	}
	l.dirty = true
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default: // a write is due already; it will hold this change
	}
}

// write saves the open incidents if they changed since the last write.
func (l *ledger) write() {
	l.mu.Lock()
	if !l.dirty {
		l.mu.Unlock()
		return
	}
	f := ledgerFile{WrittenAt: time.Now().UTC(), Open: make([]incident.Incident, 0, len(l.open))}
	for _, inc := range l.open {
		f.Open = append(f.Open, inc)
	}
	l.dirty = false
	l.mu.Unlock()
	err := writeAtomic(l.path, f)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.dirty = true // retried at the next change or beat
		l.failed()
		if !l.erred {
			l.log.Error("open incidents not saved", "path", l.path, "error", err)
		}
	} else if l.erred {
		l.log.Info("open incidents saved again", "path", l.path)
	}
	l.erred = err != nil
}

// writeAtomic writes v as JSON to path through a temporary file of its
// directory, synced before the rename and the directory after it.
func writeAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	if serr := tmp.Sync(); werr == nil {
		werr = serr
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// close stops the writer and writes what changed since its last write.
func (l *ledger) close() {
	if l.started {
		close(l.stop)
		<-l.done
	}
	l.write()
}

// openLedger reads the ledger at path and registers its metrics.
func (e *Engine) openLedger(path string) {
	e.ledgerEnded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vigil_incidents_ended_after_restart_total",
		Help: "Incidents a previous run left open (a crash) ended at start, with their ids.",
	})
	e.ledgerFailed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vigil_open_incidents_write_errors_total",
		Help: "Failed writes (or a damaged file moved aside) of the file keeping the open incidents across restarts.",
	})
	e.metrics.Reg.MustRegister(e.ledgerEnded, e.ledgerFailed)
	e.ledger, e.leftOpen, e.leftSeen = openLedger(path, e.log.With("component", "ledger"), e.ledgerFailed.Inc)
	// With a publisher that says when an event is stored (the delivery),
	// an incident is forgotten once its end is stored.
	if n, ok := e.opts.Events.(interface{ OnStored(func(incident.Event)) }); ok {
		e.ledger.afterStore = true
		n.OnStored(e.ledger.stored)
	}
	// An incident whose events the delivery kept back and gave up (a
	// cluster node's, reported by the camera's new owner) is forgotten
	// too: its next run must not end what no consumer saw start.
	if n, ok := e.opts.Events.(interface{ OnDiscarded(func(incident.Event)) }); ok {
		n.OnDiscarded(e.ledger.stored)
	}
}

// endLeftOpen publishes the end of every incident a previous run left
// open, with its own incident id, as ended when that run last wrote the
// ledger (the last time it was known to run), and saves the ledger without
// them (with afterStore: with them, until their ends are stored).
func (e *Engine) endLeftOpen(left []incident.Incident, lastSeen time.Time) {
	for _, inc := range left {
		end := lastSeen.UTC()
		if end.Before(inc.StartedAt) {
			end = inc.StartedAt
		}
		inc.EndedAt, inc.FrameTime = &end, end
		e.log.Warn("incident left open by the last run ended", "camera", inc.Camera, "kind", inc.Kind,
			"incident_id", inc.IncidentID, "ended_at", end)
		e.ledgerEnded.Inc()
		// The end's event id is derived from the incident's (incident.EndID),
		// as every end's: should the last run have stored its end after
		// all, a consumer sees one. Not tracked: this run never held it.
		ev := incident.New(incident.TypeEnd, inc, time.Now())
		if err := e.events.Emit(ev); err != nil {
			e.log.Error("event not published", "camera", inc.Camera, "incident_id", inc.IncidentID, "error", err)
		}
	}
	if len(left) > 0 {
		e.ledger.mu.Lock()
		if e.ledger.afterStore { // kept until their ends are stored
			for _, inc := range left {
				e.ledger.open[inc.IncidentID] = inc
			}
		}
		e.ledger.dirty = true
		e.ledger.mu.Unlock()
		e.ledger.write()
	}
}
