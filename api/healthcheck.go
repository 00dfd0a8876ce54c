package api

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vigil-video/vigil/config"
)

// Probe is what `vigil healthcheck` asks of a running engine: one GET of
// a probe endpoint, /readyz or /livez, which answer without credentials
// even when web_config_file turns authentication on (probesOpen).
type Probe struct {
	// URL is the probe's address, http or https.
	// It defaults to DefaultProbeURL, http://127.0.0.1:9108/readyz.
	URL string
	// CAFile is a PEM file of the certificates that sign the server's
	// (a self-signed certificate is its own); empty trusts the system's.
	CAFile string
	// InsecureSkipVerify accepts any server certificate; refused unless
	// the URL's host is a loopback address (the container's own engine).
	InsecureSkipVerify bool
	// Timeout bounds the whole request. It defaults to 5 seconds.
	Timeout time.Duration
}

// DefaultProbeURL is where Probe.URL defaults to: the readiness probe of
// an engine at the default listen address (config.Default's listen).
var DefaultProbeURL = "http://" + config.Default().Listen + "/readyz"

// maxProbeBody bounds what Check reads of the probe's answer.
const maxProbeBody = 4 << 10

// Check runs the probe once. It returns a one-line description of the
// answer ("200 ok") with a nil error when the engine answered 200, and an
// error saying what failed otherwise: a bad option, the connection, the
// certificate, or the status and first line of the body (a 503's "not
// ready: <reason>").
func (p Probe) Check(ctx context.Context) (string, error) {
	raw := p.URL
	if raw == "" {
		raw = DefaultProbeURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url %q: want http://HOST:PORT/readyz or https://…", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("--url %s: credentials are not needed (the probes answer without authentication)", u.Redacted())
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if p.InsecureSkipVerify {
		if !loopbackHost(u.Hostname()) {
			return "", fmt.Errorf("--insecure-skip-verify: %s is not a loopback address (use --ca-file)", u.Hostname())
		}
		tc.InsecureSkipVerify = true
	}
	if p.CAFile != "" {
		pem, err := os.ReadFile(p.CAFile)
		if err != nil {
			return "", fmt.Errorf("--ca-file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return "", fmt.Errorf("--ca-file %s: no PEM certificate in it", p.CAFile)
		}
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	c := &http.Client{
		Transport: &http.Transport{TLSClientConfig: tc, Proxy: nil, DisableKeepAlives: true},
		// A probe answers itself; a redirect is a wrong URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := c.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("no answer within %s (--timeout)", timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, by the caller
		}
		return "", err
	}
	defer res.Body.Close()
	line, _ := bufio.NewReader(io.LimitReader(res.Body, maxProbeBody)).ReadString('\n')
	answer := strings.TrimSpace(fmt.Sprintf("%d %s", res.StatusCode, strings.TrimSpace(line)))
	if res.StatusCode != http.StatusOK {
		return "", errors.New(answer)
	}
	return answer, nil
}

// loopbackHost reports whether host is localhost or a loopback IP.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
