package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// fields decodes one protobuf message into its fields by number: varints
// as uint64, fixed32 as uint32, bytes as []byte.
func fields(t *testing.T, b []byte) map[protowire.Number][]any {
	t.Helper()
	out := map[protowire.Number][]any{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v any
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			v, n = protowire.ConsumeFixed32(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		out[num] = append(out[num], v)
	}
	return out
}

func strs(vs []any) []string {
	var s []string
	for _, v := range vs {
		s = append(s, string(v.([]byte)))
	}
	return s
}

// TestMarshal checks the field numbers and encodings against onnx.proto by
// decoding a small model field by field.
func TestMarshal(t *testing.T) {
	m := Model{IRVersion: 7, Opset: 11, Producer: "test", Graph: Graph{
		Name: "g",
		Nodes: []Node{{Name: "r", Op: "Resize", Inputs: []string{"x", "", "sizes"}, Outputs: []string{"y"},
			Attrs: []Attr{AttrString("mode", "linear"), AttrFloat("alpha", 0.5), AttrInt("axis", -1), AttrInts("perm", 0, 2, 1), AttrFloats("f", 1.5)}}},
		Initializers: []Tensor{
			{Name: "sizes", Dims: []int64{2}, Type: Int64, Ints: []int64{3, -4}},
			{Name: "w", Dims: []int64{1, 2}, Type: Float, Floats: []float32{1.25, -2}},
		},
		Inputs:  []ValueInfo{{Name: "x", Dims: []int64{-1, 3}}},
		Outputs: []ValueInfo{{Name: "y", Dims: []int64{1, 3}}},
	}}
	model := fields(t, m.Marshal())
	if got := model[1]; len(got) != 1 || got[0].(uint64) != 7 {
		t.Errorf("ir_version %v, want 7", got)
	}
	if got := strs(model[2]); fmt.Sprint(got) != "[test]" {
		t.Errorf("producer_name %v", got)
	}
	opset := fields(t, model[8][0].([]byte))
	if len(opset[1]) != 0 || opset[2][0].(uint64) != 11 {
		t.Errorf("opset_import %v, want the default domain at 11", opset)
	}
	graph := fields(t, model[7][0].([]byte))
	if got := strs(graph[2]); fmt.Sprint(got) != "[g]" {
		t.Errorf("graph name %v", got)
	}
	node := fields(t, graph[1][0].([]byte))
	if got := strs(node[1]); fmt.Sprintf("%q", got) != `["x" "" "sizes"]` {
		t.Errorf("node inputs %q: an omitted input must keep its place", got)
	}
	if got := strs(node[4]); fmt.Sprint(got) != "[Resize]" {
		t.Errorf("op_type %v", got)
	}
	attrs := node[5]
	if len(attrs) != 5 {
		t.Fatalf("%d attributes, want 5", len(attrs))
	}
	want := []struct {
		name  string
		typ   uint64
		field protowire.Number
		check func(v any) bool
	}{
		{"mode", 3, 4, func(v any) bool { return string(v.([]byte)) == "linear" }},
		{"alpha", 1, 2, func(v any) bool { return math.Float32frombits(v.(uint32)) == 0.5 }},
		{"axis", 2, 3, func(v any) bool { return int64(v.(uint64)) == -1 }},
		{"perm", 7, 8, func(v any) bool { return fmt.Sprint(v.([]byte)) == "[0 2 1]" }},
		{"f", 6, 7, func(v any) bool { return math.Float32frombits(binary.LittleEndian.Uint32(v.([]byte))) == 1.5 }},
	}
	for i, w := range want {
		a := fields(t, attrs[i].([]byte))
		if strs(a[1])[0] != w.name || a[20][0].(uint64) != w.typ || len(a[w.field]) != 1 || !w.check(a[w.field][0]) {
			t.Errorf("attribute %s: %v", w.name, a)
		}
	}
	if len(graph[5]) != 2 {
		t.Fatalf("%d initializers, want 2", len(graph[5]))
	}
	sizes := fields(t, graph[5][0].([]byte))
	raw := sizes[9][0].([]byte)
	if sizes[2][0].(uint64) != Int64 || len(raw) != 16 || int64(binary.LittleEndian.Uint64(raw[8:])) != -4 {
		t.Errorf("int64 initializer %v", sizes)
	}
	w := fields(t, graph[5][1].([]byte))
	raw = w[9][0].([]byte)
	if w[2][0].(uint64) != Float || fmt.Sprint(w[1][0].([]byte)) != "[1 2]" || math.Float32frombits(binary.LittleEndian.Uint32(raw[4:])) != -2 {
		t.Errorf("float initializer %v", w)
	}
	in := fields(t, graph[11][0].([]byte))
	typ := fields(t, fields(t, in[2][0].([]byte))[1][0].([]byte)) // TypeProto.tensor_type
	if typ[1][0].(uint64) != Float {
		t.Errorf("input elem_type %v", typ[1])
	}
	dims := fields(t, typ[2][0].([]byte))[1]
	first, second := fields(t, dims[0].([]byte)), fields(t, dims[1].([]byte))
	if strs(first[2])[0] != "N" || second[1][0].(uint64) != 3 {
		t.Errorf("input dims %v %v, want N and 3", first, second)
	}
	if len(graph[12]) != 1 {
		t.Errorf("%d outputs, want 1", len(graph[12]))
	}
}
