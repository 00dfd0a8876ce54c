package tfjs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-video/vigil/internal/modeltool/onnx"
	"github.com/vigil-video/vigil/internal/modeltool/tfjs"
	"github.com/vigil-video/vigil/nn"
)

// nanodetJSON is the TF.js model scripts/models.sh extracts.
func nanodetJSON(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VIGIL_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", ".cache", "models")
	}
	p := filepath.Join(dir, "nanodet.json")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("VIGIL_REQUIRE_MODELS") != "" {
			t.Fatalf("%v (VIGIL_REQUIRE_MODELS is set; make it with %s)", err, nn.SetupCommand)
		}
		t.Skipf("no %s: make it with %s", p, nn.SetupCommand)
	}
	return p
}

// TestConvertNanoDet converts the real graph (489 TF nodes): its 28 Pads
// fold into their Convs, 77 of its 83 Transposes cancel, its
// SparseToDense fold into constants, and the six heads keep their names
// and shapes. (The network's outputs are checked on real frames in
// package nn.)
func TestConvertNanoDet(t *testing.T) {
	m, err := tfjs.Convert(nanodetJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range m.Graph.Nodes {
		ops[n.Op]++
	}
	want := "map[Add:4 Concat:12 Conv:34 Identity:6 LeakyRelu:28 MaxPool:1 Pad:1 Reshape:6 Resize:4 Sigmoid:3 Split:3 Transpose:6]"
	if fmt.Sprint(ops) != want {
		t.Errorf("ops %v\nwant %s", ops, want)
	}
	if in := m.Graph.Inputs; len(in) != 1 || in[0].Name != "input_1" || fmt.Sprint(in[0].Dims) != "[1 3 416 416]" {
		t.Errorf("inputs %+v, want input_1 [1 3 416 416]", in)
	}
	outs := outputDims(m)
	wantOuts := "[Identity[1 2704 80] Identity_1[1 676 80] Identity_2[1 169 80] Identity_3[1 2704 44] Identity_4[1 676 44] Identity_5[1 169 44]]"
	if fmt.Sprint(outs) != wantOuts {
		t.Errorf("outputs %v\nwant %s", outs, wantOuts)
	}
}

// outputDims names m's outputs with their shapes.
func outputDims(m *onnx.Model) []string {
	var outs []string
	for _, o := range m.Graph.Outputs {
		outs = append(outs, fmt.Sprint(o.Name, o.Dims))
	}
	return outs
}

// TestConvertNanoDetBatch: converted for 4 pictures a call, the real
// graph takes and gives 4 (its Reshapes' batch of 1 follows the input's).
// That each picture's outputs are its own is checked in package nn
// (BenchmarkBatch, on VIGIL_BATCH_MODEL). A negative batch is refused.
func TestConvertNanoDetBatch(t *testing.T) {
	m, err := tfjs.ConvertWith(nanodetJSON(t), tfjs.Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	if in := m.Graph.Inputs; len(in) != 1 || fmt.Sprint(in[0].Dims) != "[4 3 416 416]" {
		t.Errorf("inputs %+v, want input_1 [4 3 416 416]", in)
	}
	outs := outputDims(m)
	wantOuts := "[Identity[4 2704 80] Identity_1[4 676 80] Identity_2[4 169 80] Identity_3[4 2704 44] Identity_4[4 676 44] Identity_5[4 169 44]]"
	if fmt.Sprint(outs) != wantOuts {
		t.Errorf("outputs %v\nwant %s", outs, wantOuts)
	}
	if _, err := tfjs.ConvertWith(nanodetJSON(t), tfjs.Options{Batch: -1}); err == nil {
		t.Error("batch -1 converted")
	}
}

// BenchmarkConvertNanoDet is the whole conversion of the real model:
// reading the JSON and the float16 shard, converting, encoding the ONNX.
func BenchmarkConvertNanoDet(b *testing.B) {
	p := nanodetJSON(b)
	for b.Loop() {
		m, err := tfjs.Convert(p)
		if err != nil {
			b.Fatal(err)
		}
		m.Marshal()
	}
}

// TestConvertNanoDetInput: converted for a 640x640 picture, the real graph
// takes it, and its four resizes and six head reshapes follow (the heads'
// positions are (640/stride)²: 6400, 1600, 400). A side that is not a
// multiple of the largest stride is refused. (The network's outputs at
// 640 are checked on real frames in package nn: TestPeopleInVtestAt640.)
func TestConvertNanoDetInput(t *testing.T) {
	m, err := tfjs.ConvertWith(nanodetJSON(t), tfjs.Options{Input: 640})
	if err != nil {
		t.Fatal(err)
	}
	if in := m.Graph.Inputs; len(in) != 1 || fmt.Sprint(in[0].Dims) != "[1 3 640 640]" {
		t.Errorf("inputs %+v, want input_1 [1 3 640 640]", in)
	}
	outs := outputDims(m)
	wantOuts := "[Identity[1 6400 80] Identity_1[1 1600 80] Identity_2[1 400 80] Identity_3[1 6400 44] Identity_4[1 1600 44] Identity_5[1 400 44]]"
	if fmt.Sprint(outs) != wantOuts {
		t.Errorf("outputs %v\nwant %s", outs, wantOuts)
	}
	if _, err := tfjs.ConvertWith(nanodetJSON(t), tfjs.Options{Input: 500}); err == nil {
		t.Error("input 500 converted")
	}
}
