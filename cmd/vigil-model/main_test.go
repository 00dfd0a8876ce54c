package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
