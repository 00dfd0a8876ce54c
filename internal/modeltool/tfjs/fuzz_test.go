package tfjs_test

import (
	"testing"

	"github.com/vigil-video/vigil/internal/modeltool/tfjs"
)

// FuzzConvert: no model.json and weight shard, however malformed, panics
// the converter; it converts or returns an error.
func FuzzConvert(f *testing.F) {
	seeds := []func() (*graph, []string){
		func() (*graph, []string) {
			g := newGraph()
			g.input("x", seq(0, 1, 1, 4, 4, 2))
			g.floats("w", []int{3, 3, 2, 2}, seq(0, 0.1, 3, 3, 2, 2).Data, true)
			g.op("conv", "Conv2D", []string{"x", "w"}, map[string]any{"padding": str("SAME"), "strides": list(1, 2, 2, 1), "dilations": list(1, 1, 1, 1)})
			g.floats("b", []int{2}, []float32{1, 2}, false)
			g.op("add", "Add", []string{"conv", "b"}, nil)
			g.ints("size", []int{2}, 4, 4)
			g.op("r", "ResizeBilinear", []string{"add", "size"}, map[string]any{"half_pixel_centers": map[string]any{"b": true}})
			g.ints("axis", []int{}, 3)
			g.op("c", "ConcatV2", []string{"r", "x", "axis"}, nil)
			return g, []string{"c"}
		},
		func() (*graph, []string) {
			g := newGraph()
			g.input("x", seq(0, 1, 1, 2, 2, 3))
			g.ints("sizes", []int{2}, 1, -1)
			g.ints("dim", []int{}, 3)
			g.op("split", "SplitV", []string{"x", "sizes", "dim"}, nil)
			g.ints("where", []int{0, 1})
			g.ints("n", []int{1}, 3)
			g.ints("v", []int{0})
			g.ints("z", []int{}, 0)
			g.op("s", "SparseToDense", []string{"where", "n", "v", "z"}, nil)
			g.ints("base", []int{3}, 1, -1, 2)
			g.op("shape", "AddV2", []string{"base", "s"}, nil)
			g.op("r", "Reshape", []string{"split:1", "shape"}, nil)
			g.ints("perm", []int{3}, 0, 2, 1)
			g.op("t", "Transpose", []string{"r", "perm"}, nil)
			g.ints("p", []int{4, 2}, 0, 0, 1, 1, 1, 1, 0, 0)
			g.floats("pv", []int{}, []float32{-1}, false)
			g.op("pad", "PadV2", []string{"x", "p", "pv"}, nil)
			g.op("m", "MaxPool", []string{"pad"}, map[string]any{"padding": str("VALID"), "ksize": list(1, 3, 3, 1), "strides": list(1, 2, 2, 1)})
			return g, []string{"t", "m"}
		},
	}
	for _, seed := range seeds {
		g, outs := seed()
		if _, err := tfjs.ConvertBytes(g.marshal(outs...), g.data); err != nil {
			f.Fatalf("seed: %v", err)
		}
		f.Add(g.marshal(outs...), g.data)
	}
	f.Fuzz(func(t *testing.T, model, shard []byte) {
		m, err := tfjs.ConvertBytes(model, shard)
		if err == nil {
			m.Marshal()
		}
	})
}
