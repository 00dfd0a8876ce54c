package config

import (
	"fmt"
	"syscall"
	"time"
)

// HTTPConfig bounds what HTTP clients of /metrics and /api can take, so
// that no client (idle connections, slow readers, a password flood) can
// starve the cameras, the sinks or the other clients. A change needs a
// restart. A 0 stands for the default (Config.Derive), but for
// login_cache_ttl.
type HTTPConfig struct {
	// ReadHeaderTimeout bounds the time to read a request's headers (and
	// the TLS handshake) from the moment the connection is accepted: a
	// connection that sends nothing is closed after it. 100ms to 10m.
	// It defaults to 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds the reading of a whole request, and WriteTimeout
	// the writing of a response, for every endpoint but the streams
	// (/api/events and the pprof profile and trace), which run for as long
	// as the client reads. 100ms to 1h each.
	// They default to 30s and 60s.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes a keep-alive connection that waits this long for
	// its next request: 100ms to 1h.
	// It defaults to 2m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConnections caps the open HTTP connections: 1 to 1048576. Beyond
	// it new connections wait (in the kernel's backlog) and idle
	// keep-alive connections are closed to make room. The cap keeps file
	// descriptors for the cameras, the sinks and the files.
	// It defaults to what the open-file limit (RLIMIT_NOFILE, raised to its
	// hard limit at start) leaves after a reserve of half the limit and at
	// least 1024 descriptors, between 32 and 4096: 4096 under a limit of
	// 8192 or more, 2048 under 4096, 1024 under 2048, 32 under 1024.
	MaxConnections int `yaml:"max_connections"`
	// LoginFailuresBurst and LoginFailuresPerMinute limit the failed basic
	// authentications of one client address (a token bucket): past them,
	// a request whose credentials are not known good gets 429 without a
	// password check. 1 to 10000 each.
	// They default to 10 and 30.
	LoginFailuresBurst     int `yaml:"login_failures_burst"`
	LoginFailuresPerMinute int `yaml:"login_failures_per_minute"`
	// LoginCacheTTL is how long a user and password that passed the bcrypt
	// check are accepted without checking again (kept as a keyed hash, never
	// in clear; a failure is never cached): 0 (no cache) to 1h.
	// It defaults to 1m.
	LoginCacheTTL time.Duration `yaml:"login_cache_ttl"`
}

// DefaultHTTP returns the HTTP limits' defaults, the connection cap
// derived from the process's open-file limit (DefaultMaxConnections).
func DefaultHTTP() HTTPConfig {
	return HTTPConfig{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, MaxConnections: DefaultMaxConnections(openFileLimit()),
		LoginFailuresBurst: 10, LoginFailuresPerMinute: 30, LoginCacheTTL: time.Minute}
}

// DefaultMaxConnections is http.max_connections' default under an
// open-file limit of nofile: what is left after reserving
// max(1024, nofile/2) descriptors for cameras, sinks and files, clamped to
// 32..4096.
func DefaultMaxConnections(nofile uint64) int {
	reserve := max(1024, nofile/2)
	if nofile <= reserve {
		return 32
	}
	return int(min(max(nofile-reserve, 32), 4096))
}

// openFileLimit is the soft RLIMIT_NOFILE (Go raises it to the hard limit
// when the process starts).
func openFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 1024
	}
	return l.Cur
}

// derive replaces the zeros that stand for the defaults d (every key but
// login_cache_ttl, whose 0 turns the cache off).
func (h *HTTPConfig) derive(d HTTPConfig) {
	for _, p := range []struct{ v, d *time.Duration }{{&h.ReadHeaderTimeout, &d.ReadHeaderTimeout},
		{&h.ReadTimeout, &d.ReadTimeout}, {&h.WriteTimeout, &d.WriteTimeout}, {&h.IdleTimeout, &d.IdleTimeout}} {
		if *p.v == 0 {
			*p.v = *p.d
		}
	}
	if h.MaxConnections == 0 {
		h.MaxConnections = d.MaxConnections
	}
	if h.LoginFailuresBurst == 0 {
		h.LoginFailuresBurst = d.LoginFailuresBurst
	}
	if h.LoginFailuresPerMinute == 0 {
		h.LoginFailuresPerMinute = d.LoginFailuresPerMinute
	}
}

// validate checks the ranges.
func (h *HTTPConfig) validate() error {
	for _, d := range []struct {
		key       string
		v, lo, hi time.Duration
	}{{"read_header_timeout", h.ReadHeaderTimeout, 100 * time.Millisecond, 10 * time.Minute},
		{"read_timeout", h.ReadTimeout, 100 * time.Millisecond, time.Hour},
		{"write_timeout", h.WriteTimeout, 100 * time.Millisecond, time.Hour},
		{"idle_timeout", h.IdleTimeout, 100 * time.Millisecond, time.Hour}} {
		if d.v < d.lo || d.v > d.hi {
			return fmt.Errorf("http.%s: %s is not in %s..%s", d.key, d.v, d.lo, d.hi)
		}
	}
	switch {
	case h.MaxConnections < 1 || h.MaxConnections > 1<<20:
		return fmt.Errorf("http.max_connections: %d is not in 1..%d", h.MaxConnections, 1<<20)
	case h.LoginFailuresBurst < 1 || h.LoginFailuresBurst > 10000:
		return fmt.Errorf("http.login_failures_burst: %d is not in 1..10000", h.LoginFailuresBurst)
	case h.LoginFailuresPerMinute < 1 || h.LoginFailuresPerMinute > 10000:
		return fmt.Errorf("http.login_failures_per_minute: %d is not in 1..10000", h.LoginFailuresPerMinute)
	case h.LoginCacheTTL < 0 || h.LoginCacheTTL > time.Hour:
		return fmt.Errorf("http.login_cache_ttl: %s is not in 0s..1h", h.LoginCacheTTL)
	}
	return nil
}
