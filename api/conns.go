package api

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// connLimiter caps the open connections of a listener (http.max_connections)
// so that HTTP clients cannot take the file descriptors the cameras and
// sinks need. At the cap, Accept waits for a connection to close (new
// clients wait in the kernel's backlog) and first closes the keep-alive
// connections that sit idle, so that clients sending requests get in.
// Connections that never send a request are closed by the server's read
// header timeout. Its Accept, Close and conn hooks are safe for concurrent
// use.
type connLimiter struct {
	net.Listener
	slots chan struct{} // one token per open connection
	log   *slog.Logger
	full  prometheus.Counter

	mu   sync.Mutex
	idle map[net.Conn]struct{} // keep-alive connections between requests (http.StateIdle)

	closed chan struct{}
	once   sync.Once
	warned atomic.Bool // the cap was logged since it was last left
}

func newConnLimiter(ln net.Listener, max int, log *slog.Logger, full prometheus.Counter) *connLimiter {
	return &connLimiter{Listener: ln, slots: make(chan struct{}, max), log: log, full: full,
		idle: map[net.Conn]struct{}{}, closed: make(chan struct{})}
}

// Accept takes a slot, waiting (and closing idle connections) at the cap,
// then accepts.
func (l *connLimiter) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
		l.warned.Store(false)
	default:
		l.full.Inc()
		if !l.warned.Swap(true) {
			l.log.Warn("http connection cap reached; closing idle connections, new ones wait", "key", "http.max_connections", "max", cap(l.slots))
		}
		l.closeIdle()
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

// connState is the http.Server's ConnState hook: it tracks the idle
// keep-alive connections.
func (l *connLimiter) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle {
		l.idle[c] = struct{}{}
	} else {
		delete(l.idle, c)
	}
}

// closeIdle closes the connections idle between requests.
func (l *connLimiter) closeIdle() {
	l.mu.Lock()
	idle := make([]net.Conn, 0, len(l.idle))
	for c := range l.idle {
		idle = append(idle, c)
	}
	l.mu.Unlock()
	for _, c := range idle {
		c.Close() // the server sees StateClosed and the slot is released
	}
}

// open is the number of connections open.
func (l *connLimiter) open() int { return len(l.slots) }

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
