package service

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/delivery"
	"github.com/vigil-video/vigil/sinks"
)

// TestOutboxReadyCheck: the readiness check wired by Run passes on a real
// open outbox and names the outbox once its file cannot be written (here:
// deleted under the running delivery, which has written nothing, so its
// own Ready is still nil); a delivery's own Ready error is reported first.
func TestOutboxReadyCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := config.DefaultOutbox()
	ob.Path = path
	d, err := delivery.New(delivery.Config{Outbox: ob, Sinks: []config.Sink{config.DefaultSink(config.SinkStdout)}}, sinks.Env{Stdout: io.Discard}.Open, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	defer d.Close()
	check := outboxReady(d, path)
	if err := check(); err != nil {
		t.Fatalf("an open outbox is not ready: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := check(); err == nil || !strings.HasPrefix(err.Error(), "outbox: ") {
		t.Errorf("a deleted outbox: %v, want an error naming the outbox", err)
	}
	own := readyFunc(func() error { return errors.New("outbox: own check") })
	if err := outboxReady(own, path)(); err == nil || err.Error() != "outbox: own check" {
		t.Errorf("the delivery's own Ready was not used: %v", err)
	}
}

type readyFunc func() error

func (f readyFunc) Ready() error { return f() }
