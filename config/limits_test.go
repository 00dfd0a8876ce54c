package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// parseBounded runs Parse in a goroutine and fails the test if it has not
// returned within a generous bound (a hang is the bug these tests guard).
func parseBounded(t *testing.T, doc string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Parse([]byte(doc))
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("Parse did not return within 60 s: it hangs")
		return nil
	}
}

// TestSecretFileLimits: a ${file:} reference reads only a regular file of
// at most MaxSecretFileBytes; a FIFO with no writer, /dev/zero, a
// directory and a large file are refused at once with an error naming the
// key and what is wrong, never hanging or filling memory.
func TestSecretFileLimits(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, MaxSecretFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	atCap := filepath.Join(dir, "at-cap")
	if err := os.WriteFile(atCap, []byte(strings.Repeat("k", MaxSecretFileBytes)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"fifo", fifo, "is not a regular file (a FIFO)"},
		{"dev zero", "/dev/zero", "is not a regular file (a character device)"},
		{"directory", dir, "is not a regular file (a directory)"},
		{"large file", big, fmt.Sprintf("is %d bytes, more than the %d", MaxSecretFileBytes+1, MaxSecretFileBytes)},
		{"at the cap", atCap, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parseBounded(t, "cameras:\n  - {id: a, url: 'rtsp://h/x', password: '${file:"+tc.path+"}'}\n")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("a file of exactly %d bytes: %v", MaxSecretFileBytes, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "cameras[0].password: secret file") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want the key and %q", err, tc.want)
			}
		})
	}
}

// TestAliasBomb: a small document whose aliases expand to billions of
// nodes (through keys that exist: cameras, masks, polygons) is refused
// quickly with an error that names the problem.
func TestAliasBomb(t *testing.T) {
	const width = 1000 // 1000 cameras × 1000 masks × 1000 points: 10^9 nodes
	rep := func(alias string) string { return strings.TrimSuffix(strings.Repeat(alias+", ", width), ", ") }
	doc := "cameras: [&c {id: a, url: 'rtsp://h/x', masks: [&m [&p [0.1, 0.1], " + rep("*p") + "], " + rep("*m") + "]}, " + rep("*c") + "]\n"
	err := parseBounded(t, doc)
	if err == nil || !strings.Contains(err.Error(), "alias bomb") || !strings.Contains(err.Error(), "cameras[") {
		t.Fatalf("error %v, want an alias bomb named at its key", err)
	}
	// A template reused through an alias is fine.
	ok := "cameras:\n  - {id: a, url: 'rtsp://h/x', motion: &m {min_area: 0.02}}\n  - {id: b, url: 'rtsp://h/y', motion: *m}\n"
	if err := parseBounded(t, ok); err != nil {
		t.Fatalf("aliased template: %v", err)
	}
}

// TestSecretValuesNotEchoed: a key filled from a reference whose value is
// invalid is named with the reference, never with the value, whether the
// YAML decoder or Validate finds the fault.
func TestSecretValuesNotEchoed(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "s")
	const value = "xoxb-7Qm2sK9vL4pR8tW1+/="
	if err := os.WriteFile(secret, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := "${file:" + secret + "}"
	t.Setenv("VIGIL_TEST_SECRET", value)
	for _, tc := range []struct{ name, doc, key string }{
		{"decode", "workers: '" + ref + "'\ncameras: [{id: a, url: 'rtsp://h/x'}]\n", "line 1"}, // yaml.v3 names the line
		{"validate", "cameras: [{id: a, url: 'rtsp://h/x', transport: '" + ref + "'}]\n", "transport"},
		{"validate id", "cameras: [{id: '" + ref + "', url: 'rtsp://h/x'}]\n", "cameras[0].id"},
		{"env", "cameras: [{id: a, url: 'rtsp://h/x', decode_mode: '${env:VIGIL_TEST_SECRET}'}]\n", "decode_mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parseBounded(t, tc.doc)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, value) || strings.Contains(msg, "xoxb") {
				t.Fatalf("the secret value is echoed: %s", msg)
			}
			if !strings.Contains(msg, tc.key) || !strings.Contains(msg, "(value of ${") {
				t.Fatalf("error %q does not name the key %s and the reference", msg, tc.key)
			}
		})
	}
}

// TestConfigFileLimits: the configuration, web_config_file and a camera's
// ca_file are read like secrets: a FIFO or a device is refused at once,
// naming the key.
func TestConfigFileLimits(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Load(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "read config") || !strings.Contains(err.Error(), "a FIFO") {
			t.Errorf("Load(FIFO): %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Load(FIFO) hangs")
	}
	for _, tc := range []struct{ doc, want string }{
		{"web_config_file: " + fifo + "\ncameras: [{id: a, url: 'rtsp://h/x'}]\n", "web_config_file: " + fifo + " is not a regular file (a FIFO)"},
		{"cameras: [{id: a, url: 'rtsps://h/x', ca_file: /dev/zero}]\n", `cameras[0] (id "a").ca_file: /dev/zero is not a regular file (a character device)`},
	} {
		if err := parseBounded(t, tc.doc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}
