package event

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Writer writes events as JSON lines (one object per line) to an io.Writer
// from its own goroutine, so a slow consumer does not stall the caller until
// its buffer of Capacity events is full.
type Writer struct {
	log *slog.Logger
	ch  chan Event
	w   *bufio.Writer
	enc *json.Encoder

	mu     sync.Mutex // guards closed against Emit
	closed bool
	done   chan struct{}
	err    error
}

// NewWriter starts a writer; capacity <= 0 means 4096 events.
func NewWriter(w io.Writer, capacity int, log *slog.Logger) *Writer {
	if capacity <= 0 {
		capacity = 4096
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	ew := &Writer{log: log, ch: make(chan Event, capacity), w: bw, enc: json.NewEncoder(bw), done: make(chan struct{})}
	ew.enc.SetEscapeHTML(false)
	go ew.run()
	return ew
}

// Emit queues an event. It blocks only while the buffer is full; after
// Close it returns an error.
func (ew *Writer) Emit(ev Event) error {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	if ew.closed {
		return fmt.Errorf("event writer closed: event %s dropped", ev.ID)
	}
	ew.ch <- ev
	return nil
}

func (ew *Writer) run() {
	defer close(ew.done)
	for ev := range ew.ch {
		if err := ew.enc.Encode(ev); err != nil && ew.err == nil {
			ew.err = err
			ew.log.Error("event write failed", "event_id", ev.ID, "error", err)
		}
		if len(ew.ch) == 0 {
			if err := ew.w.Flush(); err != nil && ew.err == nil {
				ew.err = err
				ew.log.Error("event flush failed", "error", err)
			}
		}
	}
	if err := ew.w.Flush(); err != nil && ew.err == nil {
		ew.err = err
	}
}

// Close writes every queued event, flushes, and returns the first write error.
func (ew *Writer) Close() error {
	ew.mu.Lock()
	if !ew.closed {
		ew.closed = true
		close(ew.ch)
	}
	ew.mu.Unlock()
	<-ew.done
	return ew.err
}
