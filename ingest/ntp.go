package ingest

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// ntpUnixOffset is the number of seconds from the NTP epoch (1900) to the
// Unix epoch (1970).
const ntpUnixOffset = 2208988800

// ntpToTime converts a 64-bit RFC 3550 NTP timestamp (seconds since 1900 in
// the high 32 bits, fraction in units of 2^-32 s in the low 32 bits).
//
// gortsplib v4.16.2's Client.PacketNTP cannot be used instead: it reads the
// fraction as nanoseconds (bluenviron/gortsplib#869), which puts capture
// times up to 3.3 s in the future for standard cameras.
func ntpToTime(v uint64) time.Time {
	frac := ((v&0xFFFFFFFF)*uint64(time.Second) + 1<<31) >> 32 // rounded ns
	return time.Unix(int64(v>>32)-ntpUnixOffset, int64(frac))
}

// srClock maps RTP timestamps of one stream to capture times using the
// latest RTCP sender report. Its methods are safe for concurrent use (with
// UDP, RTP and RTCP arrive on different goroutines) and do not allocate.
type srClock struct {
	clockRate int64 // RTP ticks per second

	mu   sync.Mutex
	ok   bool // a sender report was seen
	ssrc uint32
	ntp  time.Time
	rtp  uint32
}

// senderReport records sr as the current RTP -> NTP mapping.
func (k *srClock) senderReport(sr *rtcp.SenderReport) {
	t := ntpToTime(sr.NTPTime)
	k.mu.Lock()
	k.ok, k.ssrc, k.ntp, k.rtp = true, sr.SSRC, t, sr.RTPTime
	k.mu.Unlock()
}

// forget drops the sender report: the stream's source changed (pinConn),
// and the old source's clock does not map the new one's timestamps.
func (k *srClock) forget() {
	k.mu.Lock()
	k.ok = false
	k.mu.Unlock()
}

// captureTime returns the capture time of RTP timestamp ts of a packet from
// ssrc; ok is false before the first sender report of that source.
func (k *srClock) captureTime(ssrc, ts uint32) (t time.Time, ok bool) {
	if k.clockRate <= 0 {
		return time.Time{}, false
	}
	k.mu.Lock()
	ok, base, ref := k.ok && k.ssrc == ssrc, k.ntp, k.rtp
	k.mu.Unlock()
	if !ok {
		return time.Time{}, false
	}
	// Signed difference: packets may precede the report they are mapped by.
	d := int64(int32(ts-ref)) * int64(time.Second) / k.clockRate
	return base.Add(time.Duration(d)), true
}

// Bounds of a camera clock that is believed: a sender-report clock further
// than maxClockSkew from the host's is not (a camera without NTP, a wrong
// time zone, drift), until it comes back within trustClockSkew.
const (
	maxClockSkew   = 2 * time.Second
	trustClockSkew = time.Second
)

// skewGuard decides whether a stream's sender-report clock is believed,
// with hysteresis so that a clock near the bound does not flap. Not safe
// for concurrent use: it runs on the stream's RTP reader.
type skewGuard struct {
	distrusted bool
}

// check compares a capture time with its access unit's receipt: ok is
// false while the camera clock is not believed (the caller falls back to
// the receipt time); changed reports a change of that verdict.
func (g *skewGuard) check(capture, received time.Time) (offset time.Duration, ok, changed bool) {
	offset = capture.Sub(received)
	abs := max(offset, -offset)
	switch {
	case !g.distrusted && abs > maxClockSkew:
		g.distrusted, changed = true, true
	case g.distrusted && abs < trustClockSkew:
		g.distrusted, changed = false, true
	}
	return offset, !g.distrusted, changed
}
