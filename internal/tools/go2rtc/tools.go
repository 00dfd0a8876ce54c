//go:build tools

// Package go2rtc pins go2rtc (github.com/AlexxIT/go2rtc, MIT), the RTSP
// restreamer Frigate ships, for the end-to-end tests: an RTSP server that
// no one here wrote, beside GStreamer's. It is its own module so that
// its dependencies stay out of vigil's; scripts/go2rtc.sh builds it.
package go2rtc

import _ "github.com/AlexxIT/go2rtc"
