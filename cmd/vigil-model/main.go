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
	"github.com/vigil-video/vigil/internal/modeltool/tfjs"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run runs the command line args and returns the exit code: 2 for a
// wrong command line, 1 for a failed conversion.
func run(args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "convert" {
		if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
			fmt.Fprintf(stderr, "vigil-model: unknown command %q\n", args[0])
		}
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", ".cache/models/nanodet.json", "TensorFlow.js graph model (model.json, weight shards beside it)")
	out := fs.String("out", config.DefaultModelPath, "ONNX model to write")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigil-model convert: unexpected argument %q\n", fs.Arg(0))
		usage(stderr)
		return 2
	}
	if err := tfjs.ConvertFile(*in, *out); err != nil {
		fmt.Fprintln(stderr, "vigil-model:", strings.TrimSpace(err.Error()))
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: vigil-model <command> [flags]
  convert [--in model.json] [--out model.onnx]
           convert a TensorFlow.js graph model to ONNX (scripts/models.sh runs it)
`)
}
