// Package unit holds the access unit: one compressed picture as ingest
// hands it on to the gate, the per-camera queue and the decoder. It is a
// leaf (no dependencies), so that the packages that decide on access units
// (gate) link no RTSP client or codec library.
package unit

import "time"

// AccessUnit is one compressed picture.
type AccessUnit struct {
	// Data is the access unit in Annex-B form (start codes). Keyframes carry
	// the parameter sets in front. Ownership passes to the consumer.
	Data []byte
	// Key is true for a random-access picture (H.264 IDR, H.265 IRAP).
	Key bool
	// PTS is the presentation time on the stream's RTP clock, from its start.
	PTS time.Duration
	// CaptureTime is the camera's capture time from RTCP sender reports,
	// zero until the first report arrives.
	CaptureTime time.Time
	// Received is when the access unit's last packet arrived.
	Received time.Time
	// ClockAhead is true while the stream's RTP clock runs fast: most of
	// its last 8 timestamp steps ran more than a second ahead of their
	// arrival, and PTS follows arrival.
	ClockAhead bool
	// QP is the first slice's quantizer read from its header (H.264 or
	// H.265), or -1 when unknown (a header the parser does not follow).
	QP int
	// NonRef is true for a picture no other picture refers to (H.264
	// nal_ref_idc 0, H.265 sub-layer non-reference types): B-frames, most
	// often, a fraction of a P-frame's size.
	NonRef bool
	// Droppable is true for a picture no picture can refer to, whatever
	// follows (ingest.Droppable): NonRef, and for H.265 of the stream's
	// highest sub-layer. The worker leaves it undecoded when the analysis
	// would not take it.
	Droppable bool
	// Fade is true when the slice header's explicit luma weight shows the
	// whole picture's brightness changing (ingest.QPReader.Fade): a lens covered,
	// lights off, an IR switch, which an encoder with weighted prediction
	// codes in a few bytes.
	Fade bool
}
