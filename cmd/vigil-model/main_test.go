package main

import (
	"bytes"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/nn"
)

// TestConvert converts the TF.js model scripts/models.sh fetched: the
// command writes the same model, byte for byte, as the one beside it.
func TestConvert(t *testing.T) {
	dir := os.Getenv("VIGIL_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "models")
	}
	in, want := filepath.Join(dir, "nanodet.json"), filepath.Join(dir, "nanodet.onnx")
	for _, p := range []string{in, want} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("VIGIL_REQUIRE_MODELS") != "" {
				t.Fatalf("%v (VIGIL_REQUIRE_MODELS is set; make it with %s)", err, nn.SetupCommand)
			}
			t.Skipf("no %s: make it with %s", p, nn.SetupCommand)
		}
	}
	out := filepath.Join(t.TempDir(), "nanodet.onnx")
	var errOut bytes.Buffer
	if code := run([]string{"convert", "--in", in, "--out", out}, io.Discard, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, w) {
		t.Errorf("wrote %d bytes that differ from %s (%d bytes)", len(got), want, len(w))
	}
}

// TestCommandLine: a wrong command line exits 2 with the usage on stderr,
// a failed conversion 1 with an error naming the file; -h and --help exit
// 0 with the usage on stdout.
func TestCommandLine(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{nil, 2, "usage: vigil-model"},
		{[]string{"model", "convert"}, 2, `unknown command "model"`},
		{[]string{"convert", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"convert", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"convert", "--batch", "0"}, 2, "--batch 0 is not 1 to 64"},
		{[]string{"convert", "--int8", "--calibrate-every", "0"}, 2, "--calibrate-every 0 is not positive"},
		{[]string{"convert", "--int8", "--calibrate", missing + ".mkv", "--out", filepath.Join(t.TempDir(), "m.onnx")}, 1, missing + ".mkv"},
		{[]string{"convert", "--in", missing, "--out", filepath.Join(t.TempDir(), "m.onnx")}, 1, missing},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var errOut bytes.Buffer
			if code := run(c.args, io.Discard, &errOut); code != c.code || !strings.Contains(errOut.String(), c.says) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, errOut.String(), c.code, c.says)
			}
		})
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"convert", "--help"}, {"convert", "-h"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 0 || !strings.Contains(strings.ToLower(out.String()), "usage") || errOut.Len() > 0 {
			t.Errorf("vigil-model %s: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", strings.Join(args, " "), code, out.String(), errOut.String())
		}
	}
}

// TestConvertInt8 makes the 8-bit model from the TF.js model, calibrated
// on one shipped video, and runs both on a frame of vtest.avi (footage
// the calibration did not see): the 8-bit model finds the people the
// float model finds, where it finds them, with nearly their scores.
func TestConvertInt8(t *testing.T) {
	dir := os.Getenv("VIGIL_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "models")
	}
	in, float, lib := filepath.Join(dir, "nanodet.json"), filepath.Join(dir, "nanodet.onnx"), filepath.Join(dir, nn.ORTLibrary)
	for _, p := range []string{in, float, lib} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("VIGIL_REQUIRE_MODELS") != "" {
				t.Fatalf("%v (VIGIL_REQUIRE_MODELS is set; make it with %s)", err, nn.SetupCommand)
			}
			t.Skipf("no %s: make it with %s", p, nn.SetupCommand)
		}
	}
	const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
	vc, err := gocv.VideoCaptureFile(vtest)
	if err != nil {
		t.Skipf("no %s (opencv-doc): %v", vtest, err)
	}
	frame := gocv.NewMat()
	defer frame.Close()
	for range 120 {
		vc.Read(&frame)
	}
	vc.Close()
	if frame.Empty() {
		t.Fatalf("%s: no frame 120", vtest)
	}
	out := filepath.Join(t.TempDir(), "nanodet-int8.onnx")
	var errOut bytes.Buffer
	args := []string{"convert", "--int8", "--in", in, "--out", out, "--lib", lib,
		"--calibrate", "../../testdata/footage/office.mkv", "--calibrate-every", "10"}
	if code := run(args, io.Discard, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "calibrated on ") {
		t.Errorf("stderr %q does not say what it calibrated on", errOut.String())
	}
	detect := func(path string) []nn.Object {
		d, err := nn.Open(path, nn.Options{Library: lib, MinScore: 0.4})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		objs, err := d.Detect(frame)
		if err != nil {
			t.Fatal(err)
		}
		var people []nn.Object
		for _, o := range objs {
			if o.Label == "person" {
				people = append(people, o)
			}
		}
		return people
	}
	want, got := detect(float), detect(out)
	if len(want) < 3 {
		t.Fatalf("the float model finds %d people on frame 120, want at least 3: the test's frame is wrong", len(want))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if iou(w.Box, g.Box) >= 0.8 && math.Abs(float64(w.Score-g.Score)) <= 0.1 {
				found = true
			}
		}
		if !found && w.Score >= 0.5 {
			t.Errorf("the float model's person at %v (score %.2f) is not among the 8-bit model's %v", w.Box, w.Score, got)
		}
	}
	if len(got) > len(want)+1 {
		t.Errorf("the 8-bit model finds %d people, the float model %d", len(got), len(want))
	}
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	return ia / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia)
}
