// Command vigil-model makes the object model the engine runs; it is a
// setup tool, not part of the vigil binary (scripts/models.sh runs it).
//
//	vigil-model convert [--in model.json] [--out model.onnx]   TF.js graph model to ONNX
//	vigil-model convert --int8 [--calibrate videos] ...          the same, its convolutions in 8 bits
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/cliflag"
	"github.com/vigil-video/vigil/internal/modeltool/tfjs"
	"github.com/vigil-video/vigil/nn"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit code: 2 for a
// wrong command line, 1 for a failed conversion, 0 for -h or --help (the
// usage on stdout).
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "convert" {
		if len(args) > 0 && cliflag.IsHelp(args[0]) {
			usage(stdout)
			return 0
		}
		if len(args) > 0 {
			fmt.Fprintf(stderr, "vigil-model: unknown command %q\n", args[0])
		}
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	in := fs.String("in", ".cache/models/nanodet.json", "TensorFlow.js graph model (model.json, weight shards beside it)")
	out := fs.String("out", "", "ONNX model to write (default "+config.FloatModelPath+", with --int8 "+config.DefaultModelPath+")")
	batch := fs.Int("batch", 1, "pictures per call the model takes (1-64): for measuring batched inference (nn's BenchmarkBatch); the engine sends one")
	input := fs.Int("input", 0, "the side of the square picture the model reads (a multiple of 32; 0: the graph's, 416 for NanoDet): for measuring a larger input")
	int8 := fs.Bool("int8", false, "write the convolutions in 8 bits (ONNX QDQ form), their activations scaled by ranges measured on --calibrate's pictures with ONNX Runtime")
	calib := fs.String("calibrate", "testdata/footage/*.mkv", "with --int8: comma-separated video files or globs whose pictures calibrate the 8-bit scales")
	every := fs.Int("calibrate-every", 20, "with --int8: take every N-th picture of each calibration video")
	keep := fs.Float64("calibrate-keep", 0.99999, "with --int8: the share of each activation's values on either side of zero its 8-bit range covers (1: from the least to the greatest)")
	lib := fs.String("lib", "", "with --int8: ONNX Runtime's shared library (default: "+nn.ORTLibrary+" beside --out)")
	if err := cliflag.Parse(fs, args[1:], stdout, stderr); err != nil {
		if cliflag.Help(err) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil-model convert: unexpected argument %q\n", fs.Arg(0))
		usage(stderr)
		return 2
	}
	if *batch < 1 || *batch > 64 {
		fmt.Fprintf(stderr, "vigil-model convert: --batch %d is not 1 to 64\n", *batch)
		return 2
	}
	if *every < 1 {
		fmt.Fprintf(stderr, "vigil-model convert: --calibrate-every %d is not positive\n", *every)
		return 2
	}
	if *out == "" {
		*out = config.FloatModelPath
		if *int8 {
			*out = config.DefaultModelPath
		}
	}
	if !(*keep > 0 && *keep <= 1) {
		fmt.Fprintf(stderr, "vigil-model convert: --calibrate-keep %g is not in (0, 1]\n", *keep)
		return 2
	}
	var err error
	if *int8 {
		if *lib == "" {
			*lib = filepath.Join(filepath.Dir(*out), nn.ORTLibrary)
		}
		if abs, err := filepath.Abs(*lib); err == nil { // dlopen searches the system paths for a bare name
			*lib = abs
		}
		err = convertInt8(*in, *out, *lib, *calib, *every, *keep, tfjs.Options{Batch: *batch, Input: *input}, stderr)
	} else {
		err = tfjs.ConvertFileWith(*in, *out, tfjs.Options{Batch: *batch, Input: *input})
	}
	if err != nil {
		fmt.Fprintln(stderr, "vigil-model:", strings.TrimSpace(err.Error()))
		return 1
	}
	return 0
}

// convertInt8 converts the TF.js model at in, measures its convolutions'
// inputs and outputs on the calibration videos' pictures with ONNX
// Runtime (lib), and writes the 8-bit model to out.
func convertInt8(in, out, lib, calib string, every int, keep float64, o tfjs.Options, stderr io.Writer) error {
	if o.Batch > 1 {
		return fmt.Errorf("--int8 calibrates one picture a call: --batch must be 1")
	}
	var files []string
	for _, g := range strings.Split(calib, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		match, err := filepath.Glob(g)
		if err != nil {
			return fmt.Errorf("--calibrate %q: %w", g, err)
		}
		if len(match) == 0 {
			return fmt.Errorf("--calibrate %q names no file", g)
		}
		files = append(files, match...)
	}
	m, err := tfjs.ConvertWith(in, o)
	if err != nil {
		return err
	}
	var pics []gocv.Mat
	defer func() {
		for _, p := range pics {
			p.Close()
		}
	}()
	for _, f := range files {
		vc, err := gocv.VideoCaptureFile(f)
		if err != nil {
			vc.Close()
			return fmt.Errorf("calibration video %s: %w", f, err)
		}
		img := gocv.NewMat()
		n := 0
		for i := 0; vc.Read(&img) && !img.Empty(); i++ {
			if i%every == every/2 {
				pics = append(pics, img.Clone())
				n++
			}
		}
		img.Close()
		vc.Close()
		if n == 0 {
			return fmt.Errorf("calibration video %s: no picture read", f)
		}
	}
	cal, names := tfjs.CalibrationModel(m)
	r, err := nn.Ranges(cal.Marshal(), lib, names, pics, keep)
	if err != nil {
		return err
	}
	ranges := make(map[string]tfjs.Range, len(r))
	for k, v := range r {
		ranges[k] = tfjs.Range{Min: v[0], Max: v[1]}
	}
	q, err := tfjs.Quantize(m, ranges)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "vigil-model: calibrated on %d pictures of %d videos\n", len(pics), len(files))
	return tfjs.WriteFile(q, out)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: vigil-model <command> [flags]
  convert [--in model.json] [--out model.onnx] [--batch N]
           convert a TensorFlow.js graph model to ONNX (scripts/models.sh runs it)
  convert --int8 [--calibrate videos] [--calibrate-every N] [--calibrate-keep 0.99999] [--lib libonnxruntime.so.1] [--in ...] [--out ...]
           the same with its convolutions in 8 bits, calibrated on the videos' pictures
`)
}
