package ingest

import (
	"errors"
	"fmt"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/pion/rtp"
)

// Depacketizer turns the RTP packets of one H.264 or H.265 stream into
// Annex-B access units exactly as a Session does: it waits for a random
// access point, and puts the known parameter sets in front of keyframes.
// It is not safe for concurrent use.
type Depacketizer struct {
	dec    depacketizer
	prm    *params
	qp     *SliceQP // H.264 only
	gotKey bool
	// Errors counts packets the depacketizer refused as broken (a lost
	// fragment's remainder, a malformed payload), as opposed to packets
	// that only wait for the rest of their access unit.
	Errors uint64
}

// newDepacketizer wraps a format's depacketizer and parameter sets.
func newDepacketizer(dec depacketizer, prm *params) *Depacketizer {
	d := &Depacketizer{dec: dec, prm: prm}
	if prm.codec == H264 {
		d.qp = &SliceQP{}
		d.qp.Param(prm.sps) //nolint:errcheck // a bad SDP parameter set only costs the QP signal
		d.qp.Param(prm.pps) //nolint:errcheck
	}
	return d
}

// NewDepacketizer returns a depacketizer for codec with no out-of-band
// parameter sets (they are picked up in band).
func NewDepacketizer(codec Codec) (*Depacketizer, error) {
	var f format.Format
	switch codec {
	case H264:
		f = &format.H264{PayloadTyp: 96, PacketizationMode: 1}
	case H265:
		f = &format.H265{PayloadTyp: 96}
	default:
		return nil, fmt.Errorf("depacketizer: codec %q is not supported", codec)
	}
	_, _, dec, prm, err := pickVideoFormat(f)
	if err != nil {
		return nil, err
	}
	return newDepacketizer(dec, prm), nil
}

// Packet consumes one packet. When it completes an access unit that can be
// handed on, it returns the unit with Data, Key and QP set; ok is false
// otherwise (more packets needed, a broken packet, or no keyframe seen
// yet). Broken input is dropped, never a panic.
func (d *Depacketizer) Packet(pkt *rtp.Packet) (au AccessUnit, ok bool) {
	nalus, err := d.dec.Decode(pkt)
	if err != nil {
		if !errors.Is(err, rtph264.ErrMorePacketsNeeded) && !errors.Is(err, rtph265.ErrMorePacketsNeeded) {
			d.Errors++
		}
		return AccessUnit{}, false
	}
	if len(nalus) == 0 {
		return AccessUnit{}, false
	}
	key := d.prm.isRandomAccess(nalus)
	if !d.gotKey && !key {
		return AccessUnit{}, false
	}
	d.gotKey = true
	au = AccessUnit{Data: d.prm.annexB(nalus, key), Key: key, QP: -1, NonRef: NonReference(d.prm.codec, nalus)}
	if d.qp != nil {
		if qp, err := d.qp.QP(nalus); err == nil {
			au.QP = qp
		}
	}
	return au, true
}
