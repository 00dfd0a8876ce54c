package tfjs

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-video/vigil/internal/modeltool/onnx"
)

// Opset is the ONNX operator set the converter writes: 11 is read by
// OpenCV 4.6's importer (Split and Pad with their version-11 forms) and by
// every ONNX Runtime.
const Opset = 11

// ConvertFile converts the TF.js graph model at jsonPath (its weight shards
// beside it) and writes the ONNX model to onnxPath, atomically (a temporary
// file renamed into place).
func ConvertFile(jsonPath, onnxPath string) error {
	return ConvertFileWith(jsonPath, onnxPath, Options{})
}

// Options change a conversion.
type Options struct {
	// Batch, when over 1, is the first dimension of the graph's inputs
	// instead of their own 1 (a Reshape to a shape whose first dimension
	// is 1, of a value whose first is Batch, keeps Batch): the model then
	// takes Batch pictures per call. Graphs whose inputs are not of batch
	// 1 are refused. The batch is recognized by its size, not traced
	// through the graph: a Reshape that folds it into another dimension,
	// or a value whose first dimension is Batch by chance, comes out
	// wrong. It is for measuring (nn's BenchmarkBatch on NanoDet, whose
	// outputs it checks picture by picture), not for the engine.
	Batch int
	// Input, when set, is the side of the square picture the model reads
	// instead of its graph's (NanoDet's 416): the graph's input must be a
	// square picture of 3 planes (NCHW or NHWC), and Input a multiple of its largest stride
	// (32). The sizes the graph holds as constants follow: a resize's
	// output scaled by Input over the graph's side, a reshape's dimension
	// of positions by its square. Like Batch, recognized by size, not
	// traced: for measuring.
	Input int
}

// ConvertFileWith is ConvertFile with o.
func ConvertFileWith(jsonPath, onnxPath string, o Options) error {
	m, err := ConvertWith(jsonPath, o)
	if err != nil {
		return err
	}
	return WriteFile(m, onnxPath)
}

// WriteFile writes m to path whole or not at all (a temporary file
// renamed into place).
func WriteFile(m *onnx.Model, path string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, m.Marshal(), 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Convert converts the TF.js graph model at jsonPath into an ONNX model.
// The graph inputs are its Placeholders (static shapes), the outputs those
// its signature names (else the nodes nothing consumes), sorted by name.
// Constant subgraphs are folded; Conv2D followed by the Add of a bias
// becomes one Conv with bias; NHWC ops become NCHW ONNX ops between
// Transposes, and Transposes that undo each other are removed.
func Convert(jsonPath string) (*onnx.Model, error) { return ConvertWith(jsonPath, Options{}) }

// ConvertWith is Convert with o.
func ConvertWith(jsonPath string, o Options) (*onnx.Model, error) {
	gm, weights, err := load(jsonPath)
	if err != nil {
		return nil, err
	}
	return build(jsonPath, gm, weights, o)
}

// build converts a parsed model (named jsonPath in errors).
func build(jsonPath string, gm *graphModel, weights map[string]*tensor, o Options) (*onnx.Model, error) {
	if o.Batch < 0 {
		return nil, fmt.Errorf("batch %d is negative", o.Batch)
	}
	if o.Input < 0 || o.Input%32 != 0 {
		return nil, fmt.Errorf("input %d is not a positive multiple of 32", o.Input)
	}
	c := &converter{
		batch:  int64(max(o.Batch, 1)),
		side:   int64(o.Input),
		nodes:  map[string]*node{},
		consts: map[string]*tensor{},
		shapes: map[string][]int64{},
		alias:  map[string]string{},
		bias:   map[string]*tensor{},
		fused:  map[string]bool{},
		inits:  map[string]bool{},
	}
	for _, n := range gm.ModelTopology.Node {
		if n == nil {
			return nil, fmt.Errorf("%s: null node", jsonPath)
		}
		if _, dup := c.nodes[n.Name]; dup {
			return nil, fmt.Errorf("%s: node %q twice", jsonPath, n.Name)
		}
		c.nodes[n.Name] = n
		if n.Op == "Const" {
			w, ok := weights[n.Name]
			if !ok {
				return nil, fmt.Errorf("%s: constant %q not in the weights manifest", jsonPath, n.Name)
			}
			c.consts[n.Name] = w
		}
	}
	var outputs []string
	for k := range gm.Signature.Outputs {
		outputs = append(outputs, valueName(k))
	}
	if len(outputs) == 0 {
		consumed := map[string]bool{}
		for _, n := range gm.ModelTopology.Node {
			for _, in := range n.Input {
				consumed[nodeName(in)] = true
			}
		}
		for _, n := range gm.ModelTopology.Node {
			if !consumed[n.Name] && n.Op != "Const" {
				outputs = append(outputs, n.Name)
			}
		}
	}
	sort.Strings(outputs)
	order, err := c.topo(outputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", jsonPath, err)
	}
	c.fuseBias(order, outputs)
	for _, n := range order {
		if err := c.convert(n); err != nil {
			return nil, fmt.Errorf("%s: node %q (%s): %w", jsonPath, n.Name, n.Op, err)
		}
	}
	for _, o := range outputs {
		name := c.value(o)
		if name != o {
			c.emit("Identity", []string{name}, []string{o})
			c.shapes[o] = c.shapes[name]
		}
		c.g.Outputs = append(c.g.Outputs, onnx.ValueInfo{Name: o, Dims: c.shapes[o]})
	}
	optimize(&c.g)
	// The producer keeps the package's first path, so that the model
	// scripts/models.sh writes stays the same file, byte for byte.
	return &onnx.Model{IRVersion: 7, Opset: Opset, Producer: "vigil nn/tfjs", Graph: c.g}, nil
}

type converter struct {
	batch  int64 // the inputs' first dimension (Options.Batch)
	nodes  map[string]*node
	consts map[string]*tensor // by value name
	shapes map[string][]int64 // by value name, of every emitted value
	alias  map[string]string  // a fused node's value → the value standing for it
	bias   map[string]*tensor // Conv2D node → bias folded into it
	fused  map[string]bool    // bias Adds folded into their Conv2D
	inits  map[string]bool    // constants already written as initializers
	g      onnx.Graph
	seq    int
	// side is Options.Input (0: the graph's), from the graph's own side
	// (set at its input).
	side, from int64
}

// nodeName is the node an input refers to ("x:1" → "x", "^x" → "x").
func nodeName(in string) string {
	in = strings.TrimPrefix(in, "^")
	if i := strings.LastIndexByte(in, ':'); i >= 0 {
		return in[:i]
	}
	return in
}

// valueName is an input's value name: "x:0" and "x" are "x", "x:1" stays.
func valueName(in string) string {
	return strings.TrimSuffix(in, ":0")
}

func (c *converter) topo(outputs []string) ([]*node, error) {
	var order []*node
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("cycle through node %q", name)
		case 2:
			return nil
		}
		n, ok := c.nodes[name]
		if !ok {
			return fmt.Errorf("input %q: no such node", name)
		}
		state[name] = 1
		for _, in := range n.Input {
			if strings.HasPrefix(in, "^") {
				continue
			}
			if err := visit(nodeName(in)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, n)
		return nil
	}
	for _, o := range outputs {
		if err := visit(nodeName(o)); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// fuseBias marks each Add of a 1-D constant whose other input is a Conv2D
// consumed by nothing else, so that the bias goes into the Conv.
func (c *converter) fuseBias(order []*node, outputs []string) {
	uses := map[string]int{}
	for _, n := range order {
		for _, in := range n.Input {
			uses[valueName(in)]++
		}
	}
	for _, o := range outputs {
		uses[o]++
	}
	for _, n := range order {
		if (n.Op != "Add" && n.Op != "AddV2" && n.Op != "BiasAdd") || len(n.Input) != 2 || uses[n.Name] == 0 {
			continue
		}
		conv, ok := c.nodes[nodeName(n.Input[0])]
		b := c.consts[valueName(n.Input[1])]
		if !ok || conv.Op != "Conv2D" || b == nil || b.isInt || len(b.shape) != 1 || uses[conv.Name] != 1 || c.bias[conv.Name] != nil {
			continue
		}
		if df, _ := conv.str("data_format"); df != "" && df != "NHWC" && n.Op != "BiasAdd" {
			continue // an NCHW output broadcasts a 1-D bias over W, not C
		}
		if len(conv.Input) < 2 {
			continue // a Conv2D without its filter: the conversion refuses it later
		}
		w := c.consts[valueName(conv.Input[1])]
		if w == nil || len(w.shape) != 4 || w.shape[3] != b.shape[0] {
			continue
		}
		c.bias[conv.Name] = b
		c.fused[n.Name] = true
	}
}

// value is the ONNX value standing for a TF input.
func (c *converter) value(in string) string {
	v := valueName(in)
	for {
		a, ok := c.alias[v]
		if !ok {
			return v
		}
		v = a
	}
}

// constOf is the constant an input holds, or nil.
func (c *converter) constOf(in string) *tensor {
	return c.consts[c.value(in)]
}

// input is the ONNX value of a TF input, writing a constant as an
// initializer the first time it is used.
func (c *converter) input(in string) string {
	v := c.value(in)
	if t, ok := c.consts[v]; ok && !c.inits[v] {
		c.inits[v] = true
		c.addInit(v, t, t.isInt)
	}
	return v
}

func (c *converter) addInit(name string, t *tensor, isInt bool) {
	ot := onnx.Tensor{Name: name, Dims: t.shape}
	switch {
	case !isInt:
		ot.Type = onnx.Float
		ot.Floats = t.f
		if t.isInt {
			ot.Floats = make([]float32, len(t.i))
			for i, v := range t.i {
				ot.Floats[i] = float32(v)
			}
		}
	default:
		ot.Type = onnx.Int64
		ot.Ints = t.i
	}
	c.g.Initializers = append(c.g.Initializers, ot)
	c.shapes[name] = t.shape
}

// constant writes a new initializer and returns its name.
func (c *converter) constant(hint string, t *tensor) string {
	c.seq++
	name := fmt.Sprintf("%s/const_%d", hint, c.seq)
	c.addInit(name, t, t.isInt)
	c.inits[name] = true
	return name
}

func (c *converter) emit(op string, inputs, outputs []string, attrs ...onnx.Attr) {
	c.seq++
	c.g.Nodes = append(c.g.Nodes, onnx.Node{
		Name: fmt.Sprintf("%s_%d", op, c.seq), Op: op, Inputs: inputs, Outputs: outputs, Attrs: attrs,
	})
}

// tmp is a fresh intermediate value name.
func (c *converter) tmp(base string) string {
	c.seq++
	return fmt.Sprintf("%s/tmp_%d", base, c.seq)
}

// transpose emits a Transpose of value v and returns its output.
func (c *converter) transpose(v string, perm []int64, out string) string {
	if out == "" {
		out = c.tmp(v)
	}
	c.emit("Transpose", []string{v}, []string{out}, onnx.AttrInts("perm", perm...))
	in := c.shapes[v]
	s := make([]int64, len(perm))
	for i, p := range perm {
		s[i] = in[p]
	}
	c.shapes[out] = s
	return out
}

var (
	toNCHW = []int64{0, 3, 1, 2}
	toNHWC = []int64{0, 2, 3, 1}
)

// dataInputs are the non-control inputs of a node.
func dataInputs(n *node) []string {
	var out []string
	for _, in := range n.Input {
		if !strings.HasPrefix(in, "^") {
			out = append(out, in)
		}
	}
	return out
}

func (c *converter) convert(n *node) error {
	in := dataInputs(n)
	if n.Op == "Const" || c.fused[n.Name] {
		if c.fused[n.Name] {
			c.alias[n.Name] = valueName(in[0])
		}
		return nil
	}
	if n.Op == "Placeholder" {
		a, ok := n.Attr["shape"]
		if !ok || a.Shape == nil {
			return fmt.Errorf("no static shape")
		}
		var dims []int64
		for _, d := range a.Shape.Dim {
			if d.Size < 1 {
				return fmt.Errorf("dimension %d is not static (the converter needs static shapes)", d.Size)
			}
			dims = append(dims, int64(d.Size))
		}
		if c.batch > 1 {
			if len(dims) == 0 || dims[0] != 1 {
				return fmt.Errorf("batch %d: the input's shape %v does not start with a batch of 1", c.batch, dims)
			}
			dims[0] = c.batch
		}
		if c.side > 0 {
			switch {
			case len(dims) == 4 && dims[1] == 3 && dims[2] == dims[3]: // NCHW
				c.from = dims[2]
				dims[2], dims[3] = c.side, c.side
			case len(dims) == 4 && dims[3] == 3 && dims[1] == dims[2]: // NHWC
				c.from = dims[1]
				dims[1], dims[2] = c.side, c.side
			default:
				return fmt.Errorf("input %d: the input's shape %v is not a square picture of 3 planes", c.side, dims)
			}
		}
		c.g.Inputs = append(c.g.Inputs, onnx.ValueInfo{Name: n.Name, Dims: dims})
		c.shapes[n.Name] = dims
		return nil
	}
	for _, i := range in {
		v := c.value(i)
		if _, ok := c.shapes[v]; !ok && c.consts[v] == nil {
			return fmt.Errorf("input %q: no such value", i)
		}
	}
	if want, ok := arity[n.Op]; ok && (len(in) < want || n.Op != "ConcatV2" && len(in) > want) {
		return fmt.Errorf("%d inputs, want %d", len(in), want)
	}
	allConst := len(in) > 0
	for _, i := range in {
		if c.constOf(i) == nil {
			allConst = false
		}
	}
	if allConst {
		t, err := c.fold(n, in)
		if err != nil {
			return err
		}
		if t != nil {
			c.consts[n.Name] = t
			return nil
		}
	}
	conv, ok := ops[n.Op]
	if !ok {
		return fmt.Errorf("unsupported op %s", n.Op)
	}
	return conv(c, n, in)
}

// arity is the number of data inputs of each op (ConcatV2: at least).
var arity = map[string]int{
	"Conv2D": 2, "Add": 2, "AddV2": 2, "BiasAdd": 2, "Sub": 2, "Mul": 2,
	"LeakyRelu": 1, "Relu": 1, "Sigmoid": 1, "Identity": 1,
	"Pad": 2, "PadV2": 3, "Transpose": 2, "ConcatV2": 2, "ResizeBilinear": 2,
	"SplitV": 3, "Reshape": 2, "MaxPool": 1, "SparseToDense": 4,
}

// opFunc converts one TF node whose data inputs are in.
type opFunc func(c *converter, n *node, in []string) error

var ops map[string]opFunc

func init() {
	ops = map[string]opFunc{
		"Conv2D":         convConv2D,
		"Add":            convBinary("Add"),
		"AddV2":          convBinary("Add"),
		"BiasAdd":        convBinary("Add"),
		"Sub":            convBinary("Sub"),
		"Mul":            convBinary("Mul"),
		"LeakyRelu":      convLeakyRelu,
		"Relu":           convUnary("Relu"),
		"Sigmoid":        convUnary("Sigmoid"),
		"Identity":       convUnary("Identity"),
		"Pad":            convPad,
		"PadV2":          convPad,
		"Transpose":      convTranspose,
		"ConcatV2":       convConcat,
		"ResizeBilinear": convResizeBilinear,
		"SplitV":         convSplitV,
		"Reshape":        convReshape,
		"MaxPool":        convMaxPool,
	}
}

func convUnary(op string) opFunc {
	return func(c *converter, n *node, in []string) error {
		x := c.input(in[0])
		c.emit(op, []string{x}, []string{n.Name})
		c.shapes[n.Name] = c.shapes[x]
		return nil
	}
}

func convLeakyRelu(c *converter, n *node, in []string) error {
	alpha := float32(0.2) // TF's default
	if a, ok := n.Attr["alpha"]; ok && a.F != nil {
		alpha = float32(*a.F)
	}
	x := c.input(in[0])
	c.emit("LeakyRelu", []string{x}, []string{n.Name}, onnx.AttrFloat("alpha", alpha))
	c.shapes[n.Name] = c.shapes[x]
	return nil
}

func convBinary(op string) opFunc {
	return func(c *converter, n *node, in []string) error {
		if len(in) != 2 {
			return fmt.Errorf("%d inputs, want 2", len(in))
		}
		a, b := c.input(in[0]), c.input(in[1])
		s, err := broadcast(c.shapes[a], c.shapes[b])
		if err != nil {
			return err
		}
		c.emit(op, []string{a, b}, []string{n.Name})
		c.shapes[n.Name] = s
		return nil
	}
}

// broadcast is the NumPy broadcast of two shapes.
func broadcast(a, b []int64) ([]int64, error) {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := slices.Clone(a)
	for i := range b {
		j := len(a) - len(b) + i
		switch {
		case b[i] == a[j] || b[i] == 1:
		case a[j] == 1:
			out[j] = b[i]
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// spatial reads a 4-entry NHWC or NCHW attribute list as (h, w).
func spatial(v []int64, nchw bool, def int64) (int64, int64) {
	if len(v) != 4 {
		return def, def
	}
	if nchw {
		return v[2], v[3]
	}
	return v[1], v[2]
}

// window describes the padding and output size of a convolution or pool
// over one spatial dimension.
func window(size, k, stride, dil int64, padding string, explicit []int64) (before, after, out int64, err error) {
	eff := dil*(k-1) + 1
	switch padding {
	case "SAME":
		out = (size + stride - 1) / stride
		total := max((out-1)*stride+eff-size, 0)
		before = total / 2
		after = total - before
	case "EXPLICIT":
		before, after = explicit[0], explicit[1]
		out = (size+before+after-eff)/stride + 1
	case "VALID":
		out = (size-eff)/stride + 1
	default:
		return 0, 0, 0, fmt.Errorf("padding %q, want SAME, VALID or EXPLICIT", padding)
	}
	if before < 0 || after < 0 || out < 1 {
		return 0, 0, 0, fmt.Errorf("window %d (stride %d, dilation %d, padding %s) does not fit %d", k, stride, dil, padding, size)
	}
	return before, after, out, nil
}

// layout returns whether the node works on NCHW, and an error for an
// unsupported data_format.
func layout(n *node) (bool, error) {
	df, err := n.str("data_format")
	if err != nil {
		return false, err
	}
	switch df {
	case "", "NHWC":
		return false, nil
	case "NCHW":
		return true, nil
	}
	return false, fmt.Errorf("data_format %q", df)
}

func convConv2D(c *converter, n *node, in []string) error {
	nchw, err := layout(n)
	if err != nil {
		return err
	}
	w := c.constOf(in[1])
	if w == nil || w.isInt || len(w.shape) != 4 {
		return fmt.Errorf("filter %q is not a constant 4-D float tensor", in[1])
	}
	padding, err := n.str("padding")
	if err != nil {
		return err
	}
	sh, sw := spatial(n.ints("strides"), nchw, 1)
	dh, dw := spatial(n.ints("dilations"), nchw, 1)
	if sh < 1 || sw < 1 || dh < 1 || dw < 1 {
		return fmt.Errorf("strides %d,%d and dilations %d,%d must be positive", sh, sw, dh, dw)
	}
	exp := n.ints("explicit_paddings")
	var eh, ew []int64
	if padding == "EXPLICIT" {
		if len(exp) != 8 {
			return fmt.Errorf("explicit_paddings has %d values, want 8", len(exp))
		}
		if nchw {
			eh, ew = exp[4:6], exp[6:8]
		} else {
			eh, ew = exp[2:4], exp[4:6]
		}
	}
	x := c.input(in[0])
	xs := c.shapes[x]
	if len(xs) != 4 {
		return fmt.Errorf("input shape %v, want 4-D", xs)
	}
	if !nchw {
		x = c.transpose(x, toNCHW, "")
		xs = c.shapes[x]
	}
	kh, kw, ci, co := w.shape[0], w.shape[1], w.shape[2], w.shape[3]
	if xs[1] != ci {
		return fmt.Errorf("input has %d channels, filter %d (grouped convolution is not supported)", xs[1], ci)
	}
	ph0, ph1, oh, err := window(xs[2], kh, sh, dh, padding, eh)
	if err != nil {
		return err
	}
	pw0, pw1, ow, err := window(xs[3], kw, sw, dw, padding, ew)
	if err != nil {
		return err
	}
	// HWIO → OIHW
	oihw := &tensor{shape: []int64{co, ci, kh, kw}, f: make([]float32, len(w.f))}
	for y := range kh {
		for xx := range kw {
			for i := range ci {
				for o := range co {
					oihw.f[((o*ci+i)*kh+y)*kw+xx] = w.f[((y*kw+xx)*ci+i)*co+o]
				}
			}
		}
	}
	inputs := []string{x, c.constant(n.Name+"/W", oihw)}
	if b := c.bias[n.Name]; b != nil {
		inputs = append(inputs, c.constant(n.Name+"/B", b))
	}
	out := n.Name
	if !nchw {
		out = c.tmp(n.Name)
	}
	c.emit("Conv", inputs, []string{out},
		onnx.AttrInts("kernel_shape", kh, kw),
		onnx.AttrInts("strides", sh, sw),
		onnx.AttrInts("dilations", dh, dw),
		onnx.AttrInts("pads", ph0, pw0, ph1, pw1))
	c.shapes[out] = []int64{xs[0], co, oh, ow}
	if !nchw {
		c.transpose(out, toNHWC, n.Name)
	}
	return nil
}

func convMaxPool(c *converter, n *node, in []string) error {
	nchw, err := layout(n)
	if err != nil {
		return err
	}
	padding, err := n.str("padding")
	if err != nil {
		return err
	}
	if padding == "EXPLICIT" {
		return fmt.Errorf("explicit padding in MaxPool is not supported")
	}
	kh, kw := spatial(n.ints("ksize"), nchw, 1)
	sh, sw := spatial(n.ints("strides"), nchw, 1)
	if kh < 1 || kw < 1 || sh < 1 || sw < 1 {
		return fmt.Errorf("ksize %d,%d and strides %d,%d must be positive", kh, kw, sh, sw)
	}
	x := c.input(in[0])
	if len(c.shapes[x]) != 4 {
		return fmt.Errorf("input shape %v, want 4-D", c.shapes[x])
	}
	if !nchw {
		x = c.transpose(x, toNCHW, "")
	}
	xs := c.shapes[x]
	ph0, ph1, oh, err := window(xs[2], kh, sh, 1, padding, nil)
	if err != nil {
		return err
	}
	pw0, pw1, ow, err := window(xs[3], kw, sw, 1, padding, nil)
	if err != nil {
		return err
	}
	out := n.Name
	if !nchw {
		out = c.tmp(n.Name)
	}
	// TF pads a max pool with -inf, as ONNX does.
	c.emit("MaxPool", []string{x}, []string{out},
		onnx.AttrInts("kernel_shape", kh, kw),
		onnx.AttrInts("strides", sh, sw),
		onnx.AttrInts("pads", ph0, pw0, ph1, pw1))
	c.shapes[out] = []int64{xs[0], xs[1], oh, ow}
	if !nchw {
		c.transpose(out, toNHWC, n.Name)
	}
	return nil
}

func convPad(c *converter, n *node, in []string) error {
	p := c.constOf(in[1])
	x := c.input(in[0])
	xs := c.shapes[x]
	if p == nil || !p.isInt || len(p.i) != 2*len(xs) {
		return fmt.Errorf("paddings %q are not a constant [%d,2] integer tensor", in[1], len(xs))
	}
	var value float32
	if len(in) > 2 {
		v := c.constOf(in[2])
		if v == nil || len(v.f)+len(v.i) != 1 {
			return fmt.Errorf("constant_values %q is not a constant scalar", in[2])
		}
		if v.isInt {
			value = float32(v.i[0])
		} else {
			value = v.f[0]
		}
	}
	r := len(xs)
	pads := make([]int64, 2*r)
	out := make([]int64, r)
	for d := range r {
		pads[d], pads[r+d] = p.i[2*d], p.i[2*d+1]
		out[d] = xs[d] + pads[d] + pads[r+d]
	}
	padsName := c.constant(n.Name+"/pads", &tensor{shape: []int64{int64(2 * r)}, i: pads, isInt: true})
	valueName := c.constant(n.Name+"/value", &tensor{shape: []int64{}, f: []float32{value}})
	c.emit("Pad", []string{x, padsName, valueName}, []string{n.Name}, onnx.AttrString("mode", "constant"))
	c.shapes[n.Name] = out
	return nil
}

func convTranspose(c *converter, n *node, in []string) error {
	p := c.constOf(in[1])
	x := c.input(in[0])
	if p == nil || !p.isInt || len(p.i) != len(c.shapes[x]) {
		return fmt.Errorf("perm %q is not a constant of %d integers", in[1], len(c.shapes[x]))
	}
	seen := make([]bool, len(p.i))
	for _, a := range p.i {
		if a < 0 || a >= int64(len(p.i)) || seen[a] {
			return fmt.Errorf("perm %v is not a permutation", p.i)
		}
		seen[a] = true
	}
	c.transpose(x, p.i, n.Name)
	return nil
}

func axisOf(t *tensor, rank int) (int64, error) {
	if t == nil || !t.isInt || len(t.i) != 1 {
		return 0, fmt.Errorf("axis is not a constant integer")
	}
	a := t.i[0]
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", t.i[0], rank)
	}
	return a, nil
}

func convConcat(c *converter, n *node, in []string) error {
	vals := in[:len(in)-1]
	var xs []string
	var shape []int64
	for _, v := range vals {
		x := c.input(v)
		xs = append(xs, x)
		if shape == nil {
			shape = slices.Clone(c.shapes[x])
		}
	}
	axis, err := axisOf(c.constOf(in[len(in)-1]), len(shape))
	if err != nil {
		return err
	}
	shape[axis] = 0
	for _, x := range xs {
		if len(c.shapes[x]) != len(shape) {
			return fmt.Errorf("inputs of ranks %d and %d", len(shape), len(c.shapes[x]))
		}
		shape[axis] += c.shapes[x][axis]
	}
	c.emit("Concat", xs, []string{n.Name}, onnx.AttrInt("axis", axis))
	c.shapes[n.Name] = shape
	return nil
}

func convResizeBilinear(c *converter, n *node, in []string) error {
	size := c.constOf(in[1])
	if size == nil || !size.isInt || len(size.i) != 2 {
		return fmt.Errorf("size %q is not a constant of 2 integers", in[1])
	}
	mode := "asymmetric"
	if a := n.Attr["half_pixel_centers"]; a.B {
		mode = "half_pixel"
	}
	if a := n.Attr["align_corners"]; a.B {
		mode = "align_corners"
	}
	x := c.input(in[0])
	if len(c.shapes[x]) != 4 {
		return fmt.Errorf("input shape %v, want 4-D NHWC", c.shapes[x])
	}
	x = c.transpose(x, toNCHW, "")
	xs := c.shapes[x]
	sizes := []int64{xs[0], xs[1], size.i[0], size.i[1]}
	if c.from > 0 {
		for i := 2; i < 4; i++ {
			if sizes[i]*c.side%c.from != 0 {
				return fmt.Errorf("input %d: size %v does not scale from %d", c.side, size.i, c.from)
			}
			sizes[i] = sizes[i] * c.side / c.from
		}
	}
	roi := c.constant(n.Name+"/roi", &tensor{shape: []int64{0}})
	scales := c.constant(n.Name+"/scales", &tensor{shape: []int64{0}})
	sz := c.constant(n.Name+"/sizes", &tensor{shape: []int64{4}, i: sizes, isInt: true})
	out := c.tmp(n.Name)
	c.emit("Resize", []string{x, roi, scales, sz}, []string{out},
		onnx.AttrString("mode", "linear"),
		onnx.AttrString("coordinate_transformation_mode", mode))
	c.shapes[out] = sizes
	c.transpose(out, toNHWC, n.Name)
	return nil
}

func convSplitV(c *converter, n *node, in []string) error {
	x := c.input(in[0])
	xs := c.shapes[x]
	sizes := c.constOf(in[1])
	if sizes == nil || !sizes.isInt {
		return fmt.Errorf("size_splits %q is not a constant", in[1])
	}
	axis, err := axisOf(c.constOf(in[2]), len(xs))
	if err != nil {
		return err
	}
	split := slices.Clone(sizes.i)
	var sum int64
	unknown := -1
	for i, s := range split {
		if s < 0 {
			unknown = i
		} else {
			sum += s
		}
	}
	if unknown >= 0 {
		split[unknown] = xs[axis] - sum
	} else if sum != xs[axis] {
		return fmt.Errorf("size_splits %v do not add up to %d", split, xs[axis])
	}
	var outs []string
	for i, s := range split {
		name := n.Name
		if i > 0 {
			name = fmt.Sprintf("%s:%d", n.Name, i)
		}
		outs = append(outs, name)
		shape := slices.Clone(xs)
		shape[axis] = s
		c.shapes[name] = shape
	}
	c.emit("Split", []string{x}, outs, onnx.AttrInt("axis", axis), onnx.AttrInts("split", split...))
	return nil
}

func convReshape(c *converter, n *node, in []string) error {
	x := c.input(in[0])
	t := c.constOf(in[1])
	if t == nil || !t.isInt {
		return fmt.Errorf("shape %q is not a constant", in[1])
	}
	shape := slices.Clone(t.i)
	total := numel(c.shapes[x])
	if xs := c.shapes[x]; c.batch > 1 && len(xs) > 0 && xs[0] == c.batch && len(shape) > 0 && shape[0] == 1 {
		shape[0] = c.batch // the graph's batch of 1, written into its shapes
	}
	known, unknown := int64(1), -1
	for i, d := range shape {
		if d < 0 {
			unknown = i
		} else {
			known *= d
		}
	}
	if unknown >= 0 && known > 0 {
		shape[unknown] = total / known
	}
	if c.from > 0 && unknown < 0 && numel(shape) != total {
		// A dimension of positions (height times width) at the graph's
		// side: the one whose square scaling makes the total.
		for i, d := range shape {
			if d*c.side*c.side%(c.from*c.from) == 0 && numel(shape)/d*(d*c.side*c.side/(c.from*c.from)) == total {
				shape[i] = d * c.side * c.side / (c.from * c.from)
				break
			}
		}
	}
	if numel(shape) != total {
		return fmt.Errorf("cannot reshape %v to %v", c.shapes[x], t.i)
	}
	s := c.constant(n.Name+"/shape", &tensor{shape: []int64{int64(len(shape))}, i: shape, isInt: true})
	c.emit("Reshape", []string{x, s}, []string{n.Name})
	c.shapes[n.Name] = shape
	return nil
}
