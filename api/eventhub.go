package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// EventHub fans events out to Server-Sent Events subscribers. Each subscriber
// has a bounded buffer; one that falls behind is disconnected rather than
// slowing Publish. Safe for concurrent use.
type EventHub struct {
	buffer int
	replay Replayer // nil: no resume
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	closed bool
}

// Replayer gives the events after a given event id, oldest first; ok is
// false when that id is no longer known. IncidentLog is one.
type Replayer interface {
	After(id string) (events []incident.Event, ok bool)
}

// NewEventHub returns a hub whose subscribers buffer up to buffer events. With
// replay set, a client reconnecting with Last-Event-ID (the header, or the
// last_event_id query parameter for clients that cannot set it) first gets
// the events it missed.
func NewEventHub(buffer int, replay Replayer) *EventHub {
	return &EventHub{buffer: buffer, replay: replay, subs: map[chan []byte]struct{}{}}
}

// sseMessage formats one event as a Server-Sent Events message.
func sseMessage(ev incident.Event) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf("id: %s\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, b)), nil
}

// Publish sends an event to every subscriber without blocking.
func (h *EventHub) Publish(ev incident.Event) {
	msg, err := sseMessage(ev)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- msg:
		default: // too slow: disconnect it
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// Close disconnects every subscriber.
func (h *EventHub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
}

// ServeHTTP streams events as text/event-stream until the client leaves,
// with a comment line every 15 s to keep proxies from closing it.
func (h *EventHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, h.buffer)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
		h.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(": vigil incident stream\n\n")) //nolint:errcheck
	// Resume: the events missed since Last-Event-ID, then live ones. The
	// subscription is taken first, so an event published meanwhile is in
	// the replay, the channel or both; sent is how duplicates are skipped.
	var sent map[string]bool
	if last := lastEventID(r); last != "" && h.replay != nil {
		missed, ok := h.replay.After(last)
		if !ok {
			w.Write([]byte(": resume point lost: query /api/incidents for what was missed\n\n")) //nolint:errcheck
		}
		sent = make(map[string]bool, len(missed))
		for _, ev := range missed {
			msg, err := sseMessage(ev)
			if err != nil {
				continue
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			sent[ev.ID] = true
		}
	}
	fl.Flush()
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			if sent != nil {
				if sent[sseID(msg)] {
					continue // already replayed
				}
				sent = nil // past the replay: no duplicate can follow
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			fl.Flush()
		case <-beat.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// lastEventID is the resume point a reconnecting client gives.
func lastEventID(r *http.Request) string {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		return id
	}
	return r.URL.Query().Get("last_event_id")
}

// sseID returns the id line's value of an SSE message made by sseMessage.
func sseID(msg []byte) string {
	s, _ := strings.CutPrefix(string(msg[:min(len(msg), 64)]), "id: ")
	id, _, _ := strings.Cut(s, "\n")
	return id
}
