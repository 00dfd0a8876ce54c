package api

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// connLimiter caps the open connections of a listener (http.max_connections)
// so that HTTP clients cannot take the file descriptors the cameras and
// sinks need. At the cap, Accept first closes the connection that has
// waited longest without a request in progress (a keep-alive connection
// idle between requests, or one that has not sent its first request yet):
// a client that sends its request gets in, a crowd of silent connections
// only evicts itself. When every connection has a request in progress,
// Accept waits for one to close (new clients wait in the kernel's
// backlog). Connections that never send a request are also closed by the
// server's read header timeout. Its Accept, Close and connState are safe
// for concurrent use.
type connLimiter struct {
	net.Listener
	slots chan struct{} // one token per open connection
	log   *slog.Logger
	full  prometheus.Counter

	mu    sync.Mutex
	quiet map[net.Conn]time.Time // connections without a request in progress (http.StateNew, StateIdle) → since

	closed chan struct{}
	once   sync.Once
	warned atomic.Bool // the cap was logged since it was last left
}

func newConnLimiter(ln net.Listener, max int, log *slog.Logger, full prometheus.Counter) *connLimiter {
	return &connLimiter{Listener: ln, slots: make(chan struct{}, max), log: log, full: full,
		quiet: map[net.Conn]time.Time{}, closed: make(chan struct{})}
}

// Accept takes a slot (at the cap, closing the oldest quiet connection or
// waiting), then accepts.
func (l *connLimiter) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
		l.warned.Store(false)
	default:
		l.full.Inc()
		if !l.warned.Swap(true) {
			l.log.Warn("http connection cap reached; closing the oldest quiet connections", "key", "http.max_connections", "max", cap(l.slots))
		}
		l.evict()
		select {
		case l.slots <- struct{}{}:
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close stops Accept, including one waiting for a slot.
func (l *connLimiter) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// connState is the http.Server's ConnState hook: it tracks the
// connections without a request in progress.
func (l *connLimiter) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch s {
	case http.StateNew, http.StateIdle:
		l.quiet[c] = time.Now()
	default:
		delete(l.quiet, c)
	}
}

// evict closes the connection quiet for the longest time, if any.
func (l *connLimiter) evict() {
	l.mu.Lock()
	var oldest net.Conn
	var since time.Time
	for c, t := range l.quiet {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.quiet, oldest)
	l.mu.Unlock()
	if oldest != nil {
		oldest.Close() // gives its slot back; the server sees StateClosed
	}
}

// limitedConn gives back its slot once, when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
