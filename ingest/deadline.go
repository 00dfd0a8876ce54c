package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// connGuard owns the TCP connection of one RTSP client, so that neither a
// deadline nor Close depends on gortsplib: closing the socket unblocks any
// read, write or TLS handshake gortsplib is waiting in. gortsplib bounds
// the dial and each request by ReadTimeout, but not the TLS handshake
// (tls.Client's first write runs it with no read deadline): a server that
// accepts TCP and never answers it held the client, and Close, forever.
type connGuard struct {
	dialer net.Dialer

	mu      sync.Mutex
	conn    net.Conn
	closed  bool
	expired bool
}

// dial is gortsplib.Client.DialContext: it dials and keeps the connection.
func (g *connGuard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := g.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		conn.Close()
		return nil, net.ErrClosed
	}
	g.conn = conn
	return conn, nil
}

// close closes the connection, and any dialed later; expired records that a
// deadline, not Close, did it.
func (g *connGuard) close(expired bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.closed, g.expired = true, expired
	if g.conn != nil {
		g.conn.Close()
	}
}

// lowatSetter returns the function that sets the connection's
// SO_RCVLOWAT (batch.go), or nil.
func (g *connGuard) lowatSetter() func(n int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if sc, ok := g.conn.(syscall.Conn); ok && !g.closed {
		return setRcvLowat(sc)
	}
	return nil
}

// hasExpired reports whether the setup deadline closed the connection.
func (g *connGuard) hasExpired() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.expired
}

// errSetupTimeout marks a stream that did not deliver its first video
// access unit within Config.ConnectTimeout.
var errSetupTimeout = errors.New("setup timeout")

// setupTimeoutError says at which step the connect timeout ran out.
type setupTimeoutError struct {
	step    string // "connect, tls and describe", "setup", "play", "first frame"
	timeout time.Duration
	err     error // what gortsplib returned once the socket was closed
}

func (e *setupTimeoutError) Error() string {
	return fmt.Sprintf("%s: no video within the connect timeout of %s (%v)", e.step, e.timeout, e.err)
}

func (e *setupTimeoutError) Unwrap() []error { return []error{errSetupTimeout, e.err} }

// errNoKeyframe marks a stream whose video packets came, none of them a
// keyframe, within Config.ConnectTimeout.
var errNoKeyframe = errors.New("no keyframe")

// noKeyframeError says that video came without a keyframe to start from.
type noKeyframeError struct {
	timeout time.Duration
	err     error
}

func (e *noKeyframeError) Error() string {
	return fmt.Sprintf("video packets arrive, but no keyframe (an IDR, an H.264 intra picture with a recovery point, an H.265 IRAP picture) came whole within the connect timeout of %s: nothing can be decoded; the encoder may code no keyframes (intra refresh) or too few (set a shorter I-frame interval), or each keyframe loses packets on the way (over UDP: transport: tcp) (%v)", e.timeout, e.err)
}

func (e *noKeyframeError) Unwrap() []error { return []error{errNoKeyframe, e.err} }

// Timeout makes a setup timeout a net.Error timeout too.
func (e *setupTimeoutError) Timeout() bool { return true }
