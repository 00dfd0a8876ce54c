package ingest

import (
	"bytes"
	"encoding/binary"
	"net"
	"strconv"
	"sync/atomic"
)

// A server may change a stream's RTP source (its SSRC) in the middle of a
// session: go2rtc when the camera or ffmpeg behind it reconnects (seen
// here), some cameras at every GOP (gortsplib issue 687, Uniview).
// gortsplib's client keeps the first SSRC it sees and drops every packet
// of another as undecodable, so the camera fell silent until the stall
// timeout reconnected it: 5 s blind at each change, for ever on a camera
// that changes at every GOP. FFmpeg and VLC follow the new source.
//
// pinConn does the same over RTSP on TCP: it sits between the socket and
// gortsplib and reads the framing as gortsplib does (RTSP messages with
// their bodies, '$'-interleaved frames, stray bytes skipped). Each format
// (an RTP channel and payload type) keeps the first SSRC it showed: an RTP
// packet from a source the format has not seen is a switch, counted in
// changes, and from then on that source's packets carry the first SSRC,
// their sequence numbers shifted to follow the last one passed on after a
// gap of one (gortsplib counts one packet lost, and its depacketizer drops
// a picture cut by the switch rather than joining two). Sender reports of
// the current source carry the first SSRC too; those of a source left
// behind, and its late RTP packets, carry another (its complement), which
// gortsplib drops and no clock maps: the old source's timestamps are not
// the new one's. The session forgets the old source's sender report at
// the first RTP packet of the new one (switched), in stream order, and
// the timeline takes the new timestamps as a discontinuity. Anything it
// cannot parse turns it into a plain pass-through for the rest of the
// connection. Over UDP, gortsplib owns the sockets (it needs a
// *net.UDPConn), and over RTSPS it encrypts above the socket: neither is
// pinned.
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

	// pins[:npins] are the formats followed. Read (gortsplib's reader)
	// alone writes them; a pin's ssrc is set before npins counts it, and
	// its gen and from are atomics, which switched reads from the RTP
	// callback without a lock.
	pins  [maxPins]pin
	npins atomic.Int32
}

// pin is one format's source.
type pin struct {
	ch, pt byte
	ssrc   uint32    // the first SSRC: what gortsplib sees
	cur    uint32    // the current source's SSRC
	off    uint16    // added to the current source's sequence numbers
	seq    uint16    // the last sequence number passed on
	gone   [4]uint32 // sources left behind, the last ones
	nGone  int
	// gen counts the switches, and from is the first sequence number
	// passed on from the current source (stored before gen).
	gen  atomic.Uint64
	from atomic.Uint32
}

// lateWindow is how many packets of the new source a packet of the old
// one may come after and still be taken as late rather than its return.
const lateWindow = 64

// maxPins bounds the formats followed on one connection (a camera has one
// or two); packets of more pass unchanged.
const maxPins = 16

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
			p.rtcp(rest[4 : 4+size])
			p.ready += 4 + size
		case len(rest) < 2:
			return
		case !messageStart(rest):
			p.ready++ // a stray byte: gortsplib skips it too
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

// messageStart reports whether b starts an RTSP message as gortsplib
// reads them (pkg/conn: a response, or a request it knows).
func messageStart(b []byte) bool {
	switch string(b[:2]) {
	case "RT", "AN", "DE", "GE", "OP", "PA", "PL", "RE", "SE", "TE":
		return true
	}
	return false
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

// rtcp rewrites the sender reports of a compound RTCP packet b.
func (p *pinConn) rtcp(b []byte) {
	if !isRTCP(b) {
		return // neither RTP nor RTCP version 2: gortsplib judges it
	}
	for len(b) >= 8 {
		size := 4 * (1 + int(binary.BigEndian.Uint16(b[2:4])))
		if size > len(b) {
			return
		}
		if b[1] == 200 {
			ssrc := binary.BigEndian.Uint32(b[4:8])
			for i := range int(p.npins.Load()) {
				pn := &p.pins[i]
				if ssrc == pn.cur {
					binary.BigEndian.PutUint32(b[4:8], pn.ssrc)
					break
				}
				if pn.left(ssrc) {
					binary.BigEndian.PutUint32(b[4:8], ^pn.ssrc)
					break
				}
			}
		}
		b = b[size:]
	}
}

// rtp rewrites the header h (12 bytes) of an RTP packet on channel ch.
func (p *pinConn) rtp(ch byte, h []byte) {
	if h[0]>>6 != 2 {
		return // not RTP version 2: gortsplib judges it
	}
	pt := h[1] & 0x7f
	ssrc := binary.BigEndian.Uint32(h[8:12])
	seq := binary.BigEndian.Uint16(h[2:4])
	var pn *pin
	n := int(p.npins.Load())
	for i := range n {
		if p.pins[i].ch == ch && p.pins[i].pt == pt {
			pn = &p.pins[i]
			break
		}
	}
	switch {
	case pn == nil:
		if n < maxPins {
			pn := &p.pins[n]
			pn.ch, pn.pt, pn.ssrc, pn.cur, pn.seq = ch, pt, ssrc, ssrc, seq
			p.npins.Store(int32(n + 1))
		}
		return
	case ssrc == pn.cur:
	case pn.left(ssrc) && pn.seq-uint16(pn.from.Load()) < lateWindow:
		// A late packet of a source just left behind: gortsplib drops
		// it. Later, that source coming back is a switch.
		binary.BigEndian.PutUint32(h[8:12], ^pn.ssrc)
		return
	default:
		pn.gone[pn.nGone%len(pn.gone)] = pn.cur
		pn.nGone++
		pn.cur, pn.off = ssrc, pn.seq+2-seq
		pn.from.Store(uint32(seq + pn.off))
		pn.gen.Add(1)
		p.changes.Add(1)
	}
	pn.seq = seq + pn.off
	binary.BigEndian.PutUint16(h[2:4], pn.seq)
	binary.BigEndian.PutUint32(h[8:12], pn.ssrc)
}

// left reports whether ssrc is a source the format left behind.
func (pn *pin) left(ssrc uint32) bool {
	for _, g := range pn.gone[:min(pn.nGone, len(pn.gone))] {
		if g == ssrc && g != pn.cur {
			return true
		}
	}
	return false
}

// switched reports the switches of the format whose first SSRC is ssrc,
// and the first sequence number passed on from its current source.
func (p *pinConn) switched(ssrc uint32) (gen uint64, from uint16) {
	for i := range int(p.npins.Load()) {
		if pn := &p.pins[i]; pn.ssrc == ssrc {
			gen = pn.gen.Load()
			return gen, uint16(pn.from.Load())
		}
	}
	return 0, 0
}
