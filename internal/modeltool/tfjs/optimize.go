package tfjs

import (
	"slices"

	"github.com/vigil-video/vigil/internal/modeltool/onnx"
)

// optimize rewrites the graph in place: a Transpose of a Transpose becomes
// one Transpose (none when they undo each other), a zero Pad of the
// spatial dimensions only feeding a Conv becomes the Conv's pads, and nodes
// and initializers nothing uses are removed.
func optimize(g *onnx.Graph) {
	for changed := true; changed; {
		changed = mergeTransposes(g) || foldPads(g)
		prune(g)
	}
}

func producers(g *onnx.Graph) map[string]*onnx.Node {
	p := map[string]*onnx.Node{}
	for i := range g.Nodes {
		for _, o := range g.Nodes[i].Outputs {
			p[o] = &g.Nodes[i]
		}
	}
	return p
}

func consumers(g *onnx.Graph) map[string]int {
	u := map[string]int{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			u[in]++
		}
	}
	for _, o := range g.Outputs {
		u[o.Name]++
	}
	return u
}

func attrInts(n *onnx.Node, name string) []int64 {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.IntsValue()
		}
	}
	return nil
}

func isOutput(g *onnx.Graph, v string) bool {
	for _, o := range g.Outputs {
		if o.Name == v {
			return true
		}
	}
	return false
}

func mergeTransposes(g *onnx.Graph) bool {
	prod := producers(g)
	changed := false
	rename := map[string]string{}
	for i := range g.Nodes {
		b := &g.Nodes[i]
		if b.Op != "Transpose" {
			continue
		}
		a := prod[b.Inputs[0]]
		if a == nil || a.Op != "Transpose" {
			continue
		}
		pa, pb := attrInts(a, "perm"), attrInts(b, "perm")
		perm := make([]int64, len(pb))
		identity := true
		for k, p := range pb {
			perm[k] = pa[p]
			if perm[k] != int64(k) {
				identity = false
			}
		}
		if identity && !isOutput(g, b.Outputs[0]) {
			rename[b.Outputs[0]] = a.Inputs[0]
			b.Op = "" // removed by prune once unused
		} else {
			b.Inputs[0] = a.Inputs[0]
			b.Attrs = []onnx.Attr{onnx.AttrInts("perm", perm...)}
		}
		changed = true
	}
	renameInputs(g, rename)
	return changed
}

func renameInputs(g *onnx.Graph, rename map[string]string) {
	if len(rename) == 0 {
		return
	}
	for i := range g.Nodes {
		for k, in := range g.Nodes[i].Inputs {
			for {
				r, ok := rename[in]
				if !ok {
					break
				}
				in = r
			}
			g.Nodes[i].Inputs[k] = in
		}
	}
}

func initializer(g *onnx.Graph, name string) *onnx.Tensor {
	for i := range g.Initializers {
		if g.Initializers[i].Name == name {
			return &g.Initializers[i]
		}
	}
	return nil
}

func foldPads(g *onnx.Graph) bool {
	prod := producers(g)
	uses := consumers(g)
	changed := false
	for i := range g.Nodes {
		conv := &g.Nodes[i]
		if conv.Op != "Conv" {
			continue
		}
		pad := prod[conv.Inputs[0]]
		if pad == nil || pad.Op != "Pad" || uses[pad.Outputs[0]] != 1 || len(pad.Inputs) < 2 {
			continue
		}
		p := initializer(g, pad.Inputs[1])
		if p == nil || len(p.Ints) != 8 || p.Ints[0] != 0 || p.Ints[1] != 0 || p.Ints[4] != 0 || p.Ints[5] != 0 {
			continue
		}
		if len(pad.Inputs) > 2 && pad.Inputs[2] != "" {
			v := initializer(g, pad.Inputs[2])
			if v == nil || len(v.Floats) != 1 || v.Floats[0] != 0 {
				continue
			}
		}
		pads := slices.Clone(attrInts(conv, "pads")) // h0 w0 h1 w1
		pads[0] += p.Ints[2]
		pads[1] += p.Ints[3]
		pads[2] += p.Ints[6]
		pads[3] += p.Ints[7]
		for k, a := range conv.Attrs {
			if a.Name == "pads" {
				conv.Attrs[k] = onnx.AttrInts("pads", pads...)
			}
		}
		conv.Inputs[0] = pad.Inputs[0]
		changed = true
	}
	return changed
}

// prune removes nodes whose outputs nothing uses, and unused initializers.
func prune(g *onnx.Graph) {
	for {
		uses := consumers(g)
		kept := g.Nodes[:0]
		for _, n := range g.Nodes {
			used := false
			for _, o := range n.Outputs {
				used = used || uses[o] > 0
			}
			if used && n.Op != "" {
				kept = append(kept, n)
			}
		}
		removed := len(kept) != len(g.Nodes)
		g.Nodes = kept
		if !removed {
			break
		}
	}
	uses := consumers(g)
	inits := g.Initializers[:0]
	for _, t := range g.Initializers {
		if uses[t.Name] > 0 {
			inits = append(inits, t)
		}
	}
	g.Initializers = inits
}
