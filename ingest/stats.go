package ingest

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Stats are a session's transport statistics, over its whole life unless
// said otherwise.
type Stats struct {
	// PacketsLost counts RTP packets missing from the sequence.
	PacketsLost uint64
	// Jitter is the RFC 3550 interarrival jitter of the current stream.
	Jitter time.Duration
	// Bitrate is the video payload rate over the last full second, in bits/s.
	Bitrate float64
	// KeyframeInterval is the time between the last two keyframes (by PTS).
	KeyframeInterval time.Duration
	// FrameRate is access units per second over the last full second.
	FrameRate float64
	// ClockOffset is the camera's sender-report clock minus the host's
	// clock at receipt, for the last access unit (0 before a report).
	ClockOffset time.Duration
	// Discontinuities counts RTP timestamp jumps of more than 10 s.
	Discontinuities uint64
	// ClockAhead counts access units whose RTP timestamp step ran more
	// than a second ahead of their arrival step (a camera clock running
	// fast): their presentation time follows arrival instead.
	ClockAhead uint64
	// DecodeErrors counts RTP and RTCP packets that could not be decoded,
	// and packets the depacketizer refused as broken.
	DecodeErrors uint64
	// SourceChanges counts the times the server switched the stream to a
	// new RTP source (SSRC) within a connection over TCP, followed as one
	// stream (pinConn): a restreamer whose camera reconnected, a camera
	// that changes source at each GOP.
	SourceChanges uint64
	// MemoryBytes is the decoder memory reserved for the current stream
	// (its estimate, see Shape.Bytes); 0 before one is admitted.
	MemoryBytes int64
}

// Stats returns the session's transport statistics. Safe for concurrent use.
func (s *Session) Stats() Stats {
	return Stats{
		PacketsLost:      s.packetsLost.Load(),
		Jitter:           time.Duration(s.jitterNano.Load()),
		Bitrate:          math.Float64frombits(s.bitrateBits.Load()),
		KeyframeInterval: time.Duration(s.keyIntervalNano.Load()),
		FrameRate:        math.Float64frombits(s.fpsBits.Load()),
		ClockOffset:      time.Duration(s.clockOffsetNano.Load()),
		Discontinuities:  s.discontinuities.Load(),
		DecodeErrors:     s.decodeErrors.Load(),
		SourceChanges:    s.sourceChanges.Load(),
		MemoryBytes:      s.memoryBytes.Load(),
		ClockAhead:       s.clamped.Load(),
	}
}

// streamStats measures one stream on its RTP reader goroutine (not safe
// for concurrent use) and publishes into the session's atomics.
type streamStats struct {
	clockRate float64
	jitterOut *atomic.Int64
	rateOut   *atomic.Uint64
	keyOut    *atomic.Int64
	fpsOut    *atomic.Uint64

	havePrev    bool
	prevArrival float64 // in RTP clock units
	prevTS      uint32
	jitter      float64 // in RTP clock units

	windowStart time.Time
	windowBytes int

	auWindowStart time.Time
	auWindowCount int

	haveKey bool
	lastKey time.Duration
}

// packet records one RTP packet's arrival.
func (st *streamStats) packet(pkt *rtp.Packet, now time.Time) {
	arrival := float64(now.UnixNano()) * st.clockRate / 1e9
	if st.havePrev && pkt.Timestamp != st.prevTS {
		// D(i-1,i) = (Rj - Ri) - (Sj - Si), RTP timestamps compared modulo 2^32.
		d := (arrival - st.prevArrival) - float64(int32(pkt.Timestamp-st.prevTS))
		st.jitter += (math.Abs(d) - st.jitter) / 16
		st.jitterOut.Store(int64(st.jitter / st.clockRate * 1e9))
	}
	if !st.havePrev || pkt.Timestamp != st.prevTS {
		// Only the first packet of a frame: the others share its timestamp
		// and would count the frame's own transmission time as jitter.
		st.prevArrival, st.prevTS, st.havePrev = arrival, pkt.Timestamp, true
	}
	if st.windowStart.IsZero() {
		st.windowStart = now
	}
	st.windowBytes += len(pkt.Payload)
	if el := now.Sub(st.windowStart); el >= time.Second {
		st.rateOut.Store(math.Float64bits(float64(st.windowBytes) * 8 / el.Seconds()))
		st.windowStart, st.windowBytes = now, 0
	}
}

// accessUnit records an access unit handed on at now.
func (st *streamStats) accessUnit(now time.Time) {
	if st.auWindowStart.IsZero() {
		st.auWindowStart = now
	}
	st.auWindowCount++
	if el := now.Sub(st.auWindowStart); el >= time.Second {
		st.fpsOut.Store(math.Float64bits(float64(st.auWindowCount) / el.Seconds()))
		st.auWindowStart, st.auWindowCount = now, 0
	}
}

// keyframe records a keyframe's presentation time.
func (st *streamStats) keyframe(pts time.Duration) {
	if st.haveKey && pts > st.lastKey {
		st.keyOut.Store(int64(pts - st.lastKey))
	}
	st.lastKey, st.haveKey = pts, true
}
