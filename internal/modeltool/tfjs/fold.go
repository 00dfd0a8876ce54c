package tfjs

import (
	"fmt"
	"slices"
)

// fold evaluates a node whose inputs are all constants. It returns nil
// (and no error) for an op it does not evaluate: that node is converted
// as usual, with constant inputs.
func (c *converter) fold(n *node, in []string) (*tensor, error) {
	args := make([]*tensor, len(in))
	for i, v := range in {
		args[i] = c.constOf(v)
	}
	switch n.Op {
	case "Identity":
		return args[0], nil
	case "Add", "AddV2", "Sub", "Mul":
		return foldBinary(n.Op, args[0], args[1])
	case "SparseToDense":
		return foldSparseToDense(args)
	}
	return nil, nil
}

func foldBinary(op string, a, b *tensor) (*tensor, error) {
	if a.isInt != b.isInt {
		return nil, fmt.Errorf("integer and float operands")
	}
	shape, err := broadcast(a.shape, b.shape)
	if err != nil {
		return nil, err
	}
	n := numel(shape)
	if numel(a.shape) != n && numel(a.shape) != 1 || numel(b.shape) != n && numel(b.shape) != 1 {
		return nil, nil // general broadcasting: left to the runtime
	}
	at := func(t *tensor, k int64) (int64, float32) {
		if numel(t.shape) == 1 {
			k = 0
		}
		if t.isInt {
			return t.i[k], 0
		}
		return 0, t.f[k]
	}
	out := &tensor{shape: shape, isInt: a.isInt}
	for k := range n {
		ai, af := at(a, k)
		bi, bf := at(b, k)
		switch op {
		case "Sub":
			ai, af = ai-bi, af-bf
		case "Mul":
			ai, af = ai*bi, af*bf
		default:
			ai, af = ai+bi, af+bf
		}
		if out.isInt {
			out.i = append(out.i, ai)
		} else {
			out.f = append(out.f, af)
		}
	}
	return out, nil
}

// foldSparseToDense is TF's SparseToDense(indices, output_shape, values,
// default_value).
func foldSparseToDense(args []*tensor) (*tensor, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("%d inputs, want 4", len(args))
	}
	idx, shapeT, vals, def := args[0], args[1], args[2], args[3]
	if !shapeT.isInt || !idx.isInt {
		return nil, fmt.Errorf("indices and output_shape must be integers")
	}
	if def.isInt != vals.isInt || len(def.i)+len(def.f) != 1 {
		return nil, fmt.Errorf("default_value must be one value of the type of values")
	}
	for _, d := range shapeT.i {
		if d < 0 || d > 1<<20 {
			return nil, fmt.Errorf("output_shape %v out of range", shapeT.i)
		}
	}
	shape := slices.Clone(shapeT.i)
	out := &tensor{shape: shape, isInt: vals.isInt}
	n := numel(shape)
	if n > 1<<24 {
		return nil, fmt.Errorf("output_shape %v too large", shape)
	}
	if out.isInt {
		out.i = make([]int64, n)
		for k := range out.i {
			out.i[k] = def.i[0]
		}
	} else {
		out.f = make([]float32, n)
		for k := range out.f {
			out.f[k] = def.f[0]
		}
	}
	rank := int64(len(shape))
	count := int64(1)
	if len(idx.shape) > 0 {
		count = idx.shape[0]
	}
	if len(idx.shape) == 2 && idx.shape[1] != rank || len(idx.shape) < 2 && rank != 1 || len(idx.shape) > 2 || int64(len(idx.i)) != count*rank {
		return nil, fmt.Errorf("indices of shape %v for an output of rank %d", idx.shape, rank)
	}
	if nv := int64(len(vals.i) + len(vals.f)); nv != 1 && nv != count {
		return nil, fmt.Errorf("%d values for %d indices", nv, count)
	}
	for k := range count {
		var flat int64
		for d := range rank {
			v := idx.i[k*rank+d]
			if v < 0 || v >= shape[d] {
				return nil, fmt.Errorf("index %d out of range %d", v, shape[d])
			}
			flat = flat*shape[d] + v
		}
		j := k
		if len(vals.i)+len(vals.f) == 1 {
			j = 0
		}
		if out.isInt {
			out.i[flat] = vals.i[j]
		} else {
			out.f[flat] = vals.f[j]
		}
	}
	return out, nil
}
