package sim

import (
	"fmt"
	"time"
)

// Realism makes a simulated camera behave like the cameras and servers
// found in the field rather than like a test fixture. The zero value is
// the plain stream: parameter sets in the SDP and in band, a random
// initial RTP timestamp, the host's clock in sender reports, video only.
// Large pictures are always cut into MTU-sized FU-A / FU fragments.
type Realism struct {
	// ParamsOutOfBand strips the parameter sets from the stream: they are
	// only in the SDP (sprop-parameter-sets), as many cameras send them.
	ParamsOutOfBand bool
	// ParamsInBandOnly leaves them out of the SDP: only the stream has them.
	ParamsInBandOnly bool
	// ClockOffset shifts the wall clock of the RTCP sender reports (a
	// camera without NTP, or in another time zone).
	ClockOffset time.Duration
	// WrapAfter makes the 32-bit RTP timestamp wrap around this long
	// after the camera's first frame (0: a random initial timestamp).
	WrapAfter time.Duration
	// Audio adds a G.711 audio track to the SDP, listed before the video.
	Audio bool
}

// CameraLike is the realism of an ordinary IP camera: parameter sets only
// in the SDP, an audio track, a clock 3 minutes off and a timestamp wrap
// 20 s after the start.
var CameraLike = Realism{ParamsOutOfBand: true, ClockOffset: 3 * time.Minute, WrapAfter: 20 * time.Second, Audio: true}

// withoutParams returns a copy of the clip whose access units carry no
// parameter set (they stay in VPS/SPS/PPS, for the SDP).
func (c *Clip) withoutParams() (*Clip, error) {
	kind := h264Kind
	if c.Codec == H265 {
		kind = h265Kind
	}
	out := &Clip{Name: c.Name, Codec: c.Codec, FPS: c.FPS, Width: c.Width, Height: c.Height,
		VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}
	out.AUs = make([][][]byte, len(c.AUs))
	for i, au := range c.AUs {
		kept := make([][]byte, 0, len(au))
		for _, n := range au {
			switch kind.classify(n) {
			case classVPS, classSPS, classPPS:
				continue
			}
			kept = append(kept, n)
		}
		out.AUs[i] = kept
	}
	if err := out.packetize(); err != nil {
		return nil, fmt.Errorf("packetize clip %q without parameter sets: %w", c.Name, err)
	}
	return out, nil
}
