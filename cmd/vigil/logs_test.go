package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// jsonLines checks that every line of a --log-format json stderr is a
// JSON object with time, level and msg, and returns them.
func jsonLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("stderr line is not a JSON log record: %q (%v)", sc.Text(), err)
			continue
		}
		out = append(out, rec)
	}
	return out
}

// TestFatalConfigErrorIsJSON: `vigil run --log-format json` on a bad
// configuration exits 1 and says why in one JSON record, naming the key;
// a bad --log-level too (exit 2).
func TestFatalConfigErrorIsJSON(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(cfg, []byte("cameras:\n  - {id: gate, url: 'rtsp://u:s3cret@127.0.0.1:1/x', no_such_key: 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := vigilCmd(t, "run", "--config", cfg, "--log-format", "json", "--data-dir", t.TempDir())
	recs := jsonLines(t, stderr)
	if code != 1 || out != "" || len(recs) != 1 || recs[0]["level"] != "ERROR" || !strings.Contains(fmt.Sprint(recs[0]["error"]), "no_such_key") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and one JSON ERROR record naming no_such_key", code, out, stderr)
	}
	if strings.Contains(stderr, "s3cret") {
		t.Errorf("the error shows the camera's password: %s", stderr)
	}
	code, _, stderr = vigilCmd(t, "run", "--config", cfg, "--log-format", "json", "--log-level", "loud")
	if recs := jsonLines(t, stderr); code != 2 || len(recs) != 1 || !strings.Contains(fmt.Sprint(recs[0]["error"]), "loud") {
		t.Errorf("a bad --log-level: exit %d, stderr %q; want 2 and one JSON record naming it", code, stderr)
	}
}

// TestRunLogsJSONAndHealthcheck runs `vigil run --log-format json` with
// web_config_file's TLS (self-signed) and basic auth on. `vigil
// healthcheck` passes with the certificate as --ca-file (no credentials)
// and fails, exit 1 with a one-line reason, without it; clients that
// refuse the certificate or speak plain HTTP to the TLS port are logged as
// JSON records (net/http's own errors go through slog); after
// SIGTERM, every line the engine wrote on stderr is a JSON record.
func TestRunLogsJSONAndHealthcheck(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.WriteSelfSigned(t, dir)
	h, err := bcrypt.GenerateFromPassword([]byte("op-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"web.yaml":   "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\nbasic_auth_users:\n  ops: " + string(h) + "\n",
		"vigil.yaml": fmt.Sprintf("web_config_file: %s\ncameras:\n  - {id: gate, url: 'rtsp://%s/x'}\n", filepath.Join(dir, "web.yaml"), testkit.ClosedPort(t)),
	}
	for name, doc := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	cmd := exec.Command(os.Args[0], "run", "--config", filepath.Join(dir, "vigil.yaml"), "--metrics-addr", addr,
		"--data-dir", filepath.Join(dir, "data"), "--log-format", "json")
	cmd.Env = append(os.Environ(), "VIGIL_AS_MAIN=1")
	var stderr testkit.SyncBuffer
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	vigil := testkit.StartProcess(t, cmd)

	url := "https://" + addr + "/readyz"
	var answer string
	await.Until(t, 30*time.Second, "vigil healthcheck to pass", func() bool {
		code, out, _ := vigilCmd(t, "healthcheck", "--url", url, "--ca-file", ca)
		answer = out
		return code == 0
	})
	if answer != "ok: "+url+": 200 ok\n" {
		t.Errorf("healthcheck said %q, want one ok line", answer)
	}
	for _, args := range [][]string{{"--url", url}, {"--url", "http://" + addr + "/readyz"}} {
		code, out, errOut := vigilCmd(t, append([]string{"healthcheck"}, args...)...)
		if code != 1 || !strings.HasPrefix(out, "unhealthy: ") || strings.Count(out, "\n") != 1 || errOut != "" {
			t.Errorf("healthcheck %v: exit %d, stdout %q, stderr %q; want 1 and one line", args, code, out, errOut)
		}
	}

	// Plain HTTP to the TLS port, from a raw client too.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "GET /readyz HTTP/1.1\r\nHost: vigil\r\n\r\n")
	c.Close()
	await.Until(t, 10*time.Second, "the failed handshakes to be logged", func() bool {
		s := stderr.String()
		return strings.Count(s, `"msg":"tls handshake failed"`) >= 3 && strings.Contains(s, "client sent an HTTP request to an HTTPS server")
	})
	if err := vigil.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Errorf("vigil after SIGTERM: %v", err)
	}
	recs := jsonLines(t, stderr.String())
	var msgs []string
	for _, r := range recs {
		msgs = append(msgs, fmt.Sprint(r["msg"]))
	}
	for _, want := range []string{"tls handshake failed", "shutting down; a second signal exits at once"} {
		if !strings.Contains(strings.Join(msgs, "\n"), want) {
			t.Errorf("no %q record among %q", want, msgs)
		}
	}
	if strings.Contains(stderr.String(), "op-secret") || strings.Contains(stderr.String(), "$2a$") {
		t.Error("the logs show the web password or its hash")
	}
}
