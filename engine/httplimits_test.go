package engine

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// startLimited starts an engine (one camera at a closed port) with the
// given HTTP limits and web configuration (none when "").
func startLimited(t *testing.T, limits config.HTTPConfig, webConfig string) (*Engine, *testkit.SyncBuffer) {
	t.Helper()
	cfg := testConfig(cameraConfig("cam", "rtsp://"+closedPort(t)+"/x"))
	cfg.HTTP, cfg.WebConfigFile = limits, webConfig
	logs := &testkit.SyncBuffer{}
	e, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, logs
}

// metricValue reads one unlabelled sample of a Prometheus text exposition.
func metricValue(t *testing.T, body, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("metric %s not exposed", name)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// scrape GETs /metrics on a new connection (as Prometheus does after an
// idle timeout), with a client timeout far above any expected wait.
func scrape(t *testing.T, addr, user, pass string, local net.Addr) (int, string) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{LocalAddr: local}).DialContext}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := (&http.Client{Transport: tr, Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestHTTPSilentConnectionsCannotStarve: with a cap of 16 connections, 300
// connections that never send a request and 8 keep-alive connections left
// idle cannot keep a scrape out: the scrape is served, the open
// connections never exceed the cap, and every silent or idle connection is
// closed by the server (evicted at the cap, or by the read header and idle
// timeouts).
func TestHTTPSilentConnectionsCannotStarve(t *testing.T) {
	const maxConns, silent, keepAlive = 16, 300, 8
	e, logs := startLimited(t, httpLimits(func(h *config.HTTPConfig) {
		h.MaxConnections, h.ReadHeaderTimeout, h.IdleTimeout = maxConns, 2*time.Second, time.Second
	}), "")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range keepAlive { // one request each, then idle
		c, err := net.Dial("tcp", e.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET /livez HTTP/1.1\r\nHost: vigil\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	base := openFDs(t) // the test's own keep-alive ends and the server's
	for range silent {
		c, err := net.Dial("tcp", e.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// The server side never holds more than the cap: the process's
	// descriptors grow by the test's own ends, not by one per connection.
	most := 0
	for range 20 {
		most = max(most, openFDs(t)-base-silent)
		time.Sleep(50 * time.Millisecond)
	}
	if most > maxConns+8 {
		t.Errorf("the server holds %d more descriptors for %d connections, want at most the cap %d (+8)", most, silent, maxConns)
	}
	code, body := scrape(t, e.Addr(), "", "", nil)
	if code != http.StatusOK {
		t.Fatalf("scrape behind %d silent connections: %d", silent, code)
	}
	if open := metricValue(t, body, "vigil_http_connections"); open > maxConns {
		t.Errorf("vigil_http_connections %g above the cap %d", open, maxConns)
	}
	if n := metricValue(t, body, "vigil_http_connection_cap_reached_total"); n == 0 {
		t.Error("the cap was never reached")
	}
	// Every connection the test opened is closed by the server.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open int
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(90 * time.Second))
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				mu.Lock()
				open++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if open > 0 {
		t.Errorf("%d of %d silent or idle connections still open after 90 s", open, len(conns))
	}
	if !strings.Contains(logs.String(), "http connection cap reached") {
		t.Errorf("the cap is not logged:\n%s", logs)
	}
}

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// writeUsers writes a web configuration with one user and the bcrypt hash
// of pass (bcrypt's default cost, as an operator makes it).
func writeUsers(t *testing.T, path, user, pass string) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("basic_auth_users:\n  "+user+": "+string(h)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHTTPPasswordFloodDoesNotStarveScrapes: 16 clients of one address
// (127.0.0.2) flood wrong passwords while Prometheus (127.0.0.1) scrapes
// 20 times: every scrape is served, the flood soon gets 429, and the
// bcrypt checks run stay within the failure budget (burst plus rate over
// the time the flood ran) plus the one check of the real user, whose
// success is remembered. A real user sharing the flooder's address is
// still served once its password is remembered.
func TestHTTPPasswordFloodDoesNotStarveScrapes(t *testing.T) {
	wc := filepath.Join(t.TempDir(), "web.yml")
	writeUsers(t, wc, "prometheus", "scrape-secret")
	const burst, perMinute = 5, 60
	e, logs := startLimited(t, httpLimits(func(h *config.HTTPConfig) { h.LoginFailuresBurst, h.LoginFailuresPerMinute = burst, perMinute }), wc)
	flooder := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	// The real user also from the flooder's address: remembered first.
	if code, _ := scrape(t, e.Addr(), "prometheus", "scrape-secret", flooder); code != http.StatusOK {
		t.Fatalf("first scrape from 127.0.0.2: %d", code)
	}
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: flooder}).DialContext}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", "http://"+e.Addr()+"/metrics", nil)
				req.SetBasicAuth("prometheus", "guess-"+strconv.Itoa(i)+"-"+strconv.Itoa(n))
				res, err := cl.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mu.Lock()
				codes[res.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	for i := range 20 {
		if code, _ := scrape(t, e.Addr(), "prometheus", "scrape-secret", nil); code != http.StatusOK {
			t.Errorf("scrape %d during the flood: %d", i, code)
		}
	}
	if code, _ := scrape(t, e.Addr(), "prometheus", "scrape-secret", flooder); code != http.StatusOK {
		t.Errorf("remembered user at the flooder's address during the flood: %d", code)
	}
	await.Until(t, time.Minute, "the flood limited", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return codes[http.StatusTooManyRequests] >= 100
	})
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	_, body := scrape(t, e.Addr(), "prometheus", "scrape-secret", nil)
	mu.Lock()
	defer mu.Unlock()
	for code := range codes {
		if code != http.StatusUnauthorized && code != http.StatusTooManyRequests {
			t.Errorf("the flood got %d %d times", code, codes[code])
		}
	}
	// Checks: the real user at each address once, the flood within its budget.
	budget := 2 + burst + int(elapsed.Seconds()*perMinute/60) + 1
	if checks := metricValue(t, body, "vigil_http_auth_checks_total"); checks > float64(budget) {
		t.Errorf("%g bcrypt checks in %s, want at most %d (burst %d, %d a minute)", checks, elapsed, budget, burst, perMinute)
	}
	if n := metricValue(t, body, "vigil_http_auth_limited_total"); n < 100 {
		t.Errorf("vigil_http_auth_limited_total %g, want the flood counted", n)
	}
	if c := strings.Count(logs.String(), "failed http authentications limited"); c < 1 || c > 1+int(elapsed.Seconds()) {
		t.Errorf("the limit is logged %d times (want once per refill at most):\n%s", c, logs)
	}
	if strings.Contains(logs.String(), "guess-") {
		t.Error("a tried password is in the logs")
	}
}

// TestHTTPAuthCacheNeverAcceptsWrongPassword: once a password is
// remembered, no other password (a prefix, an extension, empty, another
// user's) gets in, and after the password is changed in web_config_file
// the old one is refused at once, although it is still remembered.
func TestHTTPAuthCacheNeverAcceptsWrongPassword(t *testing.T) {
	wc := filepath.Join(t.TempDir(), "web.yml")
	writeUsers(t, wc, "ops", "right-horse")
	e, _ := startLimited(t, httpLimits(func(h *config.HTTPConfig) { h.LoginFailuresBurst, h.LoginCacheTTL = 1000, time.Hour }), wc)
	get := func(user, pass string) int {
		code, _ := scrape(t, e.Addr(), user, pass, nil)
		return code
	}
	if code := get("ops", "right-horse"); code != http.StatusOK {
		t.Fatalf("right password: %d", code)
	}
	for _, pass := range []string{"right-hors", "right-horse ", "right-horsex", "", "RIGHT-HORSE", "right-horse\x00"} {
		if code := get("ops", pass); code != http.StatusUnauthorized {
			t.Errorf("password %q after the right one was remembered: %d, want 401", pass, code)
		}
	}
	if code := get("other", "right-horse"); code != http.StatusUnauthorized {
		t.Errorf("unknown user with a remembered password: %d, want 401", code)
	}
	writeUsers(t, wc, "ops", "new-stable")
	await.Until(t, 30*time.Second, "the new password applied", func() bool { return get("ops", "new-stable") == http.StatusOK })
	if code := get("ops", "right-horse"); code != http.StatusUnauthorized {
		t.Errorf("the old, remembered password after the change: %d, want 401", code)
	}
}

// httpLimits returns the default HTTP limits changed by f.
func httpLimits(f func(*config.HTTPConfig)) config.HTTPConfig {
	h := config.DefaultHTTP()
	f(&h)
	return h
}
