package event

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Hub fans events out to Server-Sent Events subscribers. Each subscriber
// has a bounded buffer; one that falls behind is disconnected rather than
// slowing Publish. Safe for concurrent use.
type Hub struct {
	buffer int
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	closed bool
}

// NewHub returns a hub whose subscribers buffer up to buffer events.
func NewHub(buffer int) *Hub { return &Hub{buffer: buffer, subs: map[chan []byte]struct{}{}} }

// Publish sends an event to every subscriber without blocking.
func (h *Hub) Publish(ev Event) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	msg := []byte(fmt.Sprintf("id: %s\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, b))
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
func (h *Hub) Close() {
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
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
