package decode

import (
	"os"
	"sync"
	"testing"
)

// Clips are encoded once per test binary into a shared temporary
// directory, so tests and benchmarks reuse them; TestMain removes it.
var (
	clipMu  sync.Mutex
	clipDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if clipDir != "" {
		os.RemoveAll(clipDir)
	}
	os.Exit(code)
}

// sharedClip returns the path of the clip for spec, encoding it on first use.
func sharedClip(tb testing.TB, spec clipSpec) string {
	tb.Helper()
	clipMu.Lock()
	defer clipMu.Unlock()
	if clipDir == "" {
		d, err := os.MkdirTemp("", "vigil-decode-clips-")
		if err != nil {
			tb.Fatal(err)
		}
		clipDir = d
	}
	return makeClip(tb, clipDir, spec)
}

// Test clips.
var (
	h264Clip   = clipSpec{codec: H264, size: "640x360", seconds: 4, pixFmt: "yuv420p"}
	h265Clip   = clipSpec{codec: H265, size: "640x360", seconds: 4, pixFmt: "yuv420p"}
	h264Clip10 = clipSpec{codec: H264, size: "640x360", seconds: 2, pixFmt: "yuv420p10le"}
	h265ClipRG = clipSpec{codec: H265, size: "640x360", seconds: 2, pixFmt: "gbrp"}
)
