package sinks

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestOpenEachKind: Open opens the sink of the configured kind, given its
// own keys (nothing listens at the brokers' ports: mqtt and nats connect
// in the background); a sink without the keys of its kind (built in Go,
// not from config.DefaultSink) is refused, naming it.
func TestOpenEachKind(t *testing.T) {
	closed := func(scheme string) string { return scheme + "://" + testkit.ClosedPort(t) }
	for _, c := range []struct {
		sink config.Sink
		want string // the sink's type
	}{
		{config.DefaultSink(config.SinkStdout), "*file.Writer"},
		{testkit.Sink(config.SinkFile, "f", filepath.Join(t.TempDir(), "events.jsonl")), "*file.Sink"},
		{testkit.Sink(config.SinkWebhook, "hook", "http://127.0.0.1:1/"), "*webhook.Sink"},
		{testkit.Sink(config.SinkMQTT, "broker", closed("tcp")), "*mqtt.Sink"},
		{testkit.Sink(config.SinkNATS, "js", closed("nats")), "*nats.Sink"},
	} {
		t.Run(c.sink.Type, func(t *testing.T) {
			s, err := Env{Stdout: io.Discard}.Open(c.sink)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := fmt.Sprintf("%T", s); got != c.want {
				t.Errorf("a %s sink opened as %s, want %s", c.sink.Type, got, c.want)
			}
		})
	}
	_, err := Env{Stdout: io.Discard}.Open(config.Sink{Name: "hook", Type: config.SinkWebhook})
	if err == nil || !strings.Contains(err.Error(), "sink hook") {
		t.Errorf("a sink without its kind's keys: %v, want an error naming it", err)
	}
}
