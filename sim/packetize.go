package sim

import (
	"fmt"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// payloadType is the dynamic RTP payload type of every simulated video format.
const payloadType = 96

// rtpClip is a clip packetized once into RTP payloads; cameras only stamp
// sequence numbers and timestamps on them.
type rtpClip struct {
	payloads [][]byte // every packet payload of the clip, in order
	markers  []bool   // RTP marker bit of each payload
	auStart  []int    // packets of AU i are payloads[auStart[i]:auStart[i+1]]
}

// newFormat returns a fresh RTP format (with parameter sets, for the SDP)
// describing clip c. Each ServerStream needs its own instance.
func (c *Clip) newFormat() format.Format {
	if c.Codec == H265 {
		return &format.H265{PayloadTyp: payloadType, VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}
	}
	return &format.H264{PayloadTyp: payloadType, SPS: c.SPS, PPS: c.PPS, PacketizationMode: 1}
}

// auEncoder packetizes access units; the RTP header fields it sets (SSRC,
// sequence number, timestamp) are overwritten by the caller.
type auEncoder interface {
	Encode(au [][]byte) ([]*rtp.Packet, error)
}

func (c *Clip) newEncoder() (auEncoder, error) {
	switch f := c.newFormat().(type) {
	case *format.H264:
		return f.CreateEncoder()
	case *format.H265:
		return f.CreateEncoder()
	default:
		return nil, fmt.Errorf("no encoder for %T", f)
	}
}

func (c *Clip) packetize() error {
	enc, err := c.newEncoder()
	if err != nil {
		return err
	}
	r := &c.rtp
	r.auStart = make([]int, 0, len(c.AUs)+1)
	for i, au := range c.AUs {
		r.auStart = append(r.auStart, len(r.payloads))
		pkts, err := enc.Encode(au)
		if err != nil {
			return fmt.Errorf("access unit %d: %w", i, err)
		}
		for _, p := range pkts {
			r.payloads = append(r.payloads, p.Payload)
			r.markers = append(r.markers, p.Marker)
		}
	}
	r.auStart = append(r.auStart, len(r.payloads))
	return nil
}
