package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/engine"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
)

type discard struct{}

func (discard) Emit(incident.Event) error { return nil }

// TestWatchConfig: the file watch applies a changed file (by content, and
// on SIGHUP), keeps --metrics-addr over the file's listen key, and leaves
// the running set alone on an invalid file, logging the key at fault.
func TestWatchConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cameras.yaml")
	write := func(ids ...string) {
		var b strings.Builder
		b.WriteString("listen: 127.0.0.1:1\ncameras:\n")
		for _, id := range ids {
			fmt.Fprintf(&b, "  - {id: %s, url: 'rtsp://%s/x'}\n", id, testkit.ClosedPort(t))
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	logs := &testkit.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	e, err := engine.New(cfg, engine.Options{Logger: log, Events: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ids := func() []string {
		res, err := http.Get("http://" + e.Addr() + "/api/cameras")
		if err != nil {
			return nil
		}
		defer res.Body.Close()
		var cams []struct{ ID string }
		if json.NewDecoder(res.Body).Decode(&cams) != nil {
			return nil
		}
		var out []string
		for _, c := range cams {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}

	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan struct{})
	sum := fileSum(path) // of the content running now
	go func() {
		defer close(done)
		// listen as --metrics-addr would set it: the file's port 1 is not used.
		watchConfig(ctx, e, log, path, 50*time.Millisecond, hup, sum, func(c *config.Config) { c.Listen = e.Addr() })
	}()
	defer func() { cancel(); <-done }()

	write("a", "b")
	await.Until(t, 10*time.Second, "camera b added on a file change", func() bool { return slices.Equal(ids(), []string{"a", "b"}) })

	// An invalid file: logged with its key, nothing changes.
	if err := os.WriteFile(path, []byte("cameras:\n  - {id: c, url: 'rtsp://h/x', motion: {treshold: 3}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 10*time.Second, "the error logged", func() bool { return strings.Contains(logs.String(), "cameras[0].motion.treshold") })
	if got := ids(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("an invalid file changed the running set: %v", got)
	}

	// SIGHUP re-reads even an unchanged file (here: fixed back to a, c).
	write("a", "c")
	hup <- os.Interrupt
	await.Until(t, 10*time.Second, "camera c in place of b", func() bool { return slices.Equal(ids(), []string{"a", "c"}) })
}
