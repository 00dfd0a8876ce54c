package delivery

import (
	"log/slog"
	"sync"
	"time"

	"github.com/vigil-video/vigil/outbox"
)

// dropLog sums drops between two log lines. Safe for concurrent use.
type dropLog struct {
	mu      sync.Mutex
	last    time.Time
	updates int // evicted
	oldest  int // evicted
	sinks   map[outbox.SinkReason]int
}

// add sums drops and logs them if the last line is 10 s old or more.
func (l *dropLog) add(log *slog.Logger, drops []outbox.Drop, sinkDrops map[outbox.SinkReason]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, dr := range drops {
		switch dr.Reason {
		case "update":
			l.updates++
		case "oldest":
			l.oldest++
		}
	}
	if l.sinks == nil {
		l.sinks = map[outbox.SinkReason]int{}
	}
	for s, n := range sinkDrops {
		l.sinks[s] += n
	}
	if time.Since(l.last) >= 10*time.Second {
		l.flushLocked(log)
	}
}

// flush logs what was summed since the last flush, if anything.
func (l *dropLog) flush(log *slog.Logger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked(log)
}

func (l *dropLog) flushLocked(log *slog.Logger) {
	if l.updates+l.oldest > 0 {
		log.Warn("outbox full: events evicted", "updates", l.updates, "oldest", l.oldest)
	}
	for s, n := range l.sinks {
		switch s.Reason {
		case outbox.DropOutboxFull:
			log.Warn("outbox full: failing sink lost undelivered events", "sink", s.Sink, "events", n)
		case outbox.DropOverflow:
			log.Warn("outbox full of what healthy sinks have not taken: update events not stored", "sink", s.Sink, "events", n)
		case outbox.DropQueueFull:
			log.Warn("delivery queue full: events not stored", "sink", s.Sink, "events", n)
		}
	}
	l.updates, l.oldest, l.last = 0, 0, time.Now()
	clear(l.sinks)
}
