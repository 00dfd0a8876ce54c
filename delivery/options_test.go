package delivery

import (
	"io"
	"log/slog"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sinks"
)

// The tests write the options they care about; completeDelivery and
// testkit.Sink give the others the configuration's defaults, as a file
// with only those keys would (New takes complete options and defaults
// nothing).
type OutboxConfig = config.Outbox

// testOpen is New on cfg completed with the defaults, its sinks opened by
// sinks.Env (a stdout sink writing to stdout), then Start.
func testOpen(cfg Config, stdout io.Writer, log *slog.Logger) (*Delivery, error) {
	d, err := New(completeDelivery(cfg), sinks.Env{Stdout: stdout}.Open, log)
	if err != nil {
		return nil, err
	}
	d.Start()
	return d, nil
}

// completeDelivery fills the outbox options left at zero, and gives one
// stdout sink when there is none, as in a file without sinks (the tests
// make their sinks complete with testkit.Sink).
func completeDelivery(cfg Config) Config {
	cfg.Outbox = testkit.FillZeros(cfg.Outbox, config.DefaultOutbox())
	if len(cfg.Sinks) == 0 {
		cfg.Sinks = []config.Sink{config.DefaultSink(config.SinkStdout)}
	}
	return cfg
}
