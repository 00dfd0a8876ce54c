package tfjs_test

import (
	"maps"
	"math"
	"strings"
	"testing"

	"github.com/vigil-video/vigil/internal/modeltool/onnx"
	"github.com/vigil-video/vigil/internal/modeltool/tfjs"
)

// chain is x → Conv a → Conv m → LeakyRelu → Split → Concat → Conv b →
// y: a and m are followed by a Conv, b is the head; m's weights of its
// second channel are all zero, under a bias.
func chain() *onnx.Model {
	w := func(name string) onnx.Tensor {
		return onnx.Tensor{Name: name, Type: onnx.Float, Dims: []int64{2, 2, 1, 1}, Floats: []float32{1, -0.25, 0.25, 2}}
	}
	return &onnx.Model{IRVersion: 7, Opset: tfjs.Opset, Graph: onnx.Graph{
		Nodes: []onnx.Node{
			{Name: "a", Op: "Conv", Inputs: []string{"x", "wa", "ba"}, Outputs: []string{"a"}},
			{Name: "m", Op: "Conv", Inputs: []string{"a", "wm", "bm"}, Outputs: []string{"m"}},
			{Name: "r", Op: "LeakyRelu", Inputs: []string{"m"}, Outputs: []string{"r"}},
			{Name: "s", Op: "Split", Inputs: []string{"r"}, Outputs: []string{"s0", "s1"}, Attrs: []onnx.Attr{onnx.AttrInts("split", 1, 1)}},
			{Name: "c", Op: "Concat", Inputs: []string{"s0", "s1"}, Outputs: []string{"c"}, Attrs: []onnx.Attr{onnx.AttrInt("axis", 1)}},
			{Name: "b", Op: "Conv", Inputs: []string{"c", "wb"}, Outputs: []string{"b"}},
			{Name: "y", Op: "Identity", Inputs: []string{"b"}, Outputs: []string{"y"}},
		},
		Initializers: []onnx.Tensor{w("wa"), w("wb"), {Name: "ba", Type: onnx.Float, Dims: []int64{2}, Floats: []float32{0.5, -1}},
			{Name: "wm", Type: onnx.Float, Dims: []int64{2, 2, 1, 1}, Floats: []float32{1, 1, 0, 0}},
			{Name: "bm", Type: onnx.Float, Dims: []int64{2}, Floats: []float32{0, 3}}},
		Inputs:  []onnx.ValueInfo{{Name: "x", Dims: []int64{1, 2, 4, 4}}},
		Outputs: []onnx.ValueInfo{{Name: "y", Dims: []int64{1, 2, 4, 4}}},
	}}
}

// TestQuantize: the Conv a Conv follows becomes int8 weights and an int32
// bias behind DequantizeLinear, between a quantized input and output; the
// head stays float; Split takes its sizes as an input (opset 13); the
// calibration model measures both Convs' inputs and outputs.
func TestQuantize(t *testing.T) {
	m := chain()
	cal, names := tfjs.CalibrationModel(m)
	if want := []string{"x", "a", "m", "c", "b"}; strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("calibration measures %v, want %v", names, want)
	}
	if len(cal.Graph.Outputs) != 6 || len(m.Graph.Outputs) != 1 {
		t.Errorf("calibration model has %d outputs (the model %d), want 6 (1)", len(cal.Graph.Outputs), len(m.Graph.Outputs))
	}
	ranges := map[string]tfjs.Range{"x": {-1, 3}, "a": {-2, 6}, "m": {-1, 7}, "c": {-0.4, 6}, "b": {-5, 5}}
	q, err := tfjs.Quantize(m, ranges)
	if err != nil {
		t.Fatal(err)
	}
	if q.Opset != tfjs.QuantOpset {
		t.Errorf("opset %d, want %d", q.Opset, tfjs.QuantOpset)
	}
	ops := map[string]*onnx.Node{}
	var order []string
	for i, n := range q.Graph.Nodes {
		ops[n.Name] = &q.Graph.Nodes[i]
		order = append(order, n.Op)
	}
	a, b := ops["a"], ops["b"]
	if a == nil || b == nil {
		t.Fatalf("Convs missing: %v", order)
	}
	if a.Inputs[0] != "x/dq" || a.Inputs[1] != "wa/dq" || a.Inputs[2] != "ba/dq" {
		t.Errorf("conv a reads %v, want the dequantized input, weights and bias", a.Inputs)
	}
	if mm := ops["m"]; mm == nil || mm.Inputs[0] != "a/dq" || mm.Inputs[1] != "wm/dq" || ops["a/dq/q"] != nil {
		t.Errorf("conv m does not read a's dequantized output once quantized: %v", order)
	}
	if r := ops["r"]; r == nil || r.Inputs[0] != "m/dq" {
		t.Errorf("LeakyRelu does not read m's dequantized output: %v", order)
	}
	if b.Inputs[0] != "c" || b.Inputs[1] != "wb" {
		t.Errorf("the head reads %v, want it in float (c, wb)", b.Inputs)
	}
	if s := ops["s"]; s == nil || len(s.Attrs) != 0 || len(s.Inputs) != 2 {
		t.Errorf("Split keeps its attribute or lacks its sizes input: %+v", s)
	}
	types := map[string]int32{}
	inits := map[string]onnx.Tensor{}
	for _, init := range q.Graph.Initializers {
		types[init.Name] = init.Type
		inits[init.Name] = init
		if init.Name == "wa/int8" {
			// per channel: each output channel's largest weight is ±63 (7 bits: no overflow without VNNI)
			if init.Ints[0] != 63 || init.Ints[1] != -16 || init.Ints[2] != 8 || init.Ints[3] != 63 {
				t.Errorf("wa in 8 bits is %v, want [63 -16 8 63]", init.Ints)
			}
		}
	}
	if types["wa/int8"] != onnx.Int8 || types["ba/int32"] != onnx.Int32 || types["x/q_zero"] != onnx.Uint8 {
		t.Errorf("initializer types %v", types)
	}
	// x in [-1, 3]: scale 4/255, zero point 64 (-1 at 0 - 64, 0 exactly).
	if s, z := inits["x/q_scale"], inits["x/q_zero"]; math.Abs(float64(s.Floats[0])-4.0/255) > 1e-7 || z.Ints[0] != 64 {
		t.Errorf("x's scale %v and zero point %v, want 4/255 and 64", s.Floats, z.Ints)
	}
	// The bias at scale x's × the weights': 0.5 and -1 over 4/255 × 1/63
	// and 4/255 × 2/63.
	if b := inits["ba/int32"].Ints; len(b) != 2 || b[0] != 2008 || b[1] != -2008 {
		t.Errorf("a's bias in 32 bits is %v, want [2008 -2008]", b)
	}
	// m's second channel: no weight, a bias of 3; its scale is raised so
	// that the bias fits, not left at 1e-12 (3 / (8/255 × 1e-12) wraps).
	if b := inits["bm/int32"].Ints; len(b) != 2 || b[1] <= 0 || b[1] > 1<<30 {
		t.Errorf("m's bias in 32 bits is %v, want the second in (0, 2^30]", b)
	}
	for _, n := range q.Graph.Nodes {
		if n.Op == "DequantizeLinear" && strings.HasSuffix(n.Inputs[0], "/int8") && (len(n.Attrs) != 1 || n.Attrs[0].Name != "axis") {
			t.Errorf("%s dequantizes weights without axis 0: %+v", n.Name, n.Attrs)
		}
	}
	nan := maps.Clone(ranges)
	nan["m"] = tfjs.Range{Min: 0, Max: float32(math.Inf(1))}
	if _, err := tfjs.Quantize(m, nan); err == nil || !strings.Contains(err.Error(), `"m"`) {
		t.Errorf("an infinite range: error %v, want one naming m", err)
	}
	delete(ranges, "a")
	if _, err := tfjs.Quantize(m, ranges); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("a missing range: error %v, want one naming a", err)
	}
}
