package ingest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
	"github.com/vigil-video/vigil/unit"
)

// Depacketizer turns the RTP packets of one H.264 or H.265 stream into
// Annex-B access units exactly as a Session does: it waits for a random
// access point, and puts the known parameter sets in front of keyframes.
// It is not safe for concurrent use.
type Depacketizer struct {
	dec    depacketizer
	prm    *params
	qp     QPReader
	gotKey bool
	admit  *admission // nil: every stream shape is accepted
	// Refused is set once a parameter set over the limits was seen; the
	// depacketizer hands nothing on after it.
	Refused error
	// Errors counts packets the depacketizer refused as broken (a lost
	// fragment's remainder, a malformed payload), as opposed to packets
	// that only wait for the rest of their access unit.
	Errors uint64
	// ruleSPS is the SPS dropOK and dropTop were read from (dropRule).
	ruleSPS []byte
	dropOK  bool
	dropTop int
}

// newDepacketizer wraps a format's depacketizer and parameter sets.
func newDepacketizer(dec depacketizer, prm *params) *Depacketizer {
	d := &Depacketizer{dec: dec, prm: prm}
	if d.qp = NewQPReader(prm.codec); d.qp != nil {
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
func (d *Depacketizer) Packet(pkt *rtp.Packet) (au unit.AccessUnit, ok bool) {
	nalus, err := d.dec.Decode(pkt)
	if err != nil {
		if !errors.Is(err, rtph264.ErrMorePacketsNeeded) && !errors.Is(err, rtph265.ErrMorePacketsNeeded) {
			d.Errors++
		}
		return unit.AccessUnit{}, false
	}
	if d.Refused != nil {
		return unit.AccessUnit{}, false
	}
	nalus = d.dropFiller(nalus)
	if len(nalus) == 0 {
		return unit.AccessUnit{}, false
	}
	if d.admit != nil {
		if err := d.admit.check(nalus); err != nil {
			d.Refused = err
			return unit.AccessUnit{}, false
		}
	}
	key := d.prm.isRandomAccess(nalus)
	if !d.gotKey && !key {
		return unit.AccessUnit{}, false
	}
	d.gotKey = true
	au = unit.AccessUnit{Data: d.prm.annexB(nalus, key), Key: key, QP: -1, NonRef: NonReference(d.prm.codec, nalus)}
	if !bytes.Equal(d.ruleSPS, d.prm.sps) {
		d.ruleSPS = append(d.ruleSPS[:0], d.prm.sps...)
		d.dropOK, d.dropTop = dropRule(d.prm.codec, d.prm.sps)
	}
	au.Droppable = droppable(d.prm.codec, d.dropOK, d.dropTop, nalus)
	if d.qp != nil {
		if qp, err := d.qp.QP(nalus); err == nil {
			au.QP = qp
			au.Fade = d.qp.Fade()
		}
	}
	return au, true
}

// dropFiller removes filler data NAL units (H.264 type 12, H.265 type 38)
// from an access unit that has anything else: padding carries no picture,
// and must neither reach the decoder nor count in the unit's size, which
// the activity signal reads. An access unit of filler alone is kept (a
// camera sending nothing else is still sending).
func (d *Depacketizer) dropFiller(nalus [][]byte) [][]byte {
	filler := func(n []byte) bool {
		if len(n) == 0 {
			return false
		}
		if d.prm.codec == H265 {
			return h265.NALUType((n[0]>>1)&0x3f) == h265.NALUType_FD_NUT
		}
		return h264.NALUType(n[0]&0x1f) == h264.NALUTypeFillerData
	}
	n := 0
	for _, x := range nalus {
		if !filler(x) {
			n++
		}
	}
	if n == len(nalus) || n == 0 {
		return nalus
	}
	out := make([][]byte, 0, n)
	for _, x := range nalus {
		if !filler(x) {
			out = append(out, x)
		}
	}
	return out
}
