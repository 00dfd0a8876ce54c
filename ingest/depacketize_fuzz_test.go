package ingest_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/pion/rtp"

	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/ingest"
)

// FuzzDepacketizeDecode drives the ingest depacketizer and the libavcodec
// decoder with arbitrary RTP payloads, as a camera's packets would arrive.
// Input: a codec byte, then packets as [marker byte][2-byte length][payload].
// Any input may be rejected; none may crash or hang.
func FuzzDepacketizeDecode(f *testing.F) {
	for _, s := range depacketizeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 1 {
			return
		}
		codec, dcodec := ingest.H264, decode.H264
		if b[0]&1 == 1 {
			codec, dcodec = ingest.H265, decode.H265
		}
		dp, err := ingest.NewDepacketizer(codec)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := decode.New(dcodec)
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		b = b[1:]
		seq := uint16(0)
		for len(b) >= 3 {
			marker := b[0]&1 == 1
			n := int(b[1])<<8 | int(b[2])
			b = b[3:]
			n = min(n, len(b))
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
				Timestamp: uint32(seq) * 3600, Marker: marker}, Payload: b[:n]}
			b = b[n:]
			seq++
			au, ok := dp.Packet(pkt)
			if !ok {
				continue
			}
			if _, err := dec.Decode(au.Data, int64(seq)); err != nil && !errors.Is(err, decode.ErrInvalidData) {
				t.Fatalf("decode error not marked as invalid data: %v", err)
			}
		}
	})
}

// depacketizeSeeds packetizes the first access units of the shipped clips:
// H.264 with single-NAL and FU-A packets, H.265 with single-NAL packets.
func depacketizeSeeds(f testing.TB) [][]byte {
	var seeds [][]byte
	for _, c := range []struct {
		file  string
		h265  bool
		nalus int
	}{{"../sim/clips/static.h264", false, 6}, {"../sim/clips/motion.h265", true, 5}} {
		raw, err := os.ReadFile(c.file)
		if err != nil {
			f.Fatal(err)
		}
		nalus := bytes.Split(raw, []byte{0, 0, 1})
		var in []byte
		if c.h265 {
			in = append(in, 1)
		} else {
			in = append(in, 0)
		}
		added := 0
		for _, n := range nalus {
			n = bytes.TrimRight(n, "\x00")
			if len(n) == 0 {
				continue
			}
			if added++; added > c.nalus {
				break
			}
			// The marker bit ends an access unit: set it on slices only.
			vcl := (!c.h265 && n[0]&0x1f >= 1 && n[0]&0x1f <= 5) || (c.h265 && (n[0]>>1)&0x3f < 32)
			if c.h265 || len(n) <= 1200 {
				in = appendPacket(in, vcl, n)
				continue
			}
			// H.264 FU-A fragments.
			ind, typ := n[0]&0xe0|28, n[0]&0x1f
			for off := 1; off < len(n); off += 1200 {
				end := min(off+1200, len(n))
				hdr := typ
				if off == 1 {
					hdr |= 0x80
				}
				if end == len(n) {
					hdr |= 0x40
				}
				in = appendPacket(in, vcl && end == len(n), append([]byte{ind, hdr}, n[off:end]...))
			}
		}
		seeds = append(seeds, in)
		if len(in) > 64 {
			seeds = append(seeds, in[:len(in)/2]) // truncated mid-unit
		}
	}
	return seeds
}

func appendPacket(b []byte, marker bool, payload []byte) []byte {
	m := byte(0)
	if marker {
		m = 1
	}
	return append(append(b, m, byte(len(payload)>>8), byte(len(payload))), payload...)
}

// TestDepacketizeSeedsDecode: the fuzz seeds are real streams that decode,
// so the fuzzer starts from deep inside the decoder.
func TestDepacketizeSeedsDecode(t *testing.T) {
	seeds := depacketizeSeeds(t)
	for i, s := range seeds[:1] {
		dp, _ := ingest.NewDepacketizer(ingest.H264)
		dec, err := decode.New(decode.H264)
		if err != nil {
			t.Fatal(err)
		}
		pictures := 0
		b := s[1:]
		for seq := uint16(0); len(b) >= 3; seq++ {
			n := min(int(b[1])<<8|int(b[2]), len(b)-3)
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Marker: b[0] == 1}, Payload: b[3 : 3+n]}
			b = b[3+n:]
			if au, ok := dp.Packet(pkt); ok {
				if got, err := dec.Decode(au.Data, int64(seq)); err == nil && got {
					pictures++
				}
			}
		}
		dec.Close()
		if pictures == 0 {
			t.Errorf("seed %d decodes to no picture", i)
		}
	}
}
