package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/backoff"
	"github.com/vigil-video/vigil/internal/pause"
	"github.com/vigil-video/vigil/internal/sleep"
	"github.com/vigil-video/vigil/redact"
	"github.com/vigil-video/vigil/unit"
)

// Handler receives what a Session produces. Its methods are called from the
// session's goroutines and must not block: AccessUnit in particular runs on
// the RTP reader and must hand the unit on (to a bounded queue) and return.
type Handler interface {
	// StreamStarted is called when a stream starts playing, before its
	// first access unit. Everything about the previous stream is void.
	StreamStarted(info StreamInfo)
	// AccessUnit hands over one access unit; ownership of au.Data passes.
	AccessUnit(au unit.AccessUnit)
	// StateChanged reports a state change and its reason ("" when none);
	// err, when set, is the cause with credentials removed.
	StateChanged(s State, reason string, err error)
}

// Config configures one camera's session. It is complete: SessionConfig
// makes it from the camera's configuration, where every default is set.
type Config struct {
	// ID names the camera in errors and logs. Required.
	ID string
	// URL is the rtsp:// or rtsps:// address. Required. It may carry
	// credentials; they never leave this package.
	URL string
	// User and Pass, when set, replace the URL's credentials.
	User, Pass string
	// Transport is "tcp" or "udp".
	// SessionConfig sets "tcp".
	Transport string
	// CAFile is a PEM file of CAs trusted for rtsps.
	// SessionConfig sets the system roots.
	CAFile string
	// SkipVerify disables certificate verification for rtsps.
	// SessionConfig sets false.
	SkipVerify bool
	// ReadTimeout bounds the TCP connect and every RTSP request, network
	// read and write.
	// SessionConfig sets 10 seconds.
	ReadTimeout time.Duration
	// ConnectTimeout bounds everything from the TCP connect to the first
	// video access unit: the TLS handshake (which nothing else bounds),
	// OPTIONS, DESCRIBE, SETUP, PLAY and the first frame. When it runs out
	// the socket is closed and the session backs off with reason timeout.
	// SessionConfig sets 20 seconds.
	ConnectTimeout time.Duration
	// UDPReadBuffer is the socket receive buffer of the UDP transport, in
	// bytes: a camera sends a keyframe (100-300 KB at 1080p) in one burst,
	// which overflows the kernel's default of about 208 KB. The kernel caps
	// it at net.core.rmem_max.
	// SessionConfig sets 4 MiB.
	UDPReadBuffer int
	// ReadBatch, over TCP, holds the reader's wake-up until the stream
	// has sent about this long of its bytes (the socket's SO_RCVLOWAT,
	// following the stream's rate; batch.go): fewer wake-ups for the same
	// bytes, and a picture held back by up to about 1.5 times it. 0: a
	// wake-up per packet.
	// SessionConfig sets DefaultReadBatch, or VIGIL_READ_BATCH when set.
	ReadBatch time.Duration
	// StallTimeout: no video access unit for this long on an open
	// connection closes it and reconnects (before the stream's first
	// keyframe: no RTP packet; ConnectTimeout bounds the wait for it).
	// SessionConfig sets 5 seconds.
	StallTimeout time.Duration
	// Pause, when set, is the engine's process stall detector: the stall
	// timeout restarts from a process stall's end, so that a live stream
	// is not reconnected for the process's own freeze. Nil is none.
	Pause *pause.Detector
	// BackoffMin and BackoffMax bound the wait between reconnections; the
	// wait doubles from BackoffMin up to BackoffMax, with jitter.
	// They default to 1 and 30 seconds.
	BackoffMin, BackoffMax time.Duration
	// StartDelay is waited before the first connection, to stagger many
	// cameras starting at once.
	// SessionConfig sets 0.
	StartDelay time.Duration
	// Limits bound the stream's picture size, chroma, bit depth,
	// references and estimated decoder memory; see Limits for the
	// defaults. A stream over them is failed with ReasonOverLimit.
	Limits config.Limits
	// Budget, when set, is the decoder memory shared with other cameras:
	// the stream's estimate is reserved from it before its first access
	// unit is handed on. Nil is none.
	Budget *Budget
	// Logger receives the session's logs; it defaults to discarding them.
	Logger *slog.Logger
}

// Status is a snapshot of a session's state.
type Status struct {
	State  State
	Reason string
	// Err is the last error, with credentials removed.
	Err       string
	Since     time.Time
	Codec     Codec
	Transport string
}

// Session supervises one camera: connect, play, detect stalls, reconnect.
type Session struct {
	cfg     Config
	u       *base.URL
	secrets []string
	tls     *tls.Config
	h       Handler
	log     *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	status Status

	packetsLost     atomic.Uint64
	jitterNano      atomic.Int64
	bitrateBits     atomic.Uint64 // float64 bits
	keyIntervalNano atomic.Int64
	fpsBits         atomic.Uint64 // float64 bits
	clockOffsetNano atomic.Int64  // camera clock minus host clock
	discontinuities atomic.Uint64 // RTP timestamp jumps
	clamped         atomic.Uint64 // RTP timestamp steps ahead of arrival, clamped
	decodeErrors    atomic.Uint64 // RTP/RTCP packets gortsplib could not decode
	sourceChanges   atomic.Uint64 // switches to a new RTP source (SSRC) within a connection (pinConn)
	memoryBytes     atomic.Int64  // decoder memory reserved for the stream (Limits, Budget)
}

// ErrUnsupported marks a stream without H.264 or H.265 video.
var ErrUnsupported = errors.New("no H.264 or H.265 video in the stream")

// errStalled is returned by a stream that stopped sending video.
var errStalled = errors.New("no video received within the stall timeout")

// Session settings that are no configuration key.
const (
	// DefaultReadTimeout bounds the TCP connect and every RTSP request,
	// network read and write.
	DefaultReadTimeout = 10 * time.Second
	// DefaultUDPReadBuffer is the UDP transport's socket receive buffer.
	DefaultUDPReadBuffer = 4 << 20
)

// SessionConfig returns the session configuration of camera c (complete
// and valid, from config); the caller adds StartDelay, Budget and Logger.
func SessionConfig(c config.Camera) Config {
	return Config{
		ID:             c.ID,
		URL:            c.URL,
		User:           c.Username,
		Pass:           c.Password,
		Transport:      c.Transport,
		CAFile:         c.CAFile,
		SkipVerify:     c.TLSSkipVerify,
		ReadTimeout:    DefaultReadTimeout,
		ConnectTimeout: c.ConnectTimeout,
		UDPReadBuffer:  DefaultUDPReadBuffer,
		ReadBatch:      ReadBatchFromEnv(),
		StallTimeout:   c.StallTimeout,
		Limits:         c.Limits,
		BackoffMin:     c.BackoffMin,
		BackoffMax:     c.BackoffMax,
	}
}

// NewSession validates cfg and returns a session; Start runs it. Errors name
// the camera and show the URL without credentials.
func NewSession(cfg Config, h Handler) (*Session, error) {
	if cfg.ID == "" {
		return nil, errors.New("camera id is empty")
	}
	if err := config.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("camera %q: url %w", cfg.ID, err)
	}
	red := redact.URL(cfg.URL)
	pu, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("camera %q: url %s: cannot parse", cfg.ID, red)
	}
	secrets := []string{}
	if pu.User != nil {
		if p, ok := pu.User.Password(); ok {
			secrets = append(secrets, p, url.QueryEscape(p), pu.User.String())
		}
	}
	// Secret-looking query values (?token=, ?sig=) may be quoted by the
	// RTSP stack's errors too.
	for k, vs := range pu.Query() {
		if redact.SecretName(k) {
			for _, v := range vs {
				if v != "" {
					secrets = append(secrets, v, url.QueryEscape(v))
				}
			}
		}
	}
	if cfg.User != "" || cfg.Pass != "" {
		pu.User = url.UserPassword(cfg.User, cfg.Pass)
		secrets = append(secrets, cfg.Pass, url.QueryEscape(cfg.Pass), pu.User.String())
	}
	u, err := base.ParseURL(pu.String())
	if err != nil {
		return nil, fmt.Errorf("camera %q: url %s: %w", cfg.ID, red, redact.Error(err, nil, secrets...))
	}
	switch cfg.Transport {
	case "tcp", "udp":
	default:
		return nil, fmt.Errorf("camera %q: transport %q is not supported (want tcp or udp)", cfg.ID, cfg.Transport)
	}
	if cfg.ReadTimeout <= 0 || cfg.ConnectTimeout <= 0 || cfg.UDPReadBuffer <= 0 || cfg.StallTimeout <= 0 || cfg.BackoffMin <= 0 ||
		cfg.BackoffMax < cfg.BackoffMin || cfg.Limits.MaxWidth <= 0 {
		return nil, fmt.Errorf("camera %q: incomplete session configuration (start from SessionConfig)", cfg.ID)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var tlsConf *tls.Config
	if pu.Scheme == "rtsps" {
		tlsConf = &tls.Config{InsecureSkipVerify: cfg.SkipVerify} //nolint:gosec // explicit per-camera opt-in
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("camera %q: ca_file: %w", cfg.ID, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("camera %q: ca_file %s: no PEM certificate found", cfg.ID, cfg.CAFile)
			}
			tlsConf.RootCAs = pool
		}
	}
	s := &Session{
		cfg:     cfg,
		u:       u,
		secrets: secrets,
		tls:     tlsConf,
		h:       h,
		log:     cfg.Logger,
		done:    make(chan struct{}),
	}
	s.status = Status{State: StateConnecting, Since: time.Now()}
	return s, nil
}

// RedactedURL returns the camera's URL without credentials.
func (s *Session) RedactedURL() string { return redact.URL(s.cfg.URL) }

// Start runs the session in its own goroutine until Close.
func (s *Session) Start() {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
}

// Close stops the session and waits until its goroutines have returned.
// The handler is not called after Close returns.
func (s *Session) Close() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
}

// Status returns the session's current state.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Session) setState(st State, reason string, err error) {
	err = redact.Error(err, nil, s.secrets...)
	s.mu.Lock()
	s.status.State, s.status.Reason, s.status.Since = st, reason, time.Now()
	if err != nil {
		s.status.Err = err.Error()
	} else if st == StateStreaming {
		s.status.Err = ""
	}
	s.mu.Unlock()
	s.h.StateChanged(st, reason, err)
}

func (s *Session) run() {
	defer close(s.done)
	defer s.releaseMemory()
	if s.cfg.StartDelay > 0 && !s.sleep(s.cfg.StartDelay) {
		s.setState(StateStopped, "", nil)
		return
	}
	bo := backoff.Backoff{Min: s.cfg.BackoffMin, Max: s.cfg.BackoffMax}
	// A failed camera is retried from BackoffMax up to failedBackoff times
	// it: the condition needs a change at the camera, not a moment.
	failed := backoff.Backoff{Min: s.cfg.BackoffMax, Max: failedBackoff * s.cfg.BackoffMax}
	for {
		s.setState(StateConnecting, "", nil)
		started := time.Now()
		streamed, err := s.stream()
		if s.ctx.Err() != nil {
			s.setState(StateStopped, "", nil)
			return
		}
		reason := classify(err)
		err = redact.Error(err, nil, s.secrets...)
		var wait time.Duration
		if operatorReason(reason) {
			// The camera answers, but with a stream the engine does not
			// take (an audio-only DESCRIBE, a picture over the limits):
			// failed until it changes, retried on the longer backoff.
			bo.Reset()
			wait = failed.Next()
			s.log.Error("camera failed", "reason", reason, "error", err, "retry_in", wait)
			s.setState(StateFailed, reason, err)
		} else {
			failed.Reset()
			// A stream that played a while earns a fresh, short backoff.
			if streamed && time.Since(started) > 10*s.cfg.BackoffMin {
				bo.Reset()
			}
			wait = bo.Next()
			s.log.Warn("camera disconnected", "reason", reason, "error", err, "retry_in", wait)
			s.setState(StateBackingOff, reason, err)
		}
		if !s.sleep(wait) {
			s.setState(StateStopped, "", nil)
			return
		}
	}
}

// releaseMemory gives the stream's decoder memory back to the budget.
func (s *Session) releaseMemory() {
	s.cfg.Budget.release(s.cfg.ID)
	s.memoryBytes.Store(0)
}

// failedBackoff is how many times BackoffMax a failed camera waits at
// most between retries (5 minutes with the defaults).
const failedBackoff = 10

// operatorReason reports whether reason needs a change at the camera or in
// its configuration: the session is failed, not backing off.
func operatorReason(reason string) bool {
	return reason == ReasonUnsupported || reason == ReasonOverLimit
}

// sleep waits d or until Close; it reports whether d elapsed.
func (s *Session) sleep(d time.Duration) bool { return sleep.For(s.ctx, d) }

// Jitter returns a random duration in [0, max), for staggering starts.
func Jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max)))
}
