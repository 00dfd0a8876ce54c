package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Profiles name the clip mixes of live, baseline and compare. Every
// profile but light uses the camera-realistic clips that
// scripts/camclips.sh makes from real footage (vtest.avi: people walking
// in a fixed camera's view, with sensor noise): what integrators' cameras
// send, not the 24 kbps clips compiled into vigil.
var Profiles = map[string]struct {
	Active, Idle string // clip files in the clip directory, or embedded names
	Describe     string
}{
	"camera":      {"sub-motion.h264", "sub-static.h264", "640x360 25 fps H.264 ~500 kbps substreams, 45 KB keyframes every 2 s, sensor noise"},
	"camera-h265": {"sub-motion.h265", "sub-static.h265", "640x360 25 fps H.265 ~500 kbps substreams, sensor noise"},
	"main":        {"main-motion.h264.mkv", "main-static.h264.mkv", "1920x1080 15 fps H.264 ~4 Mbps main streams, 4 slices, keyframes up to 370 KB"},
	"mid":         {"mid-motion.h264.mkv", "mid-static.h264.mkv", "1280x720 25 fps H.264 ~2 Mbps (made on demand: CAMCLIPS_MID=1 scripts/camclips.sh)"},
	"mid-h265":    {"mid-motion.h265.mkv", "mid-static.h265.mkv", "1280x720 25 fps H.265 ~2 Mbps (made on demand: CAMCLIPS_MID=1 scripts/camclips.sh)"},
	"main-h265":   {"main-motion.h265.mkv", "main-static.h265.mkv", "1920x1080 15 fps H.265 ~4 Mbps main streams"},
	"light":       {"motion", "static", "the embedded 640x360 ~24 kbps clips (40-byte P-frames): light, not camera-realistic"},
}

// DefaultProfile is the profile of live, baseline and compare without
// --clips.
const DefaultProfile = "camera"

// ProfileClips returns the --clips spec of profile with active percent of
// the cameras on the clip with people walking and the rest on the still
// view; dir holds the camera-realistic clips (scripts/camclips.sh).
func ProfileClips(profile string, active float64, dir string) (string, error) {
	p, ok := Profiles[profile]
	if !ok {
		names := make([]string, 0, len(Profiles))
		for n := range Profiles {
			names = append(names, n)
		}
		return "", fmt.Errorf("--profile: unknown %q (have %s)", profile, strings.Join(names, ", "))
	}
	if active < 0 || active > 100 {
		return "", fmt.Errorf("--active: %g%% is not a percentage", active)
	}
	a, i := p.Active, p.Idle
	if profile != "light" {
		a, i = filepath.Join(dir, a), filepath.Join(dir, i)
		for _, f := range []string{a, i} {
			if _, err := os.Stat(f); err != nil {
				return "", fmt.Errorf("profile %s: clip %s missing: make the clips with `scripts/camclips.sh %s` (the mid profiles: CAMCLIPS_MID=1 scripts/camclips.sh) (or pass --clip-dir, --profile light, or --clips FILE,...)", profile, f, dir)
			}
		}
	}
	return fmt.Sprintf("%s=%g%%,%s", a, active, i), nil
}

// DefaultClipDir is where scripts/camclips.sh puts the clips for the
// README's commands: $VIGIL_CAMCLIPS, or .cache/camclips.
func DefaultClipDir() string {
	if d := os.Getenv("VIGIL_CAMCLIPS"); d != "" {
		return d
	}
	return filepath.Join(".cache", "camclips")
}
