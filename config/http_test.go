package config

import (
	"strings"
	"syscall"
	"testing"
)

// TestHTTPLimits: the HTTP limits take their defaults (the connection cap
// from the open-file limit, which Go raises to the hard limit at start), check-config shows them unmasked, and a value
// out of range is an error naming the key.
func TestHTTPLimits(t *testing.T) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur != l.Max || openFileLimit() != l.Cur {
		t.Errorf("the open-file limit is not raised to its hard limit at start: %+v (%v)", l, err)
	}
	for nofile, want := range map[uint64]int{256: 32, 1024: 32, 2048: 1024, 4096: 2048, 8192: 4096, 1 << 20: 4096} {
		if got := DefaultMaxConnections(nofile); got != want {
			t.Errorf("DefaultMaxConnections(%d) = %d, want %d", nofile, got, want)
		}
	}
	cfg, err := Parse([]byte("cameras: [{id: a, url: 'rtsp://h/x'}]\nhttp: {idle_timeout: 30s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := DefaultHTTP(); cfg.HTTP.IdleTimeout.Seconds() != 30 || cfg.HTTP.ReadHeaderTimeout != d.ReadHeaderTimeout ||
		cfg.HTTP.MaxConnections != DefaultMaxConnections(openFileLimit()) || cfg.HTTP.LoginFailuresBurst != 10 {
		t.Errorf("http defaults: %+v", cfg.HTTP)
	}
	out, err := Show(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"idle_timeout: 30s", "login_failures_burst: 10", "login_failures_per_minute: 30", "login_cache_ttl: 1m0s"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("check-config does not show %q:\n%s", want, out)
		}
	}
	for doc, key := range map[string]string{
		"http: {read_header_timeout: 1ms}": "http.read_header_timeout", "http: {max_connections: -1}": "http.max_connections",
		"http: {login_cache_ttl: 2h}": "http.login_cache_ttl", "http: {login_failures_burst: 20000}": "http.login_failures_burst",
		"http: {idle_timeout: 5h}": "http.idle_timeout", "http: {bogus: 1}": "http.bogus",
	} {
		if _, err := Parse([]byte("cameras: [{id: a, url: 'rtsp://h/x'}]\n" + doc + "\n")); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %v, want it to name %s", doc, err, key)
		}
	}
}
