// Package tfjs converts a TensorFlow.js graph model (model.json: topology
// and weights manifest, plus its binary weight shards) into an ONNX model
// (opset 11) that ONNX Runtime and OpenCV 4.6's DNN importer read. It is
// pure Go: no TensorFlow, no Python.
//
// Weights may be float32, int32, float16 (the manifest's float16
// quantization) or affine uint8/uint16 quantization. Ops: Conv2D (NHWC or
// NCHW; SAME, VALID or explicit padding; strides; dilations), MaxPool,
// ResizeBilinear (align_corners, half_pixel_centers or neither), Pad,
// PadV2, Transpose, ConcatV2, SplitV, Reshape, Add, AddV2, BiasAdd, Sub,
// Mul, LeakyRelu, Relu, Sigmoid, Identity, SparseToDense (constant
// inputs only), Const and Placeholder (static shapes only). The ONNX graph
// is NCHW: an NHWC op becomes its NCHW ONNX op between two Transposes, and
// Transposes that undo each other are then removed, so a graph exported
// from NCHW (as onnx-tf exports) comes back to plain NCHW convolutions.
// Nodes whose inputs are all constant are folded where the converter can
// evaluate them (SparseToDense, Add, Sub, Mul, Identity).
package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// graphModel is model.json of a TF.js graph model.
type graphModel struct {
	Format        string `json:"format"`
	ModelTopology struct {
		Node []*node `json:"node"`
	} `json:"modelTopology"`
	WeightsManifest []struct {
		Paths   []string     `json:"paths"`
		Weights []weightSpec `json:"weights"`
	} `json:"weightsManifest"`
	Signature struct {
		Outputs map[string]json.RawMessage `json:"outputs"`
	} `json:"signature"`
}

// node is a TF GraphDef NodeDef in its JSON form.
type node struct {
	Name  string          `json:"name"`
	Op    string          `json:"op"`
	Input []string        `json:"input"`
	Attr  map[string]attr `json:"attr"`
}

// attr is a TF AttrValue in its JSON form (int64 values are strings, byte
// strings are base64).
type attr struct {
	S    string   `json:"s"`
	I    jsonInt  `json:"i"`
	F    *float64 `json:"f"`
	B    bool     `json:"b"`
	Type string   `json:"type"`
	List *struct {
		I []jsonInt `json:"i"`
		S []string  `json:"s"`
		F []float64 `json:"f"`
	} `json:"list"`
	Shape *struct {
		Dim []struct {
			Size jsonInt `json:"size"`
		} `json:"dim"`
	} `json:"shape"`
}

// jsonInt is an int64 written either as a JSON number or as a string.
type jsonInt int64

func (v *jsonInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("integer %s: %w", b, err)
	}
	*v = jsonInt(n)
	return nil
}

type weightSpec struct {
	Name         string  `json:"name"`
	Shape        []int64 `json:"shape"`
	Dtype        string  `json:"dtype"`
	Quantization *struct {
		Dtype string   `json:"dtype"`
		Scale *float64 `json:"scale"`
		Min   *float64 `json:"min"`
	} `json:"quantization"`
}

// tensor is a constant: float values, or integer values when isInt.
type tensor struct {
	shape []int64
	f     []float32
	i     []int64
	isInt bool
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

func (n *node) str(key string) (string, error) {
	a, ok := n.Attr[key]
	if !ok {
		return "", nil
	}
	b, err := base64.StdEncoding.DecodeString(a.S)
	if err != nil {
		return "", fmt.Errorf("node %q: attribute %s: %w", n.Name, key, err)
	}
	return string(b), nil
}

func (n *node) ints(key string) []int64 {
	a, ok := n.Attr[key]
	if !ok || a.List == nil {
		return nil
	}
	out := make([]int64, len(a.List.I))
	for i, v := range a.List.I {
		out[i] = int64(v)
	}
	return out
}

// load reads model.json and its weight shards (found beside it).
func load(jsonPath string) (*graphModel, map[string]*tensor, error) {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, nil, err
	}
	dir := filepath.Dir(jsonPath)
	return parse(jsonPath, b, func(p string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	})
}

// parse decodes model.json (named jsonPath in errors) and its weights,
// reading each shard with shard.
func parse(jsonPath string, b []byte, shard func(path string) ([]byte, error)) (*graphModel, map[string]*tensor, error) {
	var m graphModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", jsonPath, err)
	}
	if m.Format != "" && m.Format != "graph-model" {
		return nil, nil, fmt.Errorf("%s: format %q, want graph-model", jsonPath, m.Format)
	}
	weights := map[string]*tensor{}
	for gi, g := range m.WeightsManifest {
		var data []byte
		for _, p := range g.Paths {
			if !filepath.IsLocal(filepath.FromSlash(p)) {
				return nil, nil, fmt.Errorf("%s: weights group %d: shard path %q leaves the model's directory", jsonPath, gi, p)
			}
			b, err := shard(p)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: weights group %d: %w", jsonPath, gi, err)
			}
			data = append(data, b...)
		}
		for _, w := range g.Weights {
			t, size, err := decodeWeight(w, data)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: weight %q: %w", jsonPath, w.Name, err)
			}
			data = data[size:]
			weights[w.Name] = t
		}
		if len(data) != 0 {
			return nil, nil, fmt.Errorf("%s: weights group %d: %d bytes left over after the manifest's weights", jsonPath, gi, len(data))
		}
	}
	return &m, weights, nil
}

// decodeWeight decodes one manifest entry at the start of data and returns
// it with the number of bytes it took.
func decodeWeight(w weightSpec, data []byte) (*tensor, int, error) {
	for _, d := range w.Shape {
		if d < 0 || d > int64(len(data)) {
			return nil, 0, fmt.Errorf("shape %v does not fit the %d bytes left in the shards", w.Shape, len(data))
		}
	}
	n := int(numel(w.Shape))
	t := &tensor{shape: w.Shape}
	stored := w.Dtype
	if w.Quantization != nil {
		stored = w.Quantization.Dtype
	}
	width := map[string]int{"float32": 4, "int32": 4, "float16": 2, "uint8": 1, "uint16": 2, "bool": 1}[stored]
	if width == 0 {
		return nil, 0, fmt.Errorf("unsupported dtype %q", stored)
	}
	size := n * width
	if n < 0 || n > len(data) || len(data) < size {
		return nil, 0, fmt.Errorf("needs %d bytes, %d left in the shards", size, len(data))
	}
	switch w.Dtype {
	case "float32":
		t.f = make([]float32, n)
	case "int32", "bool":
		t.isInt = true
		t.i = make([]int64, n)
	default:
		return nil, 0, fmt.Errorf("unsupported dtype %q", w.Dtype)
	}
	scale, minv := 1.0, 0.0
	if q := w.Quantization; q != nil && (q.Dtype == "uint8" || q.Dtype == "uint16") {
		if q.Scale == nil || q.Min == nil {
			return nil, 0, fmt.Errorf("%s quantization without scale and min", q.Dtype)
		}
		scale, minv = *q.Scale, *q.Min
	}
	for k := range n {
		var v float64
		switch stored {
		case "float32":
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*k:])))
		case "int32":
			v = float64(int32(binary.LittleEndian.Uint32(data[4*k:])))
		case "float16":
			v = float64(halfToFloat(binary.LittleEndian.Uint16(data[2*k:])))
		case "uint8", "bool":
			v = float64(data[k])*scale + minv
		case "uint16":
			v = float64(binary.LittleEndian.Uint16(data[2*k:]))*scale + minv
		}
		if t.isInt {
			t.i[k] = int64(v)
		} else {
			t.f[k] = float32(v)
		}
	}
	return t, size, nil
}

// halfToFloat converts an IEEE 754 half-precision value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
