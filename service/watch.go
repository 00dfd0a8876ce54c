package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/engine"
)

// watchConfig re-reads path (applying it to e) on a signal from hup (SIGHUP) and whenever its content changes
// (checked every interval), and applies it. An invalid file is logged with
// the key at fault and leaves the running cameras untouched. It returns when
// ctx is done. last is the checksum (fileSum) of the content running now.
// prepare, when set, applies the command line over the file (listen, data
// paths) exactly as at start. The engine tells the camera list it applies
// to whoever follows it (engine.Options.CamerasChanged).
func watchConfig(ctx context.Context, e applier, log *slog.Logger, path string, interval time.Duration, hup <-chan os.Signal, last []byte, prepare func(*config.Config)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		var why string
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "sighup"
		case <-tick.C:
			sum := fileSum(path)
			if sum == nil || bytes.Equal(sum, last) {
				continue
			}
			why = "file_changed"
		}
		last = fileSum(path)
		cfg, err := config.Load(path)
		if err != nil {
			log.Error("configuration not reloaded; running set unchanged", "trigger", why, "error", err)
			continue
		}
		if prepare != nil {
			prepare(&cfg) // what the command line sets over the file
		}
		if _, err := e.Apply(cfg); err != nil {
			log.Error("configuration not reloaded; running set unchanged", "trigger", why, "error", err)
			continue
		}
	}
}

// applier applies a reloaded configuration: the engine, or in a cluster
// the part of it this node owns (clusterRun).
type applier interface {
	Apply(cfg config.Config) (engine.ReloadResult, error)
}

func fileSum(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := sha256.Sum256(b)
	return s[:]
}
