package service

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestDataDir: with no outbox.path and a relative evidence.dir, the outbox
// and the evidence go under --data-dir, created if missing; never in the
// working directory.
func TestDataDir(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data", "vigil")
	cfgPath := filepath.Join(dir, "vigil.yaml")
	yaml := fmt.Sprintf("listen: 127.0.0.1:0\nevidence: {dir: snaps}\ncameras:\n  - {id: a, url: 'rtsp://%s/x'}\n", testkit.ClosedPort(t))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: cfgPath, DataDir: data, Events: io.Discard, Logs: io.Discard})
	}()
	await.Until(t, 10*time.Second, "the outbox under --data-dir", func() bool {
		_, err := os.Stat(filepath.Join(data, "outbox.db"))
		return err == nil
	})
	if fi, err := os.Stat(filepath.Join(data, "snaps")); err != nil || !fi.IsDir() {
		t.Errorf("evidence directory under --data-dir: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, stray := range []string{"vigil-outbox.db", "vigil-evidence", "snaps"} {
		if _, err := os.Stat(filepath.Join(wd, stray)); err == nil {
			t.Errorf("%s written in the working directory", stray)
		}
	}
}
