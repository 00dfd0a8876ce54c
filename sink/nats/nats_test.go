package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
)

// TestNATSStreamLimits: the stream made with create_stream is bounded by
// max_age and max_bytes (defaults 168h and 1 GiB), discarding the oldest
// messages, on a real embedded JetStream server; a stream left without
// limits by an older vigil is brought to them at the first delivery.
func TestNATSStreamLimits(t *testing.T) {
	for _, c := range []struct {
		name             string
		maxAge           time.Duration
		maxBytes         int64
		preexisting      bool
		wantAge          time.Duration
		wantBytes        int64
		subjects, stream string
	}{
		{name: "defaults", wantAge: 168 * time.Hour, wantBytes: 1 << 30},
		{name: "configured", maxAge: 2 * time.Hour, maxBytes: 64 << 20, wantAge: 2 * time.Hour, wantBytes: 64 << 20},
		{name: "existing stream without limits", preexisting: true, maxAge: 24 * time.Hour, wantAge: 24 * time.Hour, wantBytes: 1 << 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			port := testkit.FreePort(t)
			testkit.StartNATS(t, port, filepath.Join(dir, "js"))
			url := fmt.Sprintf("nats://127.0.0.1:%d", port)
			nc, err := natsgo.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if c.preexisting {
				if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "VIGIL_INCIDENTS", Subjects: []string{"vigil.incidents.>"}}); err != nil {
					t.Fatal(err)
				}
			}
			sc := testkit.Sink(config.SinkNATS, "js", url, func(s *config.Sink) {
				s.Timeout, s.NATS.CreateStream = 2*time.Second, true
				if c.maxAge != 0 {
					s.NATS.MaxAge = c.maxAge
				}
				if c.maxBytes != 0 {
					s.NATS.MaxBytes = c.maxBytes
				}
			})
			s, err := New(sink.CommonOf(sc), *sc.NATS)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, ev := range incidenttest.Events(3) {
				b, _ := json.Marshal(ev)
				await.Until(t, 20*time.Second, "event "+ev.ID+" delivered", func() bool {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					return s.Deliver(ctx, b, &ev) == nil
				})
			}
			st, err := js.Stream(ctx, "VIGIL_INCIDENTS")
			if err != nil {
				t.Fatal(err)
			}
			info, err := st.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cfg := info.Config
			if cfg.MaxAge != c.wantAge || cfg.MaxBytes != c.wantBytes {
				t.Errorf("stream max_age %v max_bytes %d, want %v and %d", cfg.MaxAge, cfg.MaxBytes, c.wantAge, c.wantBytes)
			}
			if cfg.Discard != jetstream.DiscardOld || cfg.Duplicates != 10*time.Minute {
				t.Errorf("stream discard %v duplicates %v, want old and 10m", cfg.Discard, cfg.Duplicates)
			}
			if info.State.Msgs != 3 {
				t.Errorf("stream holds %d messages, want 3", info.State.Msgs)
			}
		})
	}
}
