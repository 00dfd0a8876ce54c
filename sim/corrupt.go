package sim

import (
	"math/rand/v2"

	"github.com/pion/rtp"
)

// corrupter builds damaged copies of access units for SetCorruptRate. It is
// owned by one camera's pacer; the shared clip is never modified.
type corrupter struct {
	codec   Codec
	enc     auEncoder // created on first use
	scratch []byte
	au      [][]byte
}

// encode copies au, damages its slices (random bit flips, or the last slice
// cut in half) and packetizes the copy. Only the fault path allocates.
func (k *corrupter) encode(clip *Clip, au [][]byte, rng *rand.Rand) ([]*rtp.Packet, error) {
	if k.enc == nil {
		enc, err := clip.newEncoder()
		if err != nil {
			return nil, err
		}
		k.enc = enc
	}

	size := 0
	for _, n := range au {
		size += len(n)
	}
	if cap(k.scratch) < size {
		k.scratch = make([]byte, 0, size)
	}
	buf := k.scratch[:0]
	k.au = k.au[:0]
	for _, n := range au {
		start := len(buf)
		buf = append(buf, n...)
		k.au = append(k.au, buf[start:len(buf):len(buf)])
	}

	// Keep the NAL header and the first slice-header byte (which says where
	// the picture starts) so the damage reaches the decoder, not the splitter.
	keep := headerLen(k.codec) + 1
	truncate := rng.IntN(2) == 0
	last := -1
	for i, n := range k.au {
		if !isVCL(k.codec, n) || len(n) <= keep+1 {
			continue
		}
		last = i
		if truncate {
			continue
		}
		for range 1 + rng.IntN(8) {
			n[keep+rng.IntN(len(n)-keep)] ^= byte(1 + rng.IntN(255))
		}
	}
	if truncate && last >= 0 {
		n := k.au[last]
		k.au[last] = n[:keep+(len(n)-keep)/2]
	}
	return k.enc.Encode(k.au)
}

// blank packetizes an access unit of filler data only (no picture): what
// an encoder that lost its input, or a relay that strips slices, sends.
func (k *corrupter) blank(clip *Clip) ([]*rtp.Packet, error) {
	if k.enc == nil {
		enc, err := clip.newEncoder()
		if err != nil {
			return nil, err
		}
		k.enc = enc
	}
	filler := []byte{0x0c, 0xff, 0xff, 0x80} // H.264 filler data (type 12)
	if k.codec == H265 {
		filler = []byte{38 << 1, 0x01, 0xff, 0xff, 0x80} // H.265 FD_NUT
	}
	return k.enc.Encode([][]byte{filler})
}
