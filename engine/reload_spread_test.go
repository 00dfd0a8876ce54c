package engine

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestReloadCameraCountNoSpreadWarning: a reload that adds or removes
// cameras, start_spread left at its default (which follows the camera
// count), logs no "needs a restart" warning; a configured start_spread
// that changes still does, naming the key.
func TestReloadCameraCountNoSpreadWarning(t *testing.T) {
	cams := func(n int) []config.Camera {
		var out []config.Camera
		for i := range n {
			out = append(out, cameraConfig("cam"+string(rune('a'+i)), "rtsp://"+closedPort(t)+"/x"))
		}
		return out
	}
	cfg := testConfig(cams(2)...)
	logs := &testkit.SyncBuffer{}
	e, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, n := range []int{5, 1} {
		next := testConfig(cams(n)...)
		if _, err := e.Apply(next); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(logs.String(), "needs a restart") {
		t.Errorf("a reload changing the camera count warns:\n%s", logs)
	}
	next := testConfig(cams(1)...)
	next.Listen, next.StartSpread = cfg.Listen, time.Second
	if _, err := e.Apply(next); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "key=start_spread") {
		t.Errorf("a configured start_spread change is not logged:\n%s", logs)
	}
}
