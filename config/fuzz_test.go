package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig: any document either parses into a valid configuration
// or yields an error; never a panic, never a credential in the error.
func FuzzParseConfig(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("cameras:\n  - id: a\n    url: rtsp://u:pw@h/x\n    motion: {threshold: 3}\n"))
	f.Add([]byte("workers: 100000000\nqueue_memory_mb: 99999999999999\ncameras:\n  - {id: a, url: 'rtsp://h:99999/x', queue_frames: 2000000000}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b)
		if err != nil {
			if strings.Contains(err.Error(), "u:pw@") {
				t.Fatalf("credential in error: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config fails validation: %v", err)
		}
		if len(cfg.Cameras) == 0 || cfg.Workers < 1 || cfg.QueueMemoryMB < 1 {
			t.Fatalf("parsed config without defaults: %+v", cfg)
		}
		// Nothing sized by a key can exceed its documented range.
		if cfg.Workers > maxWorkers || cfg.QueueMemoryMB > maxQueueMemoryMB || cfg.StartSpread > maxStartSpread {
			t.Fatalf("engine keys out of range: workers %d, queue_memory_mb %d, start_spread %s", cfg.Workers, cfg.QueueMemoryMB, cfg.StartSpread)
		}
		for _, c := range cfg.Cameras {
			if c.QueueFrames > maxQueueFrames || c.QueueBytes > maxQueueBytes || c.AnalysisWidth > maxAnalysisWidth {
				t.Fatalf("camera %q keys out of range: %+v", c.ID, c)
			}
		}
	})
}
