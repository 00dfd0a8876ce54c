// Command vigil-model makes the object model the engine runs; it is a
// setup tool, not part of the vigil binary (scripts/models.sh runs it).
//
//	vigil-model convert [--in model.json] [--out model.onnx]   TF.js graph model to ONNX
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/cliflag"
	"github.com/vigil-video/vigil/internal/modeltool/tfjs"
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
	out := fs.String("out", config.DefaultModelPath, "ONNX model to write")
	batch := fs.Int("batch", 1, "pictures per call the model takes (1-64): for measuring batched inference (nn's BenchmarkBatch); the engine sends one")
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
	if err := tfjs.ConvertFileWith(*in, *out, tfjs.Options{Batch: *batch}); err != nil {
		fmt.Fprintln(stderr, "vigil-model:", strings.TrimSpace(err.Error()))
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: vigil-model <command> [flags]
  convert [--in model.json] [--out model.onnx] [--batch N]
           convert a TensorFlow.js graph model to ONNX (scripts/models.sh runs it)
`)
}
