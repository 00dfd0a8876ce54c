package sim

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/ingest"
)

// Timeline of the embedded motion clips ("motion", "motion-h265"), relative
// to the clip start; see clips/gen.sh. The "static" clip has no motion.
const (
	// MotionStart is when the moving box starts entering the frame.
	MotionStart = 3 * time.Second
	// MotionEnd is when the box has fully left the frame; nothing moves
	// outside [MotionStart, MotionEnd).
	MotionEnd = 7 * time.Second
	// ClipLength is the duration of every embedded clip (250 frames at 25 fps).
	ClipLength = 10 * time.Second
)

// DefaultFPS is the frame rate used when a caller passes fps <= 0.
const DefaultFPS = 25

// Codec is the video codec of a clip.
type Codec string

// Supported codecs.
const (
	H264 Codec = "h264"
	H265 Codec = "h265"
)

// ErrInvalidClip is wrapped by every ParseClip / LoadClip error caused by the
// content of the stream (as opposed to I/O errors).
var ErrInvalidClip = errors.New("invalid clip")

// Clip is a parsed elementary stream, immutable after load and safe to share
// between any number of cameras and goroutines. Callers must not modify the
// exported slices.
type Clip struct {
	Name          string
	Codec         Codec
	FPS           float64
	Width, Height int    // from the SPS
	VPS, SPS, PPS []byte // first parameter sets found (VPS only for H.265)
	// AUs holds the NAL units (without start codes) of each access unit, in
	// decode order.
	AUs [][][]byte
	// Shown is each access unit's place in display order, less the
	// encoder's reorder delay (the most any picture is shown after its
	// place in decode order), when the clip has B-frames; nil when display
	// order is decode order. A camera stamps each picture with its capture
	// time: the RTP timestamps of a stream with B-frames are not in the
	// order the pictures are sent, and each is sent that delay after its
	// capture at least.
	Shown []int

	rtp rtpClip // pre-packetized payloads, see packetize.go
}

// Duration is the playing time of one loop of the clip.
func (c *Clip) Duration() time.Duration {
	return time.Duration(float64(len(c.AUs)) * float64(time.Second) / c.FPS)
}

// IsKeyframe reports whether access unit i is a random access point
// (ingest.RandomAccess: an IDR, an H.264 recovery point of intra slices, a
// CRA for H.265).
func (c *Clip) IsKeyframe(i int) bool {
	codec := ingest.H264
	if c.Codec == H265 {
		codec = ingest.H265
	}
	return ingest.RandomAccess(codec, c.AUs[i])
}

// LoadClip reads a clip from path: an Annex-B elementary stream (.h264,
// .264, .h265, .265, .hevc: the codec comes from the extension) or the
// first H.264/H.265 video stream of a container libavformat reads (.mp4,
// .mkv, .ts, .avi, .mov, ...: a camera or NVR export). fps <= 0 means the
// container's frame rate, or 25. The clip is named after the file name
// without extension.
func LoadClip(path string, fps float64) (*Clip, error) {
	ext := strings.ToLower(filepath.Ext(path))
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var codec Codec
	switch ext {
	case ".h264", ".264":
		codec = H264
	case ".h265", ".265", ".hevc":
		codec = H265
	default:
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("load clip: %w", err)
		}
		ct, err := decode.ReadContainer(path)
		if err != nil {
			return nil, fmt.Errorf("load clip: %w (raw streams need .h264, .264, .h265, .265 or .hevc): %w", err, ErrInvalidClip)
		}
		codec = H264
		if ct.Codec == decode.H265 {
			codec = H265
		}
		if !(fps > 0) {
			fps = ct.FPS
		}
		return ParseClip(name, codec, ct.AnnexB, fps)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load clip: %w", err)
	}
	return ParseClip(name, codec, data, fps)
}

// ParseClip splits an Annex-B elementary stream into access units, extracts
// the first parameter sets and the picture size, and pre-packetizes every
// access unit into RTP payloads. annexB is copied; fps <= 0 means 25.
// The stream must start with a start code and contain SPS and PPS (and VPS
// for H.265) before its first picture is useful to clients; errors name the
// clip and wrap ErrInvalidClip.
func ParseClip(name string, codec Codec, annexB []byte, fps float64) (*Clip, error) {
	if !(fps > 0) { // also NaN
		fps = DefaultFPS
	}
	if math.IsInf(fps, 0) {
		return nil, fmt.Errorf("parse clip %q: infinite fps: %w", name, ErrInvalidClip)
	}
	c := &Clip{Name: name, Codec: codec, FPS: fps}
	if err := c.parse(bytes.Clone(annexB)); err != nil {
		return nil, fmt.Errorf("parse clip %q: %w", name, err)
	}
	if err := c.packetize(); err != nil {
		return nil, fmt.Errorf("packetize clip %q: %w", name, err)
	}
	if err := c.displayOrder(); err != nil {
		return nil, fmt.Errorf("display order of clip %q: %w", name, err)
	}
	return c, nil
}

// displayOrder sets Shown by decoding the clip, when it has pictures no
// other refers to (B-frames have: a stream without them is shown in the
// order it is decoded, or decodes them all as references, which x264 and
// x265 do not). The places are those of the pictures in the order the
// decoder gives them. The start of the clip is decoded again after it, so
// that the pictures the decoder holds back at the end come out one by one
// (drained, it releases them at once). The leading pictures of the clip's
// first keyframe (an open GOP's, shown before it but referring to the GOP
// before, which the clip does not have) never come out: they take the
// places just before their keyframe's.
func (c *Clip) displayOrder() error {
	codec := ingest.H264
	if c.Codec == H265 {
		codec = ingest.H265
	}
	if !slices.ContainsFunc(c.AUs, func(au [][]byte) bool { return ingest.NonReference(codec, au) }) {
		return nil
	}
	dc := decode.H264
	if c.Codec == H265 {
		dc = decode.H265
	}
	d, err := decode.New(dc)
	if err != nil {
		return err
	}
	defer d.Close()
	n := len(c.AUs)
	shown := make([]int, n)
	got := make([]bool, n)
	next := 0 // the next place
	reordered := false
	var buf []byte
	for k := range n + min(n, 64) {
		buf = buf[:0]
		for _, nalu := range c.AUs[k%n] {
			buf = append(buf, 0, 0, 0, 1)
			buf = append(buf, nalu...)
		}
		ok, err := d.Decode(buf, int64(k))
		if err != nil || !ok {
			continue
		}
		if j := int(d.PicturePTS()); j >= 0 && j < n && !got[j] {
			shown[j], got[j] = next, true
			reordered = reordered || j != next
			next++
		}
	}
	if !reordered {
		return nil
	}
	// A unit whose picture never came out: a leading picture takes a place
	// just before its keyframe's; any other, the place of the unit before
	// it. That is a broken unit, or one of several pictures the decoder
	// gave at once, of which it reports the last (x265 with open GOPs, at
	// the clip's end, when the clip's first keyframe comes after it): a
	// few pictures a loop share a timestamp with their neighbour.
	for i := 0; i < n; i++ {
		if got[i] {
			continue
		}
		run := i
		for run < n && !got[run] {
			run++
		}
		base := 0
		if i > 0 {
			base = shown[i-1]
		}
		for m := i; m < run; m++ {
			if i > 0 && c.IsKeyframe(i-1) {
				shown[m] = base - (run - m)
			} else {
				shown[m] = base
			}
		}
		i = run
	}
	delay := 0
	for i, j := range shown {
		delay = max(delay, j-i)
	}
	for i := range shown {
		shown[i] -= delay
	}
	c.Shown = shown
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidClip)
}

func (c *Clip) parse(buf []byte) error {
	var kind naluKind
	switch c.Codec {
	case H264:
		kind = h264Kind
	case H265:
		kind = h265Kind
	default:
		return invalid("unsupported codec %q", c.Codec)
	}

	nalus, err := splitAnnexB(buf)
	if err != nil {
		return err
	}

	var cur [][]byte
	curHasVCL := false
	for _, n := range nalus {
		if len(n) < kind.headerLen {
			continue // empty / truncated NAL unit, nothing to serve
		}
		class := kind.classify(n)
		if curHasVCL && (class == classAUD || class == classPrefix ||
			(class == classVCL && kind.firstSliceInPic(n))) {
			c.AUs = append(c.AUs, cur)
			cur, curHasVCL = nil, false
		}
		switch class {
		case classVPS:
			if c.VPS == nil {
				c.VPS = n
			}
		case classSPS:
			if c.SPS == nil {
				c.SPS = n
			}
		case classPPS:
			if c.PPS == nil {
				c.PPS = n
			}
		case classVCL:
			curHasVCL = true
		}
		cur = append(cur, n)
	}
	if curHasVCL {
		c.AUs = append(c.AUs, cur)
	}

	if len(c.AUs) == 0 {
		return invalid("no picture found")
	}
	if c.SPS == nil || c.PPS == nil || (c.Codec == H265 && c.VPS == nil) {
		return invalid("missing parameter sets")
	}
	switch c.Codec {
	case H264:
		var sps h264.SPS
		if err := sps.Unmarshal(c.SPS); err != nil {
			return invalid("bad SPS: %v", err)
		}
		c.Width, c.Height = sps.Width(), sps.Height()
	case H265:
		var sps h265.SPS
		if err := sps.Unmarshal(c.SPS); err != nil {
			return invalid("bad SPS: %v", err)
		}
		c.Width, c.Height = sps.Width(), sps.Height()
	}
	return nil
}

// splitAnnexB returns the NAL units of buf (without start codes), which must
// begin with a 3- or 4-byte start code. The units alias buf.
func splitAnnexB(buf []byte) ([][]byte, error) {
	startLen := func(i int) int {
		if i+3 <= len(buf) && buf[i] == 0 && buf[i+1] == 0 && buf[i+2] == 1 {
			return 3
		}
		if i+4 <= len(buf) && buf[i] == 0 && buf[i+1] == 0 && buf[i+2] == 0 && buf[i+3] == 1 {
			return 4
		}
		return 0
	}
	if len(buf) == 0 {
		return nil, invalid("empty stream")
	}
	n := startLen(0)
	if n == 0 {
		return nil, invalid("stream does not start with an Annex-B start code")
	}
	var nalus [][]byte
	start := n
	for i := n; i+3 <= len(buf); {
		if buf[i+2] > 1 { // fast skip: no start code can begin at i, i+1 or i+2 ending here
			i += 3
			continue
		}
		if l := startLen(i); l != 0 {
			nalus = append(nalus, trimTrailingZeros(buf[start:i]))
			i += l
			start = i
			continue
		}
		i++
	}
	nalus = append(nalus, buf[start:])
	return nalus, nil
}

// trimTrailingZeros drops trailing_zero_8bits that precede a start code.
func trimTrailingZeros(n []byte) []byte {
	for len(n) > 0 && n[len(n)-1] == 0 {
		n = n[:len(n)-1]
	}
	return n
}
