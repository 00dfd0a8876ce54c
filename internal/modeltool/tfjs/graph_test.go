package tfjs_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-video/vigil/internal/cvdnn"
	"github.com/vigil-video/vigil/internal/modeltool/onnx"
	"github.com/vigil-video/vigil/internal/modeltool/tfjs"
	"github.com/vigil-video/vigil/nn"
)

// graph builds a small TF.js graph model (model.json and one weight shard)
// the way tensorflowjs_converter writes one.
type graph struct {
	nodes   []map[string]any
	weights []map[string]any
	data    []byte
	inputs  map[string]nn.Tensor
	model   *onnx.Model // the last conversion
}

func newGraph() *graph { return &graph{inputs: map[string]nn.Tensor{}} }

// input adds a Placeholder fed with x.
func (g *graph) input(name string, x nn.Tensor) {
	var dims []map[string]string
	for _, d := range x.Shape {
		dims = append(dims, map[string]string{"size": fmt.Sprint(d)})
	}
	g.nodes = append(g.nodes, map[string]any{"name": name, "op": "Placeholder", "attr": map[string]any{
		"shape": map[string]any{"shape": map[string]any{"dim": dims}},
		"dtype": map[string]any{"type": "DT_FLOAT"},
	}})
	g.inputs[name] = x
}

func (g *graph) constNode(name, dtype string) {
	g.nodes = append(g.nodes, map[string]any{"name": name, "op": "Const", "attr": map[string]any{
		"value": map[string]any{"tensor": map[string]any{"dtype": dtype}},
		"dtype": map[string]any{"type": dtype},
	}})
}

// floats adds a float32 constant, stored as float16 when half.
func (g *graph) floats(name string, shape []int, v []float32, half bool) string {
	g.constNode(name, "DT_FLOAT")
	w := map[string]any{"name": name, "shape": shape, "dtype": "float32"}
	if half {
		w["quantization"] = map[string]any{"dtype": "float16", "original_dtype": "float32"}
		for _, f := range v {
			g.data = binary.LittleEndian.AppendUint16(g.data, toHalf(f))
		}
	} else {
		for _, f := range v {
			g.data = binary.LittleEndian.AppendUint32(g.data, math.Float32bits(f))
		}
	}
	g.weights = append(g.weights, w)
	return name
}

// ints adds an int32 constant.
func (g *graph) ints(name string, shape []int, v ...int32) string {
	g.constNode(name, "DT_INT32")
	for _, i := range v {
		g.data = binary.LittleEndian.AppendUint32(g.data, uint32(i))
	}
	g.weights = append(g.weights, map[string]any{"name": name, "shape": shape, "dtype": "int32"})
	return name
}

func (g *graph) op(name, op string, inputs []string, attr map[string]any) string {
	if attr == nil {
		attr = map[string]any{}
	}
	attr["T"] = map[string]any{"type": "DT_FLOAT"}
	g.nodes = append(g.nodes, map[string]any{"name": name, "op": op, "input": inputs, "attr": attr})
	return name
}

func str(s string) map[string]any {
	return map[string]any{"s": base64.StdEncoding.EncodeToString([]byte(s))}
}

func list(v ...int) map[string]any {
	var s []string
	for _, i := range v {
		s = append(s, fmt.Sprint(i))
	}
	return map[string]any{"list": map[string]any{"i": s}}
}

// marshal is the graph's model.json.
func (g *graph) marshal(outputs ...string) []byte {
	sig := map[string]any{}
	for _, o := range outputs {
		sig[o+":0"] = map[string]any{"name": o + ":0"}
	}
	model := map[string]any{
		"format":          "graph-model",
		"modelTopology":   map[string]any{"node": g.nodes},
		"weightsManifest": []any{map[string]any{"paths": []string{"group1-shard1of1.bin"}, "weights": g.weights}},
		"signature":       map[string]any{"outputs": sig},
	}
	b, err := json.Marshal(model)
	if err != nil {
		panic(err)
	}
	return b
}

// run writes the model, converts it, runs the ONNX model through OpenCV's
// DNN module and returns the named outputs.
func (g *graph) run(t *testing.T, outputs ...string) []nn.Tensor {
	t.Helper()
	dir := t.TempDir()
	b := g.marshal(outputs...)
	js := filepath.Join(dir, "model.json")
	if err := os.WriteFile(js, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "group1-shard1of1.bin"), g.data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := tfjs.Convert(js)
	if err != nil {
		t.Fatal(err)
	}
	g.model = m
	var results [][]nn.Tensor
	for _, rt := range runtimes(t) {
		net, err := rt.load(m.Marshal())
		if err != nil {
			t.Fatalf("%s: %v", rt.name, err)
		}
		out, err := net.Run(g.inputs, outputs)
		net.Close()
		if err != nil {
			t.Fatalf("%s: %v", rt.name, err)
		}
		results = append(results, out)
	}
	// Every runtime computes the same values.
	for _, other := range results[1:] {
		for i := range other {
			assertTensor(t, other[i], results[0][i], 1e-4*(1+maxAbs(results[0][i])))
		}
	}
	return results[0]
}

func maxAbs(t nn.Tensor) float64 {
	var m float64
	for _, v := range t.Data {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

type runtime struct {
	name string
	load func([]byte) (nn.Net, error)
}

// runtimes are the runtimes a converted graph runs on: ONNX Runtime (the
// library scripts/models.sh puts in $VIGIL_MODELS or the repository's
// .cache/models; without it only OpenCV runs, unless VIGIL_REQUIRE_MODELS
// is set) and OpenCV's DNN module.
func runtimes(t *testing.T) []runtime {
	t.Helper()
	rts := []runtime{}
	dir := os.Getenv("VIGIL_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", ".cache", "models")
	}
	lib, err := filepath.Abs(filepath.Join(dir, nn.ORTLibrary))
	if err == nil {
		_, err = os.Stat(lib)
	}
	switch {
	case err == nil:
		rts = append(rts, runtime{"onnxruntime", func(b []byte) (nn.Net, error) { return nn.LoadORT(b, lib, 1) }})
	case os.Getenv("VIGIL_REQUIRE_MODELS") != "":
		t.Fatalf("onnxruntime: %v (VIGIL_REQUIRE_MODELS is set; make it with %s)", err, nn.SetupCommand)
	default:
		t.Logf("onnxruntime: %v; checking OpenCV's DNN only (make it with %s)", err, nn.SetupCommand)
	}
	return append(rts, runtime{"opencv", func(b []byte) (nn.Net, error) { return cvdnn.Load(b) }})
}

// toHalf rounds a float32 to IEEE 754 half precision (normal range only,
// which is all the tests use).
func toHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	frac := b & 0x7fffff
	if exp <= 0 {
		return sign
	}
	h := sign | uint16(exp)<<10 | uint16(frac>>13)
	if frac&0x1000 != 0 { // round half up
		h++
	}
	return h
}

// seq is a tensor of the given shape holding start, start+step, ...
func seq(start, step float32, shape ...int) nn.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	t := nn.Tensor{Shape: shape, Data: make([]float32, n)}
	for i := range t.Data {
		t.Data[i] = start + step*float32(i)
	}
	return t
}

func assertTensor(t *testing.T, got, want nn.Tensor, tol float64) {
	t.Helper()
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i := range want.Data {
		if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > tol || math.IsNaN(float64(got.Data[i])) {
			t.Fatalf("value %d is %g, want %g (shape %v)\ngot  %v\nwant %v", i, got.Data[i], want.Data[i], want.Shape, got.Data, want.Data)
		}
	}
}

// ops counts the converted graph's nodes by op type.
func (g *graph) ops() map[string]int {
	n := map[string]int{}
	for _, node := range g.model.Graph.Nodes {
		n[node.Op]++
	}
	return n
}
