// Package natsconn is vigil's one way to connect to NATS, shared by the
// NATS sink (event) and the cluster: the same reconnect policy, the same
// credentials, and errors that never quote a password.
package natsconn

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-video/vigil/redact"
)

// Config is a connection to NATS.
type Config struct {
	// Name is the client's name, shown by the server.
	Name string
	// URL is the server, or a comma-separated list of servers.
	URL string
	// Username and Password authenticate when Username is set.
	Username, Password string
	// ReconnectWait is the pause between reconnect attempts.
	ReconnectWait time.Duration
	// Timeout bounds each connect attempt.
	Timeout time.Duration
}

// Connect connects to c.URL, retrying for ever in the background when the
// server is down (nats.RetryOnFailedConnect, nats.MaxReconnects(-1)), with
// the handlers and other options in extra. The error names the URL with
// its credentials removed and quotes no secret.
func Connect(c Config, extra ...nats.Option) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(c.Name), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(c.ReconnectWait), nats.Timeout(c.Timeout)}
	if c.Username != "" {
		opts = append(opts, nats.UserInfo(c.Username, c.Password))
	}
	nc, err := nats.Connect(c.URL, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %s", c.RedactedURL(), c.Hide(err))
	}
	return nc, nil
}

// Hide returns err's message without the credentials of c's URLs (shown
// redacted instead) or its password; "" for nil.
func (c Config) Hide(err error) string {
	if err == nil {
		return ""
	}
	return redact.Text(err.Error(), strings.Split(c.URL, ","), c.Password)
}

// RedactedURL returns c.URL with the credentials of each server removed.
func (c Config) RedactedURL() string {
	urls := strings.Split(c.URL, ",")
	for i, u := range urls {
		urls[i] = redact.URL(u)
	}
	return strings.Join(urls, ",")
}
