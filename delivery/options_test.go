package delivery

import (
	"io"
	"log/slog"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sink"
	"github.com/vigil-video/vigil/sinks"
)

// The tests write the options they care about; completeDelivery gives the
// others the configuration's defaults, as a file with only those keys
// would (Open takes complete options and defaults nothing).
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

// completeDelivery fills the outbox and sink options left at zero (one
// stdout sink when there is none, as in a file without sinks).
func completeDelivery(cfg Config) Config {
	cfg.Outbox = testkit.FillZeros(cfg.Outbox, config.DefaultOutbox())
	if len(cfg.Sinks) == 0 {
		cfg.Sinks = []sink.Config{{Type: config.SinkStdout}}
	}
	out := make([]sink.Config, len(cfg.Sinks))
	for i, s := range cfg.Sinks {
		out[i] = testkit.CompleteSink(s)
	}
	cfg.Sinks = out
	return cfg
}
