package tfjs_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/vigil-video/vigil/nn"
)

func TestConv2D(t *testing.T) {
	x := seq(-1, 0.07, 1, 6, 7, 3)
	w := seq(0.5, -1.0/64, 3, 3, 3, 4) // multiples of 1/64: exact in float16
	bias := []float32{0.5, -1, 0.25, 2}
	cases := []struct {
		name           string
		padding        string
		strides, dil   int
		explicit       []int // top, bottom, left, right
		half, withBias bool
	}{
		{name: "valid", padding: "VALID", strides: 1, dil: 1},
		{name: "same stride 2", padding: "SAME", strides: 2, dil: 1},
		{name: "same dilation 2", padding: "SAME", strides: 1, dil: 2},
		{name: "explicit", padding: "EXPLICIT", strides: 1, dil: 1, explicit: []int{1, 0, 2, 1}},
		{name: "float16 weights and bias", padding: "VALID", strides: 1, dil: 1, half: true, withBias: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph()
			g.input("x", x)
			g.floats("w", w.Shape, w.Data, tc.half)
			attr := map[string]any{
				"padding":     str(tc.padding),
				"data_format": str("NHWC"),
				"strides":     list(1, tc.strides, tc.strides, 1),
				"dilations":   list(1, tc.dil, tc.dil, 1),
			}
			if tc.explicit != nil {
				e := tc.explicit
				attr["explicit_paddings"] = list(0, 0, e[0], e[1], e[2], e[3], 0, 0)
			}
			out := g.op("conv", "Conv2D", []string{"x", "w"}, attr)
			var b []float32
			if tc.withBias {
				b = bias
				g.floats("b", []int{4}, bias, tc.half)
				out = g.op("add", "Add", []string{"conv", "b"}, nil)
			}
			got := g.run(t, out)[0]
			var pt, pb, pl, pr int
			switch tc.padding {
			case "SAME":
				pt, pb, _ = samePads(6, 3, tc.strides, tc.dil)
				pl, pr, _ = samePads(7, 3, tc.strides, tc.dil)
			case "EXPLICIT":
				pt, pb, pl, pr = tc.explicit[0], tc.explicit[1], tc.explicit[2], tc.explicit[3]
			}
			want := refConv(x, w, b, tc.strides, tc.strides, tc.dil, tc.dil, pt, pb, pl, pr)
			assertTensor(t, got, want, 2e-3)
		})
	}
}

// TestConv2DAsInNanoDet is the pattern of the real graph (onnx-tf's
// export): NCHW input, Pad, Transpose to NHWC, Conv2D, bias Add, Transpose
// back, LeakyRelu. The Pad is folded into the Conv and the Transposes
// cancel, so it checks those rewrites too.
func TestConv2DAsInNanoDet(t *testing.T) {
	x := seq(1, -0.05, 1, 2, 5, 4) // NCHW
	w := seq(-0.3, 0.021, 3, 3, 2, 3)
	bias := []float32{0.1, -0.2, 0.3}
	g := newGraph()
	g.input("x", x)
	g.ints("pads", []int{4, 2}, 0, 0, 0, 0, 1, 1, 1, 1)
	g.op("pad", "Pad", []string{"x", "pads"}, nil)
	g.ints("perm1", []int{4}, 0, 2, 3, 1)
	g.op("t1", "Transpose", []string{"pad", "perm1"}, nil)
	g.floats("w", w.Shape, w.Data, true)
	g.op("conv", "Conv2D", []string{"t1", "w"}, map[string]any{"padding": str("VALID"), "data_format": str("NHWC"), "strides": list(1, 1, 1, 1), "dilations": list(1, 1, 1, 1)})
	g.floats("b", []int{3}, bias, true)
	g.op("add", "Add", []string{"conv", "b"}, nil)
	g.ints("perm2", []int{4}, 0, 3, 1, 2)
	g.op("t2", "Transpose", []string{"add", "perm2"}, nil)
	g.op("relu", "LeakyRelu", []string{"t2"}, map[string]any{"alpha": map[string]any{"f": 0.1}})
	got := g.run(t, "relu")[0]
	if ops := g.ops(); fmt.Sprint(ops) != "map[Conv:1 LeakyRelu:1]" {
		t.Errorf("converted ops %v, want the Pad in the Conv and no Transpose", ops)
	}
	want := refTranspose(refConv(refTranspose(x, 0, 2, 3, 1), w, bias, 1, 1, 1, 1, 1, 1, 1, 1), 0, 3, 1, 2)
	for i, v := range want.Data {
		if v < 0 {
			want.Data[i] = 0.1 * v
		}
	}
	assertTensor(t, got, want, 2e-3)
}

// TestElementwise checks Add (of two computed values), AddV2 (of a
// constant), LeakyRelu, Sigmoid and Identity against values worked out by
// hand.
func TestElementwise(t *testing.T) {
	x := nn.Tensor{Shape: []int{1, 1, 2, 2}, Data: []float32{-2, -0.5, 0, 3}}
	g := newGraph()
	g.input("x", x)
	g.op("leaky", "LeakyRelu", []string{"x"}, map[string]any{"alpha": map[string]any{"f": 0.25}})
	g.op("sig", "Sigmoid", []string{"x"}, nil)
	g.op("sum", "Add", []string{"leaky", "sig"}, nil)
	g.floats("c", []int{1}, []float32{10}, false)
	g.op("plus", "AddV2", []string{"x", "c"}, nil)
	g.op("id", "Identity", []string{"plus"}, nil)
	got := g.run(t, "leaky", "sig", "sum", "id")
	sig := func(v float64) float32 { return float32(1 / (1 + math.Exp(-v))) }
	shape := []int{1, 1, 2, 2}
	assertTensor(t, got[0], nn.Tensor{Shape: shape, Data: []float32{-0.5, -0.125, 0, 3}}, 1e-6)
	assertTensor(t, got[1], nn.Tensor{Shape: shape, Data: []float32{sig(-2), sig(-0.5), 0.5, sig(3)}}, 1e-6)
	assertTensor(t, got[2], nn.Tensor{Shape: shape, Data: []float32{-0.5 + sig(-2), -0.125 + sig(-0.5), 0.5, 3 + sig(3)}}, 1e-6)
	assertTensor(t, got[3], nn.Tensor{Shape: shape, Data: []float32{8, 9.5, 10, 13}}, 1e-6)
}

func TestPad(t *testing.T) {
	x := nn.Tensor{Shape: []int{1, 2, 2, 1}, Data: []float32{1, 2, 3, 4}}
	g := newGraph()
	g.input("x", x)
	g.ints("p", []int{4, 2}, 0, 0, 1, 0, 0, 2, 0, 0)
	g.op("pad", "Pad", []string{"x", "p"}, nil)
	g.floats("v", []int{}, []float32{-7}, false)
	g.op("pad2", "PadV2", []string{"x", "p", "v"}, nil)
	got := g.run(t, "pad", "pad2")
	assertTensor(t, got[0], nn.Tensor{Shape: []int{1, 3, 4, 1}, Data: []float32{
		0, 0, 0, 0,
		1, 2, 0, 0,
		3, 4, 0, 0,
	}}, 0)
	assertTensor(t, got[1], nn.Tensor{Shape: []int{1, 3, 4, 1}, Data: []float32{
		-7, -7, -7, -7,
		1, 2, -7, -7,
		3, 4, -7, -7,
	}}, 0)
}

func TestTranspose(t *testing.T) {
	x := seq(0, 1, 1, 2, 3, 4)
	for _, perm := range [][]int{{0, 3, 1, 2}, {0, 2, 3, 1}, {0, 1, 3, 2}} {
		g := newGraph()
		g.input("x", x)
		g.ints("perm", []int{4}, int32(perm[0]), int32(perm[1]), int32(perm[2]), int32(perm[3]))
		g.op("t", "Transpose", []string{"x", "perm"}, nil)
		got := g.run(t, "t")[0]
		assertTensor(t, got, refTranspose(x, perm...), 0)
	}
}

func TestConcatV2(t *testing.T) {
	a := nn.Tensor{Shape: []int{1, 2, 1, 2}, Data: []float32{1, 2, 3, 4}}
	g := newGraph()
	g.input("a", a)
	g.op("b", "Sigmoid", []string{"a"}, nil)
	g.ints("last", []int{}, -1)
	g.op("c1", "ConcatV2", []string{"a", "b", "last"}, map[string]any{"N": map[string]any{"i": "2"}})
	g.ints("one", []int{}, 1)
	g.op("c2", "ConcatV2", []string{"a", "b", "one"}, map[string]any{"N": map[string]any{"i": "2"}})
	got := g.run(t, "c1", "c2")
	s := func(v float64) float32 { return float32(1 / (1 + math.Exp(-v))) }
	assertTensor(t, got[0], nn.Tensor{Shape: []int{1, 2, 1, 4}, Data: []float32{1, 2, s(1), s(2), 3, 4, s(3), s(4)}}, 1e-6)
	assertTensor(t, got[1], nn.Tensor{Shape: []int{1, 4, 1, 2}, Data: []float32{1, 2, 3, 4, s(1), s(2), s(3), s(4)}}, 1e-6)
}

func TestResizeBilinear(t *testing.T) {
	x := nn.Tensor{Shape: []int{1, 2, 3, 2}, Data: []float32{1, -1, 2, -2, 4, -4, 3, -3, 5, -5, 9, -9}}
	cases := []struct {
		name                    string
		h, w                    int
		alignCorners, halfPixel bool
	}{
		{name: "half pixel centers x2", h: 4, w: 6, halfPixel: true},
		{name: "half pixel centers", h: 3, w: 5, halfPixel: true},
		{name: "align corners", h: 3, w: 5, alignCorners: true},
		{name: "asymmetric", h: 4, w: 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph()
			g.input("x", x)
			g.ints("size", []int{2}, int32(tc.h), int32(tc.w))
			g.op("r", "ResizeBilinear", []string{"x", "size"}, map[string]any{
				"align_corners": map[string]any{"b": tc.alignCorners}, "half_pixel_centers": map[string]any{"b": tc.halfPixel},
			})
			got := g.run(t, "r")[0]
			assertTensor(t, got, refResize(x, tc.h, tc.w, tc.alignCorners, tc.halfPixel), 1e-5)
		})
	}
	// By hand, half pixel centers, one row 1 2 4 to 6 columns: source
	// x = (i+0.5)/2-0.5 = -0.25, 0.25, 0.75, 1.25, 1.75, 2.25.
	want := []float32{1, 1.25, 1.75, 2.5, 3.5, 4}
	got := refResize(nn.Tensor{Shape: []int{1, 1, 3, 1}, Data: []float32{1, 2, 4}}, 1, 6, false, true)
	assertTensor(t, got, nn.Tensor{Shape: []int{1, 1, 6, 1}, Data: want}, 1e-6)
}

func TestSplitVAndReshape(t *testing.T) {
	x := seq(-1, 0.25, 1, 2, 2, 3)
	g := newGraph()
	g.input("x", x)
	g.ints("sizes", []int{2}, 1, -1)
	g.ints("dim", []int{}, 3)
	g.op("split", "SplitV", []string{"x", "sizes", "dim"}, map[string]any{"num_split": map[string]any{"i": "2"}})
	g.op("sig", "Sigmoid", []string{"split"}, nil)
	g.ints("shape", []int{3}, 1, -1, 2)
	g.op("r", "Reshape", []string{"split:1", "shape"}, nil)
	got := g.run(t, "sig", "r")
	var first, rest []float32
	for i, v := range x.Data {
		if i%3 == 0 {
			first = append(first, float32(1/(1+math.Exp(-float64(v)))))
		} else {
			rest = append(rest, v)
		}
	}
	assertTensor(t, got[0], nn.Tensor{Shape: []int{1, 2, 2, 1}, Data: first}, 1e-6)
	assertTensor(t, got[1], nn.Tensor{Shape: []int{1, 4, 2}, Data: rest}, 0)
}

func TestMaxPool(t *testing.T) {
	x := seq(3, -0.37, 1, 5, 6, 2)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(x.Data[i]) * 3))
	}
	cases := []struct {
		name    string
		padding string
		k, s    int
	}{
		{name: "valid 3x3 stride 2", padding: "VALID", k: 3, s: 2},
		{name: "same 2x2 stride 2", padding: "SAME", k: 2, s: 2},
		{name: "same 3x3 stride 1", padding: "SAME", k: 3, s: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph()
			g.input("x", x)
			g.op("p", "MaxPool", []string{"x"}, map[string]any{
				"padding": str(tc.padding), "data_format": str("NHWC"),
				"ksize": list(1, tc.k, tc.k, 1), "strides": list(1, tc.s, tc.s, 1),
			})
			got := g.run(t, "p")[0]
			var pt, pb, pl, pr int
			if tc.padding == "SAME" {
				pt, pb, _ = samePads(5, tc.k, tc.s, 1)
				pl, pr, _ = samePads(6, tc.k, tc.s, 1)
			}
			assertTensor(t, got, refMaxPool(x, tc.k, tc.k, tc.s, tc.s, pt, pb, pl, pr), 0)
		})
	}
}

// TestSparseToDense checks the constant folding of SparseToDense: as in
// NanoDet's graph, a shape for Reshape is a constant plus a SparseToDense
// with no indices (zeros); another SparseToDense sets two entries of a
// bias.
func TestSparseToDense(t *testing.T) {
	x := seq(0, 1, 1, 2, 2, 2)
	g := newGraph()
	g.input("x", x)
	g.ints("where", []int{0, 1})
	g.ints("dense_shape", []int{1}, 3)
	g.ints("values", []int{0})
	g.ints("zero", []int{}, 0)
	g.op("sparse", "SparseToDense", []string{"where", "dense_shape", "values", "zero"}, nil)
	g.ints("base", []int{3}, 1, 4, 2)
	g.op("shape", "AddV2", []string{"base", "sparse"}, nil)
	g.op("r", "Reshape", []string{"x", "shape"}, nil)
	g.ints("idx", []int{1, 1}, 1)
	g.ints("n", []int{1}, 2)
	g.floats("vals", []int{1}, []float32{5}, false)
	g.floats("dflt", []int{}, []float32{1}, false)
	g.op("bias", "SparseToDense", []string{"idx", "n", "vals", "dflt"}, nil)
	g.op("b", "AddV2", []string{"r", "bias:0"}, nil)
	got := g.run(t, "r", "b")
	assertTensor(t, got[0], nn.Tensor{Shape: []int{1, 4, 2}, Data: x.Data}, 0)
	// bias = [1 5], by hand
	assertTensor(t, got[1], nn.Tensor{Shape: []int{1, 4, 2}, Data: []float32{1, 6, 3, 8, 5, 10, 7, 12}}, 0)
}
