// Package onnx writes ONNX models: the subset of onnx.proto (ModelProto,
// GraphProto, NodeProto, TensorProto, AttributeProto, ValueInfoProto) that
// a converted feed-forward network needs, hand-encoded with protowire.
// Field numbers follow onnx/onnx.proto of ONNX 1.x.
package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Element types of TensorProto.DataType.
const (
	Float   = 1
	Uint8   = 2
	Int8    = 3
	Float16 = 10
	Int32   = 6
	Int64   = 7
)

// Model is a ModelProto with one graph and the default operator set.
type Model struct {
	IRVersion int64 // e.g. 7
	Opset     int64 // version of the default ("ai.onnx") domain, e.g. 11
	Producer  string
	Graph     Graph
	// Metadata are the model's metadata_props (key, value), in order;
	// none are written when it is empty.
	Metadata [][2]string
}

// Graph is a GraphProto.
type Graph struct {
	Name         string
	Nodes        []Node
	Initializers []Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Node is a NodeProto; an empty input name is an omitted optional input.
type Node struct {
	Name    string
	Op      string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// Tensor is a TensorProto holding float32, int8, uint8, int32 or int64
// values.
type Tensor struct {
	Name   string
	Dims   []int64
	Floats []float32 // when Type is Float
	Ints   []int64   // when Type is Int8, Uint8, Int32 or Int64
	Type   int32
}

// ValueInfo is a ValueInfoProto of a float tensor of static shape (a
// negative dimension is left symbolic as "N"), or of a shape left to the
// runtime when Unshaped.
type ValueInfo struct {
	Name     string
	Dims     []int64
	Type     int32
	Unshaped bool
}

// Attr is an AttributeProto: exactly one of its values is used, chosen by
// which constructor made it.
type Attr struct {
	Name   string
	kind   int32
	f      float32
	i      int64
	s      string
	ints   []int64
	floats []float32
}

// Attribute types of AttributeProto.AttributeType.
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrFloats = 6
	attrInts   = 7
)

// AttrFloat is a float attribute.
func AttrFloat(name string, v float32) Attr { return Attr{Name: name, kind: attrFloat, f: v} }

// AttrInt is an integer attribute.
func AttrInt(name string, v int64) Attr { return Attr{Name: name, kind: attrInt, i: v} }

// AttrString is a string attribute.
func AttrString(name, v string) Attr { return Attr{Name: name, kind: attrString, s: v} }

// AttrInts is a list of integers.
func AttrInts(name string, v ...int64) Attr { return Attr{Name: name, kind: attrInts, ints: v} }

// AttrFloats is a list of floats.
func AttrFloats(name string, v ...float32) Attr { return Attr{Name: name, kind: attrFloats, floats: v} }

// Marshal encodes the model as an ONNX protobuf file.
func (m *Model) Marshal() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(m.IRVersion))
	b = appendString(b, 2, m.Producer)
	b = appendMessage(b, 7, m.Graph.marshal())
	var op []byte
	op = appendString(op, 1, "")
	op = protowire.AppendTag(op, 2, protowire.VarintType)
	op = protowire.AppendVarint(op, uint64(m.Opset))
	b = appendMessage(b, 8, op)
	for _, kv := range m.Metadata {
		var e []byte
		e = appendString(e, 1, kv[0])
		e = appendString(e, 2, kv[1])
		b = appendMessage(b, 14, e)
	}
	return b
}

func (g *Graph) marshal() []byte {
	var b []byte
	for i := range g.Nodes {
		b = appendMessage(b, 1, g.Nodes[i].marshal())
	}
	b = appendString(b, 2, g.Name)
	for i := range g.Initializers {
		b = appendMessage(b, 5, g.Initializers[i].marshal())
	}
	for _, v := range g.Inputs {
		b = appendMessage(b, 11, v.marshal())
	}
	for _, v := range g.Outputs {
		b = appendMessage(b, 12, v.marshal())
	}
	return b
}

func (n *Node) marshal() []byte {
	var b []byte
	for _, in := range n.Inputs { // empty names keep their position
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, in)
	}
	for _, out := range n.Outputs {
		b = appendString(b, 2, out)
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.Op)
	for _, a := range n.Attrs {
		b = appendMessage(b, 5, a.marshal())
	}
	return b
}

func (a *Attr) marshal() []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	switch a.kind {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.i))
	case attrString:
		b = appendString(b, 4, a.s)
	case attrFloats:
		var p []byte
		for _, f := range a.floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMessage(b, 7, p)
	case attrInts:
		var p []byte
		for _, v := range a.ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMessage(b, 8, p)
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.kind))
	return b
}

func (t *Tensor) marshal() []byte {
	var b []byte
	if len(t.Dims) > 0 {
		var p []byte
		for _, d := range t.Dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendMessage(b, 1, p)
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Type))
	b = appendString(b, 8, t.Name)
	var raw []byte
	switch t.Type {
	case Float:
		raw = make([]byte, 4*len(t.Floats))
		for i, f := range t.Floats {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
		}
	case Int8, Uint8:
		raw = make([]byte, len(t.Ints))
		for i, v := range t.Ints {
			raw[i] = byte(v)
		}
	case Int32:
		raw = make([]byte, 4*len(t.Ints))
		for i, v := range t.Ints {
			binary.LittleEndian.PutUint32(raw[4*i:], uint32(int32(v)))
		}
	case Int64:
		raw = make([]byte, 8*len(t.Ints))
		for i, v := range t.Ints {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	b = protowire.AppendBytes(b, raw)
	return b
}

func (v *ValueInfo) marshal() []byte {
	var shape []byte
	for _, d := range v.Dims {
		var dim []byte
		if d < 0 {
			dim = appendString(dim, 2, "N")
		} else {
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		}
		shape = appendMessage(shape, 1, dim)
	}
	typ := v.Type
	if typ == 0 {
		typ = Float
	}
	var tensor []byte
	tensor = protowire.AppendTag(tensor, 1, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, uint64(typ))
	if !v.Unshaped {
		tensor = appendMessage(tensor, 2, shape)
	}
	var b []byte
	b = appendString(b, 1, v.Name)
	b = appendMessage(b, 2, appendMessage(nil, 1, tensor))
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// IntsValue is the value of an AttrInts attribute (nil for another kind).
func (a Attr) IntsValue() []int64 {
	if a.kind != attrInts {
		return nil
	}
	return a.ints
}
