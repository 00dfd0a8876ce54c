package decode

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// clipSpec describes a test clip made by the ffmpeg CLI.
type clipSpec struct {
	codec   Codec
	size    string // e.g. "640x360"
	seconds int
	pixFmt  string // encoder input pixel format, e.g. "yuv420p"
	noise   bool   // add temporal noise, like a camera sensor
	preset  string // encoder preset; empty means the encoder default
	bframes int    // B-frames between references (0: none)
}

func (s clipSpec) ext() string {
	if s.codec == H265 {
		return "h265"
	}
	return "h264"
}

func (s clipSpec) name() string {
	n := fmt.Sprintf("%s_%s_%ds_%s", s.codec, s.size, s.seconds, s.pixFmt)
	if s.noise {
		n += "_noise"
	}
	if s.bframes > 0 {
		n += fmt.Sprintf("_bf%d", s.bframes)
	}
	return n
}

// encodeArgs returns ffmpeg arguments encoding the lavfi test source per
// spec into an Annex-B elementary stream with access unit delimiters,
// GOP 50, no B-frames, no scene-cut keyframes.
func (s clipSpec) encodeArgs(out string) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=25", s.size),
		"-t", fmt.Sprint(s.seconds)}
	if s.noise {
		args = append(args, "-vf", "noise=alls=12:allf=t+u")
	}
	args = append(args, "-pix_fmt", s.pixFmt, "-g", "50", "-bf", fmt.Sprint(s.bframes))
	if s.preset != "" {
		args = append(args, "-preset", s.preset)
	}
	switch s.codec {
	case H265:
		args = append(args, "-c:v", "libx265",
			"-x265-params", fmt.Sprintf("aud=1:bframes=%d:keyint=50:min-keyint=50:scenecut=0:open-gop=0:log-level=error", s.bframes),
			"-f", "hevc")
	default:
		args = append(args, "-c:v", "libx264", "-x264-params", "aud=1:scenecut=0:keyint=50:min-keyint=50",
			"-f", "h264")
	}
	return append(args, out)
}

// makeClip encodes spec into dir and returns the file path.
func makeClip(tb testing.TB, dir string, spec clipSpec) string {
	tb.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		tb.Skip("ffmpeg CLI not found")
	}
	out := filepath.Join(dir, spec.name()+"."+spec.ext())
	if _, err := os.Stat(out); err == nil {
		return out
	}
	cmd := exec.Command("ffmpeg", spec.encodeArgs(out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg %v: %v\n%s", cmd.Args, err, b)
	}
	return out
}

// readAUs reads an Annex-B clip with access unit delimiters and splits it
// into access units.
func readAUs(tb testing.TB, path string, codec Codec) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	aus := splitAUs(b, codec)
	if len(aus) == 0 {
		tb.Fatalf("%s: no access units", path)
	}
	return aus
}

// nalStarts returns the offsets of the start codes (including a leading
// zero byte of four-byte codes) and of the NAL headers that follow them.
func nalStarts(b []byte) (codes, headers []int) {
	for i := 0; i+3 <= len(b); {
		j := bytes.Index(b[i:], []byte{0, 0, 1})
		if j < 0 {
			break
		}
		at := i + j
		code := at
		if at > 0 && b[at-1] == 0 {
			code = at - 1
		}
		codes = append(codes, code)
		headers = append(headers, at+3)
		i = at + 3
	}
	return codes, headers
}

func nalType(b []byte, header int, codec Codec) int {
	if header >= len(b) {
		return -1
	}
	if codec == H265 {
		return int(b[header]>>1) & 0x3f
	}
	return int(b[header]) & 0x1f
}

func isAUD(typ int, codec Codec) bool {
	if codec == H265 {
		return typ == 35
	}
	return typ == 9
}

// splitAUs cuts an Annex-B stream at every access unit delimiter.
func splitAUs(b []byte, codec Codec) [][]byte {
	codes, headers := nalStarts(b)
	var aus [][]byte
	start := -1
	for i, h := range headers {
		if !isAUD(nalType(b, h, codec), codec) {
			continue
		}
		if start >= 0 {
			aus = append(aus, b[start:codes[i]])
		}
		start = codes[i]
	}
	if start >= 0 {
		aus = append(aus, b[start:])
	}
	return aus
}

// isKeyAU reports whether au holds an IDR (H.264) or IRAP (H.265) slice.
func isKeyAU(au []byte, codec Codec) bool {
	_, headers := nalStarts(au)
	for _, h := range headers {
		t := nalType(au, h, codec)
		if codec == H265 && t >= 16 && t <= 21 {
			return true
		}
		if codec == H264 && t == 5 {
			return true
		}
	}
	return false
}

// refGray decodes path with the ffmpeg CLI into raw 8-bit gray frames of
// w x h (ffmpeg's own -pix_fmt gray conversion).
func refGray(tb testing.TB, path string, w, h int) [][]byte {
	tb.Helper()
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path,
		"-s", fmt.Sprintf("%dx%d", w, h), "-pix_fmt", "gray", "-f", "rawvideo", "-")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("ffmpeg reference: %v\n%s", err, stderr.Bytes())
	}
	b := out.Bytes()
	n := w * h
	if len(b)%n != 0 {
		tb.Fatalf("reference: %d bytes is not a whole number of %dx%d frames", len(b), w, h)
	}
	frames := make([][]byte, 0, len(b)/n)
	for i := 0; i < len(b); i += n {
		frames = append(frames, b[i:i+n])
	}
	return frames
}

// mean returns the mean level of img.
func mean(img Image) float64 {
	var sum int
	for y := 0; y < img.Height; y++ {
		for _, v := range img.Pix[y*img.Stride : y*img.Stride+img.Width] {
			sum += int(v)
		}
	}
	return float64(sum) / float64(img.Width*img.Height)
}

// meanAbsDiff returns the mean absolute difference between img and a
// tightly packed reference frame of the same size.
func meanAbsDiff(img Image, ref []byte) float64 {
	var sum int
	for y := 0; y < img.Height; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+img.Width]
		for x, v := range row {
			d := int(v) - int(ref[y*img.Width+x])
			if d < 0 {
				d = -d
			}
			sum += d
		}
	}
	return float64(sum) / float64(img.Width*img.Height)
}

// newImage returns a tightly packed w x h image.
func newImage(w, h int) Image {
	return Image{Pix: make([]byte, w*h), Width: w, Height: h, Stride: w}
}
