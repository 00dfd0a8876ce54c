package tfjs

import (
	"fmt"
	"math"
	"slices"

	"github.com/vigil-video/vigil/internal/modeltool/onnx"
)

// QuantOpset is the operator set of a quantized model: per-channel
// DequantizeLinear needs 13.
const QuantOpset = 13

// CalibrationModel returns a copy of m whose outputs also hold every
// Conv's data input and output, and their names: running it on pictures
// gives the ranges Quantize needs.
func CalibrationModel(m *onnx.Model) (*onnx.Model, []string) {
	c := *m
	c.Graph.Outputs = slices.Clone(m.Graph.Outputs)
	seen := map[string]bool{}
	for _, o := range m.Graph.Outputs {
		seen[o.Name] = true
	}
	var names []string
	for _, n := range m.Graph.Nodes {
		if n.Op != "Conv" {
			continue
		}
		for _, v := range []string{n.Inputs[0], n.Outputs[0]} {
			if !seen[v] {
				seen[v] = true
				names = append(names, v)
				c.Graph.Outputs = append(c.Graph.Outputs, onnx.ValueInfo{Name: v, Unshaped: true})
			}
		}
	}
	return &c, names
}

// weightMax is the largest 8-bit weight: ±63 (7 bits signed), not ±127.
// x86 CPUs without VNNI multiply uint8 by int8 in pairs summed into 16
// bits (vpmaddubsw), which 255 × 127 × 2 overflows; 255 × 63 × 2 does not
// (ONNX Runtime's "reduce_range"). The model is then right on any CPU.
const weightMax = 63

// coarse rounds v ≥ 0 up to 6 significant bits, so that ranges measured
// on CPUs whose float arithmetic differs in its last bits give the same
// scales, hence the same model.
func coarse(v float32) float32 {
	if v <= 0 {
		return 0
	}
	step := math.Ldexp(1, math.Ilogb(float64(v))-5)
	return float32(math.Ceil(float64(v)/step) * step)
}

// Range is the least and greatest value a tensor took on calibration.
type Range struct{ Min, Max float32 }

// Quantize returns m with its convolutions in 8 bits, in ONNX's QDQ form
// (ONNX Runtime runs a DequantizeLinear → Conv → QuantizeLinear group as
// one integer convolution): weights int8 per output channel, symmetric,
// at most ±weightMax;
// each Conv's input and output uint8 per tensor, scaled by the ranges
// taken on calibration (CalibrationModel); biases int32. The heads (see
// heads) and every operator but Conv stay in float, between a
// DequantizeLinear and a QuantizeLinear. Its operator set is QuantOpset.
func Quantize(m *onnx.Model, ranges map[string]Range) (*onnx.Model, error) {
	g := m.Graph
	out := onnx.Graph{Name: g.Name, Inputs: g.Inputs, Outputs: g.Outputs}
	inits := map[string]*onnx.Tensor{}
	for i := range g.Initializers {
		inits[g.Initializers[i].Name] = &g.Initializers[i]
	}
	used := map[string]bool{}
	var newInits []onnx.Tensor
	scalar := func(name string, typ int32, f float32, i int64) string {
		t := onnx.Tensor{Name: name, Type: typ}
		if typ == onnx.Float {
			t.Floats = []float32{f}
		} else {
			t.Ints = []int64{i}
		}
		newInits = append(newInits, t)
		return name
	}
	// act gives a value's uint8 scale and zero point.
	act := func(v string) (scale float32, zp int64, err error) {
		r, ok := ranges[v]
		if !ok {
			return 0, 0, fmt.Errorf("no calibration range for %q", v)
		}
		if !finite(r.Min) || !finite(r.Max) {
			return 0, 0, fmt.Errorf("calibration range of %q is [%g, %g], not finite", v, r.Min, r.Max)
		}
		lo, hi := -coarse(-min(r.Min, 0)), coarse(max(r.Max, 0))
		if hi-lo < 1e-6 {
			hi = lo + 1e-6
		}
		scale = (hi - lo) / 255
		zp = int64(math.Round(float64(-lo / scale)))
		return scale, min(max(zp, 0), 255), nil
	}
	// qdq emits QuantizeLinear then DequantizeLinear of v, returning the
	// dequantized value's name.
	type qv struct {
		dq    string
		scale float32
	}
	done := map[string]qv{} // by the value quantized
	byDQ := map[string]qv{} // by its dequantized copy
	qdq := func(v string) (string, float32, error) {
		if d, ok := done[v]; ok {
			return d.dq, d.scale, nil
		}
		s, zp, err := act(v)
		if err != nil {
			return "", 0, err
		}
		sn := scalar(v+"/q_scale", onnx.Float, s, 0)
		zn := scalar(v+"/q_zero", onnx.Uint8, 0, zp)
		q, dq := v+"/q", v+"/dq"
		out.Nodes = append(out.Nodes,
			onnx.Node{Name: q, Op: "QuantizeLinear", Inputs: []string{v, sn, zn}, Outputs: []string{q}},
			onnx.Node{Name: dq, Op: "DequantizeLinear", Inputs: []string{q, sn, zn}, Outputs: []string{dq}})
		done[v] = qv{dq, s}
		byDQ[dq] = done[v]
		return dq, s, nil
	}
	head := heads(g.Nodes)
	rename := map[string]string{} // a Conv's output → its dequantized copy
	for _, n := range g.Nodes {
		n.Inputs = slices.Clone(n.Inputs)
		for i, in := range n.Inputs {
			if r, ok := rename[in]; ok {
				n.Inputs[i] = r
			}
		}
		switch n.Op {
		case "Split":
			// Opset 13 takes the sizes as an input.
			for i, a := range n.Attrs {
				if a.Name == "split" {
					name := n.Name + "/split"
					newInits = append(newInits, onnx.Tensor{Name: name, Type: onnx.Int64, Dims: []int64{int64(len(a.IntsValue()))}, Ints: a.IntsValue()})
					n.Inputs = append(n.Inputs, name)
					n.Attrs = slices.Delete(slices.Clone(n.Attrs), i, i+1)
					break
				}
			}
		case "Conv":
			w := inits[n.Inputs[1]]
			if w == nil || w.Type != onnx.Float || len(w.Dims) != 4 || head[n.Name] {
				out.Nodes = append(out.Nodes, n)
				continue
			}
			x := n.Inputs[0]
			var sx float32
			if d, ok := byDQ[x]; ok { // another Conv's quantized output
				sx = d.scale
			} else {
				dq, s, err := qdq(x)
				if err != nil {
					return nil, err
				}
				x, sx = dq, s
			}
			var b *onnx.Tensor
			if len(n.Inputs) > 2 && n.Inputs[2] != "" {
				if b = inits[n.Inputs[2]]; b == nil || b.Type != onnx.Float {
					return nil, fmt.Errorf("conv %q: bias %q is not a constant float tensor", n.Name, n.Inputs[2])
				}
			}
			co := w.Dims[0]
			if b != nil && int64(len(b.Floats)) != co {
				return nil, fmt.Errorf("conv %q: bias %q has %d values for %d channels", n.Name, n.Inputs[2], len(b.Floats), co)
			}
			per := int64(len(w.Floats)) / co
			wq := onnx.Tensor{Name: n.Inputs[1] + "/int8", Type: onnx.Int8, Dims: w.Dims, Ints: make([]int64, len(w.Floats))}
			ws := onnx.Tensor{Name: n.Inputs[1] + "/scale", Type: onnx.Float, Dims: []int64{co}, Floats: make([]float32, co)}
			wz := onnx.Tensor{Name: n.Inputs[1] + "/zero", Type: onnx.Int8, Dims: []int64{co}, Ints: make([]int64, co)}
			for o := range co {
				var m float32
				for _, f := range w.Floats[o*per : (o+1)*per] {
					m = max(m, float32(math.Abs(float64(f))))
				}
				s := max(m/weightMax, 1e-12)
				if b != nil {
					// The bias in int32 at scale sx·s: at most 2³⁰ in size
					// (a channel of tiny weights and a large bias).
					s = max(s, float32(math.Abs(float64(b.Floats[o])))/(sx*(1<<30)))
				}
				ws.Floats[o] = s
				for k, f := range w.Floats[o*per : (o+1)*per] {
					wq.Ints[o*per+int64(k)] = int64(min(max(math.Round(float64(f/s)), -weightMax), weightMax))
				}
			}
			newInits = append(newInits, wq, ws, wz)
			wdq := n.Inputs[1] + "/dq"
			out.Nodes = append(out.Nodes, onnx.Node{Name: wdq, Op: "DequantizeLinear",
				Inputs: []string{wq.Name, ws.Name, wz.Name}, Outputs: []string{wdq}, Attrs: []onnx.Attr{onnx.AttrInt("axis", 0)}})
			inputs := []string{x, wdq}
			if b != nil {
				bq := onnx.Tensor{Name: n.Inputs[2] + "/int32", Type: onnx.Int32, Dims: b.Dims, Ints: make([]int64, len(b.Floats))}
				bs := onnx.Tensor{Name: n.Inputs[2] + "/scale", Type: onnx.Float, Dims: []int64{co}, Floats: make([]float32, co)}
				bz := onnx.Tensor{Name: n.Inputs[2] + "/zero", Type: onnx.Int32, Dims: []int64{co}, Ints: make([]int64, co)}
				for o := range co {
					bs.Floats[o] = sx * ws.Floats[o]
					bq.Ints[o] = int64(math.Round(float64(b.Floats[o] / bs.Floats[o])))
				}
				newInits = append(newInits, bq, bs, bz)
				bdq := n.Inputs[2] + "/dq"
				out.Nodes = append(out.Nodes, onnx.Node{Name: bdq, Op: "DequantizeLinear",
					Inputs: []string{bq.Name, bs.Name, bz.Name}, Outputs: []string{bdq}, Attrs: []onnx.Attr{onnx.AttrInt("axis", 0)}})
				inputs = append(inputs, bdq)
			}
			n.Inputs = inputs
			out.Nodes = append(out.Nodes, n)
			y := n.Outputs[0]
			dq, _, err := qdq(y)
			if err != nil {
				return nil, err
			}
			rename[y] = dq
			continue
		}
		out.Nodes = append(out.Nodes, n)
	}
	for _, o := range out.Outputs {
		if _, ok := rename[o.Name]; ok {
			return nil, fmt.Errorf("output %q is a Conv's output", o.Name)
		}
	}
	for _, n := range out.Nodes {
		for _, in := range n.Inputs {
			used[in] = true
		}
	}
	for _, t := range g.Initializers {
		if used[t.Name] {
			out.Initializers = append(out.Initializers, t)
		}
	}
	out.Initializers = append(out.Initializers, newInits...)
	q := *m
	q.Opset = QuantOpset
	q.Graph = out
	return &q, nil
}

// heads are the Convs no other Conv follows: the detection heads, whose
// outputs are the scores and the boxes. They stay in float (their input,
// another Conv's output, still passes through 8 bits), for 7% of the
// time saved: on the corpus of BENCHMARKS.md ("NanoDet in 8 bits", weights
// of ±127), people found at min_score 0.4 were 215 of 234 with them in 8
// bits, 217 without, 219 in float.
func heads(nodes []onnx.Node) map[string]bool {
	feedsConv := map[string]bool{} // values some Conv reads, directly or later
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		f := n.Op == "Conv"
		for _, o := range n.Outputs {
			f = f || feedsConv[o]
		}
		if f {
			for _, in := range n.Inputs {
				feedsConv[in] = true
			}
		}
	}
	h := map[string]bool{}
	for _, n := range nodes {
		if n.Op == "Conv" && !feedsConv[n.Outputs[0]] {
			h[n.Name] = true
		}
	}
	return h
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }
