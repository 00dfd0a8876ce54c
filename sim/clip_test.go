package sim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmbeddedClips(t *testing.T) {
	for _, name := range EmbeddedClipNames() {
		t.Run(name, func(t *testing.T) {
			c := mustClip(t, name)
			if len(c.AUs) != 250 {
				t.Fatalf("got %d access units, want 250", len(c.AUs))
			}
			if c.Width != 640 || c.Height != 360 {
				t.Errorf("size %dx%d, want 640x360", c.Width, c.Height)
			}
			if c.FPS != 25 || c.Duration() != ClipLength {
				t.Errorf("fps %v duration %v, want 25 and %v", c.FPS, c.Duration(), ClipLength)
			}
			if c.SPS == nil || c.PPS == nil || (c.Codec == H265) != (c.VPS != nil) {
				t.Errorf("parameter sets: vps %d sps %d pps %d bytes", len(c.VPS), len(c.SPS), len(c.PPS))
			}
			for i := range c.AUs {
				if want := i%50 == 0; c.IsKeyframe(i) != want {
					t.Errorf("AU %d keyframe=%v, want %v", i, c.IsKeyframe(i), want)
				}
			}
			if got := c.rtp.auStart[len(c.AUs)]; got != len(c.rtp.payloads) || got < len(c.AUs) {
				t.Errorf("packetized into %d payloads (index says %d)", len(c.rtp.payloads), got)
			}
			again, _ := EmbeddedClip(name)
			if again != c {
				t.Error("EmbeddedClip does not share the parsed clip")
			}
		})
	}
	if _, err := EmbeddedClip("nope"); err == nil {
		t.Error("unknown embedded clip: no error")
	}
}

func TestParseClipSplitsAccessUnits(t *testing.T) {
	src := mustClip(t, "motion")
	aud := []byte{0x09, 0xf0}
	withAUD := make([][][]byte, 10)
	for i, au := range src.AUs[:10] {
		withAUD[i] = append([][]byte{aud}, au...)
	}
	tests := []struct {
		name string
		aus  [][][]byte
		fps  float64
	}{
		{"slice boundaries", src.AUs[:30], 0},
		{"access unit delimiters", withAUD, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseClip("cut", H264, annexB(tt.aus), tt.fps)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.AUs) != len(tt.aus) {
				t.Fatalf("got %d AUs, want %d", len(c.AUs), len(tt.aus))
			}
			for i := range c.AUs {
				if !equalAU(c.AUs[i], tt.aus[i]) {
					t.Fatalf("AU %d differs from source", i)
				}
			}
			wantFPS := tt.fps
			if wantFPS == 0 {
				wantFPS = DefaultFPS
			}
			if c.FPS != wantFPS {
				t.Errorf("fps %v, want %v", c.FPS, wantFPS)
			}
		})
	}
}

func TestParseClipErrors(t *testing.T) {
	src := mustClip(t, "motion")
	noParams := annexB([][][]byte{{src.AUs[1][len(src.AUs[1])-1]}})
	tests := []struct {
		name  string
		codec Codec
		data  []byte
	}{
		{"empty", H264, nil},
		{"no start code", H264, []byte{0x67, 1, 2, 3}},
		{"no parameter sets", H264, noParams},
		{"no pictures", H264, annexB([][][]byte{{src.SPS, src.PPS}})},
		{"h264 data as h265", H265, annexB(src.AUs[:3])},
		{"unknown codec", Codec("vp8"), annexB(src.AUs[:3])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseClip("bad-"+tt.name, tt.codec, tt.data, 25)
			if !errors.Is(err, ErrInvalidClip) {
				t.Fatalf("err = %v, want ErrInvalidClip", err)
			}
			if want := `"bad-` + tt.name + `"`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name the clip", err)
			}
		})
	}
}

func TestLoadClip(t *testing.T) {
	dir := t.TempDir()
	h264Data, err := clipFS.ReadFile("clips/motion.h264")
	if err != nil {
		t.Fatal(err)
	}
	h265Data, err := clipFS.ReadFile("clips/motion.h265")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file    string
		data    []byte
		codec   Codec
		wantErr bool
	}{
		{"a.264", h264Data, H264, false},
		{"b.H264", h264Data, H264, false},
		{"c.hevc", h265Data, H265, false},
		{"d.265", h265Data, H265, false},
		{"e.mp4", []byte("not a video at all"), "", true}, // containers: see bench's TestContainerInputs
		{"f.h265", h264Data, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := LoadClip(p, 0)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Codec != tt.codec || len(c.AUs) != 250 || c.FPS != 25 {
				t.Errorf("got codec %s, %d AUs, %v fps", c.Codec, len(c.AUs), c.FPS)
			}
		})
	}
	if _, err := LoadClip(filepath.Join(dir, "missing.h264"), 25); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}
