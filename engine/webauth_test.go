package engine

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/bcrypt"

	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestWebConfigFailsClosed: with basic auth running, emptying, deleting or
// breaking web_config_file keeps the last good configuration (a request
// without credentials is still 401), and each bad content is logged with
// the key and counted in vigil_web_config_errors_total, with
// vigil_web_config_last_change_successful 0; a valid change is applied and
// sets it back to 1.
func TestWebConfigFailsClosed(t *testing.T) {
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	wc := filepath.Join(t.TempDir(), "web.yaml")
	write := func(s string) {
		if err := os.WriteFile(wc, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("basic_auth_users:\n  ops: " + hash("op-secret") + "\n")
	cfg := testConfig(cameraConfig("cam", "rtsp://"+closedPort(t)+"/x"))
	cfg.WebConfigFile = wc
	logs := &testkit.SyncBuffer{}
	e, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	get := func(path, user, pass string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+e.Addr()+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	errorsCounted := func(user, pass, n string) func() bool {
		return func() bool {
			code, body := get("/metrics", user, pass)
			return code == 200 && strings.Contains(body, "\nvigil_web_config_errors_total "+n+"\n") &&
				strings.Contains(body, "\nvigil_web_config_last_change_successful 0\n")
		}
	}
	if _, body := get("/metrics", "ops", "op-secret"); !strings.Contains(body, "\nvigil_web_config_last_change_successful 1\n") {
		t.Errorf("vigil_web_config_last_change_successful at start is not 1")
	}
	if code, _ := get("/api/cameras", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("no credentials at start: %d, want 401", code)
	}
	for i, bad := range []func(){
		func() { write("") },                                       // emptied
		func() { os.Remove(wc) },                                   // deleted
		func() { write("basic_auth_users: [\n") },                  // broken
		func() { write("basic_auth_users:\n  ops: not-a-hash\n") }, // invalid hash
		func() { write("http_server_config:\n  http2: false\n") },  // valid, but drops auth
	} {
		bad()
		n := string(rune('1' + i))
		await.Until(t, 10*time.Second, "web_config_errors_total "+n, errorsCounted("ops", "op-secret", n))
		for _, path := range []string{"/api/cameras", "/metrics", "/api/cameras/cam/snapshot.jpg"} {
			if code, _ := get(path, "", ""); code != http.StatusUnauthorized {
				t.Errorf("change %d: GET %s without credentials: %d, want 401", i+1, path, code)
			}
		}
	}
	if !strings.Contains(logs.String(), "key=web_config_file") {
		t.Errorf("the refused changes were not logged with the key:\n%s", logs)
	}
	// A valid change (another user) is applied; the old one is gone.
	write("basic_auth_users:\n  ops2: " + hash("new-secret") + "\n")
	await.Until(t, 10*time.Second, "the new user to be accepted", func() bool {
		code, _ := get("/api/cameras", "ops2", "new-secret")
		return code == 200
	})
	if code, _ := get("/api/cameras", "ops", "op-secret"); code != http.StatusUnauthorized {
		t.Errorf("the removed user still gets in: %d", code)
	}
	if _, body := get("/metrics", "ops2", "new-secret"); !strings.Contains(body, "\nvigil_web_config_last_change_successful 1\n") {
		t.Errorf("vigil_web_config_last_change_successful is not 1 after a good change")
	}
	if code, _ := get("/api/cameras", "", ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials after a valid change: %d, want 401", code)
	}
}

// TestProbesOpenWithAuth: with basic auth on, the probes (/livez,
// /readyz) answer without credentials, as a kubelet's probe sends none,
// and carry no secret; every other endpoint, and a path that only looks
// like a probe's, still needs credentials.
func TestProbesOpenWithAuth(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("op-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	wc := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(wc, []byte("basic_auth_users:\n  ops: "+string(h)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(cameraConfig("cam", "rtsp://viewer:cam-pass@"+closedPort(t)+"/x"))
	cfg.WebConfigFile = wc
	e, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	get := func(path string) (int, string) {
		c, err := net.Dial("tcp", e.Addr()) // raw: the client would clean the path
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n\r\n", path)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, path := range []string{"/livez", "/readyz"} {
		code, body := get(path)
		if code != http.StatusOK || body != "ok\n" {
			t.Errorf("GET %s without credentials: %d %q, want 200 ok", path, code, body)
		}
		if strings.Contains(body, "cam-pass") || strings.Contains(body, "$2") {
			t.Errorf("GET %s shows a secret: %q", path, body)
		}
	}
	for _, path := range []string{"/api/cameras", "/metrics", "/livez/../api/cameras", "/readyz/", "//livez", "/livez?x=/api/cameras"} {
		code, body := get(path)
		if path == "/livez?x=/api/cameras" {
			if code != http.StatusOK || body != "ok\n" {
				t.Errorf("GET %s: %d %q, want the probe", path, code, body)
			}
			continue
		}
		if code != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d, want 401", path, code)
		}
	}
}

// TestWebConfigTLSRelativePaths: a web configuration with TLS whose
// cert_file and key_file are relative to its own directory is served
// (the guarded copy lives elsewhere and keeps their meaning), and a change
// dropping TLS is refused while HTTPS keeps working.
func TestWebConfigTLSRelativePaths(t *testing.T) {
	dir := t.TempDir()
	testkit.WriteSelfSigned(t, dir)
	wc := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(wc, []byte("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(cameraConfig("cam", "rtsp://"+closedPort(t)+"/x"))
	cfg.WebConfigFile = wc
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}} //nolint:gosec // self-signed test certificate
	https := func() int {
		res, err := client.Get("https://" + e.Addr() + "/livez")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := https(); code != 200 {
		t.Fatalf("GET over TLS: %d", code)
	}
	os.WriteFile(wc, []byte("http_server_config:\n  http2: false\n"), 0o600)
	await.Until(t, 10*time.Second, "the TLS removal to be refused", func() bool {
		n, err := testutil.GatherAndCount(e.Registry(), "vigil_web_config_errors_total")
		if err != nil || n != 1 {
			return false
		}
		mfs, _ := e.Registry().Gather()
		for _, mf := range mfs {
			if mf.GetName() == "vigil_web_config_errors_total" {
				return mf.GetMetric()[0].GetCounter().GetValue() == 1
			}
		}
		return false
	})
	if code := https(); code != 200 {
		t.Fatalf("GET over TLS after a refused change: %d", code)
	}
}
