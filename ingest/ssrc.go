package ingest

import (
	"bytes"
	"encoding/binary"
	"net"
	"strconv"
	"sync/atomic"
)

// A server may change a stream's RTP source (its SSRC) in the middle of a
// session: go2rtc when the camera or ffmpeg behind it reconnects, MediaMTX
// likewise, some cameras at every GOP (gortsplib issue 687, Uniview).
// gortsplib's client keeps the first SSRC it sees and drops every packet
// of another as undecodable, so the camera fell silent until the stall
// timeout reconnected it: 5 s blind at each change, for ever on a camera
// that changes at every GOP. FFmpeg and VLC follow the new source.
//
// pinConn does the same over RTSP on TCP: it sits between the socket and
// gortsplib, reads the interleaved frames, and writes each media's first
// SSRC into its later RTP packets and sender reports, and shifts a new
// source's sequence numbers to follow the old one's, so that gortsplib
// sees one source. changes counts the switches to a new SSRC; the session
// then forgets the old source's sender report (its clock maps another
// source's timestamps), and the timeline takes the new timestamps as a
// discontinuity. Anything it cannot parse (a framing it does not know)
// turns it into a plain pass-through for the rest of the connection.
// Over UDP, gortsplib owns the sockets (it needs a *net.UDPConn), and
// over RTSPS it encrypts above the socket: neither is pinned.
type pinConn struct {
	net.Conn
	changes *atomic.Uint64

	buf         []byte // read from the socket: buf[off:ready] ready, buf[ready:] not yet parsed
	off         int
	ready       int
	err         error // the socket's, returned once buf[off:] is out
	bodyLeft    int   // bytes of an RTSP message's body still to pass
	payloadLeft int   // bytes of an RTP packet's payload still to pass
	passAll     bool  // the framing was not understood: pass everything on
	pins        [128]pin
}

// pin is one media's source (interleaved channels 2k and 2k+1).
type pin struct {
	have       bool
	ssrc, last uint32 // the first SSRC, and the last one seen
	// The new source's sequence numbers are shifted by seqOff to follow
	// the last one passed on (seq), so that gortsplib counts no loss for
	// the switch (it counted the 16-bit gap, 40,000 packets a switch).
	// reseq: the source changed (by an RTP packet or a sender report),
	// and the next RTP packet sets seqOff.
	seqOff, seq    uint16
	haveSeq, reseq bool
}

const (
	// pinBufSize is the buffer a connection starts with: RTP payloads
	// stream through it; only RTCP frames and RTSP headers are held whole
	// (grown up to maxHeld for them).
	pinBufSize = 16 << 10
	// maxHeaderBytes bounds an RTSP message's start line and headers; a
	// longer one is not RTSP as gortsplib reads it either.
	maxHeaderBytes = 64 << 10
	maxHeld        = 4 + 65535 + maxHeaderBytes
)

func newPinConn(c net.Conn, changes *atomic.Uint64) *pinConn {
	return &pinConn{Conn: c, changes: changes, buf: make([]byte, 0, pinBufSize)}
}

// Read returns what the socket sent, the SSRCs rewritten.
func (p *pinConn) Read(b []byte) (int, error) {
	for {
		if p.off < p.ready {
			n := copy(b, p.buf[p.off:p.ready])
			p.off += n
			return n, nil
		}
		if p.err != nil {
			if len(p.buf) > p.ready {
				// A frame cut by the connection's end: hand its bytes on
				// as they are.
				p.ready = len(p.buf)
				continue
			}
			return 0, p.err
		}
		// Compact, then read more.
		if p.off > 0 {
			n := copy(p.buf, p.buf[p.off:])
			p.buf, p.ready, p.off = p.buf[:n], p.ready-p.off, 0
		}
		if len(p.buf) == cap(p.buf) {
			// A whole RTCP frame or RTSP header block held: room for it.
			if cap(p.buf) >= maxHeld {
				p.passAll = true // cannot happen; never stall on it
				p.parse()
				continue
			}
			p.buf = append(make([]byte, 0, min(2*cap(p.buf), maxHeld)), p.buf...)
		}
		n, err := p.Conn.Read(p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+n]
		if err != nil {
			p.err = err
		}
		p.parse()
	}
}

// parse advances ready over what buf[ready:] holds of whole frames and
// messages, rewriting interleaved RTP headers and RTCP in place: an RTP
// packet's first 12 bytes, an RTCP frame and an RTSP message's headers
// are passed on whole, payloads and bodies as they come.
func (p *pinConn) parse() {
	for p.ready < len(p.buf) {
		rest := p.buf[p.ready:]
		switch {
		case p.passAll:
			p.ready = len(p.buf)
		case p.bodyLeft > 0:
			n := min(p.bodyLeft, len(rest))
			p.bodyLeft -= n
			p.ready += n
		case p.payloadLeft > 0:
			n := min(p.payloadLeft, len(rest))
			p.payloadLeft -= n
			p.ready += n
		case rest[0] == '$':
			if len(rest) < 4 {
				return
			}
			size := int(binary.BigEndian.Uint16(rest[2:4]))
			if len(rest) < 4+min(size, 12) {
				return
			}
			if size >= 12 && !isRTCP(rest[4:]) {
				p.rtp(rest[1], rest[4:16])
				p.ready += 16
				p.payloadLeft = size - 12
				continue
			}
			if len(rest) < 4+size {
				return
			}
			p.rtcp(rest[1], rest[4:4+size])
			p.ready += 4 + size
		default:
			end := bytes.Index(rest, []byte("\r\n\r\n"))
			if end < 0 {
				if len(rest) > maxHeaderBytes {
					p.passAll = true
					continue
				}
				return
			}
			body, ok := contentLength(rest[:end])
			if !ok {
				p.passAll = true
				continue
			}
			p.ready += end + 4
			p.bodyLeft = body
		}
	}
}

// isRTCP reports whether an interleaved payload is RTCP (version 2 and
// a packet type 192-223: RFC 5761's rule, payload types 64-95 with the
// marker bit being RTCP's).
func isRTCP(b []byte) bool { return len(b) >= 2 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223 }

// contentLength reads the Content-Length of an RTSP message's headers
// (0 when absent); ok is false when it is not a number.
func contentLength(head []byte) (int, bool) {
	for line := range bytes.SplitSeq(head, []byte("\r\n")) {
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
		if err != nil || n < 0 {
			return 0, false
		}
		return n, true
	}
	return 0, true
}

// rtcp rewrites the sender reports of a compound RTCP packet b on
// channel ch.
func (p *pinConn) rtcp(ch byte, b []byte) {
	if !isRTCP(b) {
		return // neither RTP nor RTCP version 2: gortsplib judges it
	}
	pn := &p.pins[ch/2]
	for len(b) >= 8 {
		size := 4 * (1 + int(binary.BigEndian.Uint16(b[2:4])))
		if size > len(b) {
			return
		}
		if b[1] == 200 {
			p.source(pn, b[4:8])
		}
		b = b[size:]
	}
}

// rtp rewrites the header h (12 bytes) of an RTP packet on channel ch.
func (p *pinConn) rtp(ch byte, h []byte) {
	if h[0]>>6 != 2 {
		return // not RTP version 2: gortsplib judges it
	}
	pn := &p.pins[ch/2]
	p.source(pn, h[8:12])
	seq := binary.BigEndian.Uint16(h[2:4])
	if pn.reseq && pn.haveSeq {
		pn.seqOff = pn.seq + 1 - seq
	}
	pn.reseq = false
	pn.seq, pn.haveSeq = seq+pn.seqOff, true
	binary.BigEndian.PutUint16(h[2:4], pn.seq)
}

// source pins or rewrites the SSRC at b.
func (p *pinConn) source(pn *pin, b []byte) {
	ssrc := binary.BigEndian.Uint32(b)
	switch {
	case !pn.have:
		pn.have, pn.ssrc, pn.last = true, ssrc, ssrc
		return
	case ssrc != pn.last:
		pn.last, pn.reseq = ssrc, true
		p.changes.Add(1)
	}
	binary.BigEndian.PutUint32(b, pn.ssrc)
}
