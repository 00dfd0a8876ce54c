package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
)

// rtpFrame is an interleaved RTP packet on channel ch with a payload of n
// bytes.
func rtpFrame(ch byte, ssrc uint32, seq uint16, n int) []byte {
	return rtpFramePT(ch, 96, ssrc, seq, n)
}

func rtpFramePT(ch, pt byte, ssrc uint32, seq uint16, n int) []byte {
	pkt := make([]byte, 12+n)
	pkt[0], pkt[1] = 0x80, pt
	binary.BigEndian.PutUint16(pkt[2:], seq)
	binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*3600)
	binary.BigEndian.PutUint32(pkt[8:], ssrc)
	for i := range n {
		pkt[12+i] = byte(i) // '$' and "\r\n" among them
	}
	return interleaved(ch, pkt)
}

// srFrame is an interleaved compound RTCP packet: a sender report from
// ssrc, then an SDES chunk naming it.
func srFrame(ch byte, ssrc uint32) []byte {
	sr := make([]byte, 28)
	sr[0], sr[1] = 0x80, 200
	binary.BigEndian.PutUint16(sr[2:], 6)
	binary.BigEndian.PutUint32(sr[4:], ssrc)
	sdes := make([]byte, 12)
	sdes[0], sdes[1] = 0x81, 202
	binary.BigEndian.PutUint16(sdes[2:], 2)
	binary.BigEndian.PutUint32(sdes[4:], ssrc)
	return interleaved(ch, append(sr, sdes...))
}

func interleaved(ch byte, payload []byte) []byte {
	return append([]byte{'$', ch, byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

// pinThrough writes in through a real connection in random chunks and
// reads it back through a pinConn with random buffer sizes.
func pinThrough(t *testing.T, rng *rand.Rand, in []byte) ([]byte, uint64) {
	t.Helper()
	a, b := net.Pipe()
	wrng := rand.New(rand.NewPCG(rng.Uint64(), 11)) // the writer's own
	go func() {
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 1+wrng.IntN(3000))
			if _, err := a.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
		a.Close()
	}()
	var changes atomic.Uint64
	p := newPinConn(b, &changes)
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := p.Read(buf[:1+rng.IntN(len(buf))])
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, changes.Load()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestPinConnFollowsNewSources: a server switches its stream to new
// sources twice within one connection (SSRC, sequence numbers and
// timestamps new), between RTSP answers with and without bodies and stray
// line ends. What gortsplib reads is one source: the first SSRC in every
// RTP packet and sender report of the current source, sequence numbers
// following on with a gap of one at each switch (and across the third
// source's wrap); a late packet and a sender report of a source left
// behind carry another SSRC (gortsplib drops them, no clock maps them); a
// second format on the channel (payload type 97, its own SSRC) passes
// untouched; everything else byte for byte.
func TestPinConnFollowsNewSources(t *testing.T) {
	sdp := "v=0\r\nm=video 0 RTP/AVP 96\r\na=control:trackID=0\r\n\r\n$\x00\x00\x10 not a frame\r\n\r\n"
	var in, want bytes.Buffer
	both := func(b []byte) { in.Write(b); want.Write(b) }
	both([]byte("RTSP/1.0 200 OK\r\nCSeq: 2\r\ncontent-length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp))
	both([]byte("RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 12345678\r\n\r\n\r\n"))
	const first = 0x11111111
	seq := uint16(100)
	rewritten := func(f []byte, ssrc uint32, seq uint16) []byte {
		f = slices.Clone(f)
		binary.BigEndian.PutUint16(f[6:], seq)
		binary.BigEndian.PutUint32(f[12:], ssrc)
		return f
	}
	source := func(ssrc uint32, from uint16, n int, afterFirst func()) {
		for i := range n {
			size := 1000 + 300*i // some larger than the reads
			f := rtpFrame(0, ssrc, from+uint16(i), size)
			in.Write(f)
			want.Write(rewritten(f, first, seq))
			seq++
			if i == 2 {
				in.Write(srFrame(1, ssrc))
				f := srFrame(1, ssrc)
				binary.BigEndian.PutUint32(f[8:], first) // the SR's sender, not the SDES chunk
				want.Write(f)
				both(rtpFramePT(0, 97, 0x77777777, uint16(i), 40)) // another format: untouched
			}
			if i == 0 && afterFirst != nil {
				afterFirst()
			}
		}
		seq++ // the gap of one at the next switch
	}
	source(first, 100, 5, nil)
	both([]byte("RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n")) // a keepalive's answer
	source(0x22222222, 5000, 5, nil)
	// A late packet and a sender report of the source left behind, after
	// the third source's first packet.
	source(0x33333333, 65534, 5, func() {
		late := rtpFrame(0, 0x22222222, 5005, 100)
		in.Write(late)
		want.Write(rewritten(late, ^uint32(first), 5005))
		in.Write(srFrame(1, 0x22222222))
		f := srFrame(1, 0x22222222)
		binary.BigEndian.PutUint32(f[8:], ^uint32(first))
		want.Write(f)
	})
	for i := range 20 {
		out, changes := pinThrough(t, rand.New(rand.NewPCG(uint64(i), 7)), in.Bytes())
		if !bytes.Equal(out, want.Bytes()) {
			at := 0
			for at < min(len(out), want.Len()) && out[at] == want.Bytes()[at] {
				at++
			}
			t.Fatalf("run %d: %d bytes out, want %d; first difference at byte %d", i, len(out), want.Len(), at)
		}
		if changes != 2 {
			t.Fatalf("run %d: %d source changes counted, want 2", i, changes)
		}
	}
}

// TestPinConnPassesWhatItCannotParse: an RTSP header block that does not
// end within its bound, and what follows it, are handed on unchanged, and
// so is a frame cut by the connection's end.
func TestPinConnPassesWhatItCannotParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	junk := append([]byte("RTSP/1.0 200 OK\r\nX: "), bytes.Repeat([]byte("x"), maxHeaderBytes+10)...)
	junk = append(junk, rtpFrame(0, 1, 1, 50)...)
	junk = append(junk, rtpFrame(0, 2, 9, 50)...) // after the junk: not rewritten
	if out, changes := pinThrough(t, rng, junk); !bytes.Equal(out, junk) || changes != 0 {
		t.Errorf("junk: %d bytes out of %d, equal %v, %d changes", len(out), len(junk), bytes.Equal(out, junk), changes)
	}
	cut := rtpFrame(0, 1, 1, 500)[:300]
	if out, _ := pinThrough(t, rng, cut); !bytes.Equal(out, cut) {
		t.Errorf("a frame cut by the end: %d bytes out of %d", len(out), len(cut))
	}
	bad := []byte("RTSP/1.0 200 OK\r\nContent-Length: many\r\n\r\n$\x00\x00\x0c" + string(make([]byte, 12)))
	if out, _ := pinThrough(t, rng, bad); !bytes.Equal(out, bad) {
		t.Errorf("an unreadable Content-Length: %q out", out)
	}
}

// FuzzPinConn: whatever a server sends, in whatever pieces, pinConn
// hands on as many bytes as it read, and changes only RTP headers'
// sequence numbers and SSRCs and sender reports' SSRCs.
func FuzzPinConn(f *testing.F) {
	f.Add(append(rtpFrame(0, 5, 1, 20), rtpFrame(0, 6, 7, 20)...), uint64(1))
	f.Add(append([]byte("RTSP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"), srFrame(1, 9)...), uint64(2))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		out, _ := pinThrough(t, rand.New(rand.NewPCG(seed, 3)), in)
		if len(out) != len(in) {
			t.Fatalf("%d bytes out of %d", len(out), len(in))
		}
	})
}
