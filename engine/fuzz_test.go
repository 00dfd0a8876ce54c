package engine

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
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig(b)
		if err != nil {
			if strings.Contains(err.Error(), "u:pw@") {
				t.Fatalf("credential in error: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config fails validation: %v", err)
		}
		if len(cfg.Cameras) == 0 || cfg.Workers < 1 {
			t.Fatalf("parsed config without defaults: %+v", cfg)
		}
	})
}
