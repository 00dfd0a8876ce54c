package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// serverMetrics are the HTTP server's metrics.
type serverMetrics struct {
	webErrs                               prometheus.Counter
	webOK, open, maxConns                 prometheus.Gauge
	capReached                            prometheus.Counter
	authFailures, authLimited, authChecks prometheus.Counter
}

func newServerMetrics(reg *prometheus.Registry) (*serverMetrics, error) {
	m := &serverMetrics{
		webErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_web_config_errors_total",
			Help: "Changes of web_config_file not applied (invalid, unreadable, or turning authentication or TLS off); the last good configuration stays in force."}),
		webOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_web_config_last_change_successful",
			Help: "0 while the content of web_config_file is refused (the last good configuration stays in force), else 1 (also without web_config_file)."}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_http_connections",
			Help: "HTTP connections open."}),
		maxConns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_http_max_connections",
			Help: "The cap on open HTTP connections (http.max_connections)."}),
		capReached: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_http_connection_cap_reached_total",
			Help: "Times a new HTTP connection had to wait for a slot (http.max_connections); idle keep-alive connections were closed."}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_http_auth_failures_total",
			Help: "HTTP requests refused because their basic auth user or password is wrong."}),
		authLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_http_auth_limited_total",
			Help: "HTTP requests answered 429 because their client failed authentication too often (http.login_failures_burst, http.login_failures_per_minute)."}),
		authChecks: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_http_auth_checks_total",
			Help: "bcrypt password checks run (a password that passed is remembered for http.login_cache_ttl)."}),
	}
	for _, p := range []*prometheus.Counter{&m.webErrs, &m.capReached, &m.authFailures, &m.authLimited, &m.authChecks} {
		if err := register(reg, p); err != nil {
			return nil, err
		}
	}
	for _, p := range []*prometheus.Gauge{&m.webOK, &m.open, &m.maxConns} {
		if err := register(reg, p); err != nil {
			return nil, err
		}
	}
	m.webOK.Set(1)
	return m, nil
}

// register registers *c, or points it to the collector already registered
// under its name (a server started again on the same registry).
func register[T prometheus.Collector](reg *prometheus.Registry, c *T) error {
	if err := reg.Register(*c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return fmt.Errorf("register metrics: %w", err)
		}
		*c = are.ExistingCollector.(T)
	}
	return nil
}

// conns counts the open connections from the server's ConnState hook.
func (m *serverMetrics) conns(st http.ConnState) {
	switch st {
	case http.StateNew:
		m.open.Inc()
	case http.StateClosed, http.StateHijacked:
		m.open.Dec()
	}
}
