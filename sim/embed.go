package sim

import (
	"embed"
	"fmt"
	"path"
	"sync"
)

//go:embed clips/*.h264 clips/*.h265
var clipFS embed.FS

// embeddedClips maps EmbeddedClip names to files of clipFS.
var embeddedClips = []struct {
	name  string
	codec Codec
	file  string
}{
	{"motion", H264, "clips/motion.h264"},
	{"static", H264, "clips/static.h264"},
	{"motion-h265", H265, "clips/motion.h265"},
}

var (
	embeddedMu    sync.Mutex
	embeddedCache = map[string]*Clip{}
)

// EmbeddedClipNames lists the names accepted by EmbeddedClip.
func EmbeddedClipNames() []string {
	names := make([]string, len(embeddedClips))
	for i, e := range embeddedClips {
		names[i] = e.name
	}
	return names
}

// EmbeddedClip returns one of the clips compiled into the package ("motion",
// "static", "motion-h265"; 640x360, 25 fps, 10 s, an IDR every 2 s). Clips are
// parsed on first use and the same *Clip is returned to every caller; it is
// safe for concurrent use.
func EmbeddedClip(name string) (*Clip, error) {
	embeddedMu.Lock()
	defer embeddedMu.Unlock()
	if c, ok := embeddedCache[name]; ok {
		return c, nil
	}
	for _, e := range embeddedClips {
		if e.name != name {
			continue
		}
		data, err := clipFS.ReadFile(e.file)
		if err != nil {
			return nil, fmt.Errorf("embedded clip %q: %w", name, err)
		}
		c, err := ParseClip(name, e.codec, data, DefaultFPS)
		if err != nil {
			return nil, err
		}
		embeddedCache[name] = c
		return c, nil
	}
	return nil, fmt.Errorf("embedded clip %q: unknown name (have %v)", name, EmbeddedClipNames())
}

// EmbeddedClipData returns an embedded clip's raw Annex-B bytes and its
// file extension (".h264" or ".h265"), for tools that need a file.
func EmbeddedClipData(name string) ([]byte, string, error) {
	for _, e := range embeddedClips {
		if e.name == name {
			b, err := clipFS.ReadFile(e.file)
			return b, path.Ext(e.file), err
		}
	}
	return nil, "", fmt.Errorf("no embedded clip %q", name)
}
