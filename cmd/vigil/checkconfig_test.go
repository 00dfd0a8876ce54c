package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-video/vigil/config"
)

// TestCheckConfigShowsWhatRuns: `vigil check-config` on a file with one
// webhook sink prints the defaults in effect (the sink's timeout, the
// outbox path, evidence.max_bytes, the activity keys) and, under the sink,
// a webhook's keys only.
func TestCheckConfigShowsWhatRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.yaml")
	doc := "sinks:\n  - {type: webhook, url: 'https://ioc.example/hook?token=s3cret'}\ncameras:\n  - {id: cam, url: 'rtsp://u:pw@127.0.0.1:8554/x'}\n"
	out := runCheckConfig(t, path, doc)
	for _, want := range []string{"      timeout: 5s\n", "      mode: structured\n", "\n    path: outbox.db\n", "\n    max_bytes: 1073741824\n",
		"        size_factor: 8\n", "        learn_frames: 25\n", "\n    enabled: true\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("check-config lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"timeout: 0s", `path: ""`, "max_bytes: 0\n", "size_factor: 0\n", "topic_prefix", "subject_prefix", "client_id", "s3cret", ":pw@"} {
		if strings.Contains(out, bad) {
			t.Errorf("check-config shows %q:\n%s", bad, out)
		}
	}
}

// runCheckConfig writes doc at path and returns what checkConfig prints.
func runCheckConfig(t *testing.T, path, doc string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	err = checkConfig(path)
	os.Stdout = stdout
	w.Close()
	b, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCheckConfigShowsMQTTClientID: check-config prints the client_id an
// mqtt sink connects with, derived from the host name (or
// cluster.node_id), and the ha_node_id shared by every engine.
func TestCheckConfigShowsMQTTClientID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.yaml")
	out := runCheckConfig(t, path, "sinks:\n  - {type: mqtt, url: 'tcp://127.0.0.1:1883'}\ncameras:\n  - {id: cam, url: 'rtsp://127.0.0.1:8554/x'}\n")
	for _, want := range []string{"      client_id: vigil-mqtt-" + config.HostNode() + "\n", "      ha_node_id: vigil-mqtt\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("check-config lacks %q:\n%s", want, out)
		}
	}
	out = runCheckConfig(t, path, "cluster: {nats_url: 'nats://127.0.0.1:4222', node_id: pod-3}\nsinks:\n  - {type: mqtt, url: 'tcp://127.0.0.1:1883'}\n")
	if want := "      client_id: vigil-mqtt-pod-3\n"; !strings.Contains(out, want) {
		t.Errorf("check-config lacks %q:\n%s", want, out)
	}
}

// TestCheckConfigJudgesWebConfig: check-config refuses a web_config_file
// the server would not start with (a basic-auth password that is no bcrypt
// hash), naming the key and the file, and accepts a valid one.
func TestCheckConfigJudgesWebConfig(t *testing.T) {
	dir := t.TempDir()
	web := filepath.Join(dir, "web.yml")
	path := filepath.Join(dir, "vigil.yaml")
	doc := "web_config_file: " + web + "\ncameras:\n  - {id: cam, url: 'rtsp://127.0.0.1:8554/x'}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(web, []byte("basic_auth_users:\n  ops: not-a-bcrypt-hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := checkConfig(path)
	if err == nil || !strings.Contains(err.Error(), "web_config_file: "+web) {
		t.Fatalf("a password that is no bcrypt hash: %v, want an error naming web_config_file and %s", err, web)
	}
	// bcrypt of "secret" (cost 4).
	if err := os.WriteFile(web, []byte("basic_auth_users:\n  ops: $2a$04$22mIJ7RoRsk7i1NrpcbUCuxhb6sg7Cf3mZlPHL6XfTztuxvk/ISMe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	err = checkConfig(path)
	os.Stdout.Close()
	os.Stdout = stdout
	if err != nil {
		t.Fatalf("a valid web configuration: %v", err)
	}
}
