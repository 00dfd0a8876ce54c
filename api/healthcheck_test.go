package api

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/testkit"
)

// readiness is an engine whose readiness the test sets.
type readiness struct {
	slowEngine
	err atomic.Pointer[error]
}

func (r *readiness) Ready() error {
	if p := r.err.Load(); p != nil {
		return *p
	}
	return nil
}

// TestProbeThroughTLSAndAuth runs Probe against the API server with
// web_config_file's TLS (a self-signed certificate) and basic auth on:
// /readyz and /livez pass without credentials when the certificate is
// trusted by --ca-file, or skipped on loopback; an untrusted certificate,
// plain HTTP to the TLS port, a not-ready engine (with its reason), a
// protected path (401), a server that never answers and a bad option each
// fail with a one-line reason.
func TestProbeThroughTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.WriteSelfSigned(t, dir)
	h, err := bcrypt.GenerateFromPassword([]byte("op-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	wc := filepath.Join(dir, "web.yaml")
	doc := "tls_server_config:\n  cert_file: " + filepath.Join(dir, "cert.pem") + "\n  key_file: " + filepath.Join(dir, "key.pem") +
		"\nbasic_auth_users:\n  ops: " + string(h) + "\n"
	if err := os.WriteFile(wc, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	eng := &readiness{}
	s := New(Config{Listen: "127.0.0.1:0", WebConfigFile: wc, Registry: prometheus.NewRegistry(), Limits: httpLimits(func(*config.HTTPConfig) {})}, eng)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	https, port := "https://"+s.Addr(), s.Addr()[strings.LastIndex(s.Addr(), ":")+1:]
	check := func(p Probe) (string, error) { return p.Check(context.Background()) }

	for _, p := range []Probe{
		{URL: https + "/readyz", CAFile: ca},
		{URL: https + "/livez", CAFile: ca},
		{URL: https + "/readyz", InsecureSkipVerify: true},
		{URL: "https://localhost:" + port + "/readyz", InsecureSkipVerify: true},
	} {
		if answer, err := check(p); err != nil || answer != "200 ok" {
			t.Errorf("%+v: %q, %v; want 200 ok", p, answer, err)
		}
	}
	notReady := errors.New("outbox: sink hook lags 2m0s")
	eng.err.Store(&notReady)
	if _, err := check(Probe{URL: https + "/readyz", CAFile: ca}); err == nil || err.Error() != "503 not ready: outbox: sink hook lags 2m0s" {
		t.Errorf("not ready: %v, want 503 with the reason", err)
	}
	if answer, err := check(Probe{URL: https + "/livez", CAFile: ca}); err != nil {
		t.Errorf("/livez of a live engine that is not ready: %q, %v; want 200", answer, err)
	}
	eng.err.Store(nil)

	for _, tc := range []struct {
		p    Probe
		want string
	}{
		{Probe{URL: https + "/readyz"}, "certificate"},
		{Probe{URL: "http://" + s.Addr() + "/readyz"}, "400"},
		{Probe{URL: https + "/metrics", CAFile: ca}, "401"},
		// 0.0.0.0: a non-loopback host whose traffic stays on this machine.
		{Probe{URL: "https://0.0.0.0:" + port + "/readyz", InsecureSkipVerify: true}, "not a loopback address"},
		{Probe{URL: "https://ops:op-secret@" + s.Addr() + "/readyz", CAFile: ca}, "credentials are not needed"},
		{Probe{URL: https + "/readyz", CAFile: filepath.Join(dir, "web.yaml")}, "no PEM certificate"},
		{Probe{URL: "ftp://" + s.Addr()}, "want http"},
		{Probe{URL: "http://" + testkit.ClosedPort(t) + "/readyz"}, "connection refused"},
		{Probe{URL: "http://" + testkit.SilentServer(t, nil) + "/readyz", Timeout: 200 * time.Millisecond}, "no answer within 200ms"},
	} {
		answer, err := check(tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %q, %v; want one line with %q", tc.p, answer, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "op-secret") {
			t.Errorf("%+v: the error shows the password: %v", tc.p, err)
		}
	}
	if _, err := check(Probe{URL: https + "/readyz", CAFile: ca}); err != nil {
		t.Fatal(err)
	}
}
