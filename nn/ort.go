package nn

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ORTLibrary is the ONNX Runtime shared library scripts/models.sh
// extracts beside the model (from npm onnxruntime-node 1.30.0).
const ORTLibrary = "libonnxruntime.so.1"

var ortEnv struct {
	once sync.Once
	err  error
}

// ortInit loads ONNX Runtime from lib, once per process (the first
// library path wins).
func ortInit(lib string) error {
	ortEnv.once.Do(func() {
		ort.SetSharedLibraryPath(lib)
		ortEnv.err = ort.InitializeEnvironment(ort.WithLogLevelError())
		if ortEnv.err != nil {
			ortEnv.err = fmt.Errorf("onnxruntime %s: %w", lib, ortEnv.err)
		}
	})
	return ortEnv.err
}

// ortNet runs a detection model with ONNX Runtime on fixed input and
// output tensors, shaped as the model declares them.
type ortNet struct {
	sess   *ort.AdvancedSession
	family family
	w, h   int // the input picture's size
	in     *ort.Tensor[float32]
	outs   []*ort.Tensor[float32]
}

// family is a kind of detection model: how its input is made and its
// outputs read.
type family int

const (
	// nanoDet is the model scripts/models.sh converts: input "input_1",
	// 1x3x416x416 BGR normalized with NanoDet's mean and deviation; six
	// heads (class scores after a sigmoid and box distributions, strides
	// 8, 16 and 32).
	nanoDet family = iota
	// yolo is a YOLO export in the Ultralytics form (YOLOv8, YOLO11,
	// YOLOv9's and others' ONNX exports): one input 1x3xHxW, RGB/255; one
	// output 1x(4+80)xN: each column a box centre and size in input pixels
	// and the 80 COCO classes' scores.
	yolo
)

func (f family) String() string {
	if f == yolo {
		return "YOLO (Ultralytics-style export)"
	}
	return "NanoDet"
}

// modelShape reads which family a model is of, its input's name and size
// and its outputs' names and shapes, from the model's declarations.
func modelShape(model []byte) (f family, input string, w, h int, outNames []string, outShapes [][]int64, err error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return 0, "", 0, 0, nil, nil, err
	}
	if len(ins) != 1 || len(ins[0].Dimensions) != 4 {
		return 0, "", 0, 0, nil, nil, fmt.Errorf("want one input of 4 dimensions (1x3xHxW), the model has %d inputs %v", len(ins), ins)
	}
	d := ins[0].Dimensions
	if d[0] > 1 || d[1] != 3 || d[2] < 32 || d[3] < 32 || d[2] > 2048 || d[3] > 2048 {
		return 0, "", 0, 0, nil, nil, fmt.Errorf("input %q is %v, want 1x3xHxW with H and W fixed, 32 to 2048", ins[0].Name, d)
	}
	input, h, w = ins[0].Name, int(d[2]), int(d[3])
	for _, v := range append(slices.Clone(ins), outs...) {
		if v.OrtValueType != ort.ONNXTypeTensor || v.DataType != ort.TensorElementDataTypeFloat {
			return 0, "", 0, 0, nil, nil, fmt.Errorf("%s is not a tensor of 32-bit floats (%s): vigil feeds and reads float32 (export without half precision)", v.Name, &v)
		}
	}
	var names []string
	for _, o := range outs {
		names = append(names, o.Name)
	}
	if slices.Equal(names, outputs) && w == h && w%32 == 0 {
		for _, width := range []int64{int64(len(Labels)), 4 * bins} {
			for _, stride := range []int64{8, 16, 32} {
				g := int64(w) / stride
				outShapes = append(outShapes, []int64{1, g * g, width})
			}
		}
		return nanoDet, input, w, h, outputs, outShapes, nil
	}
	if len(outs) == 1 {
		o := outs[0].Dimensions
		// A column per cell of a stride-8, 16 and 32 grid is hw/64 +
		// hw/256 + hw/1024; hw/16 bounds it, and the memory a model can
		// ask for.
		if len(o) == 3 && o[0] <= 1 && o[1] == 4+int64(len(Labels)) && o[2] > 0 && o[2] <= int64(w*h/16) {
			return yolo, input, w, h, names, [][]int64{{1, o[1], o[2]}}, nil
		}
	}
	var got []string
	for _, o := range outs {
		got = append(got, fmt.Sprintf("%s %v", o.Name, o.Dimensions))
	}
	return 0, "", 0, 0, nil, nil, fmt.Errorf("outputs %s: not a model vigil reads (NanoDet as scripts/models.sh makes it, "+
		"or a YOLO export in the Ultralytics form: one output 1x84xN over the 80 COCO classes)", strings.Join(got, ", "))
}

func newORTNet(model []byte, lib string, threads int) (*ortNet, error) {
	if err := ortInit(lib); err != nil {
		return nil, err
	}
	f, input, w, h, names, shapes, err := modelShape(model)
	if err != nil {
		return nil, err
	}
	n := &ortNet{family: f, w: w, h: h}
	if n.in, err = ort.NewEmptyTensor[float32](ort.NewShape(1, 3, int64(h), int64(w))); err != nil {
		return nil, err
	}
	var outs []ort.Value
	for _, s := range shapes {
		t, err := ort.NewEmptyTensor[float32](ort.NewShape(s...))
		if err != nil {
			n.close()
			return nil, err
		}
		n.outs = append(n.outs, t)
		outs = append(outs, t)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		n.close()
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		n.close()
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		n.close()
		return nil, err
	}
	n.sess, err = ort.NewAdvancedSessionWithONNXData(model, []string{input}, names, []ort.Value{n.in}, outs, opts)
	if err != nil {
		n.close()
		return nil, err
	}
	if f == yolo {
		if err := n.cocoClasses(); err != nil {
			n.close()
			return nil, err
		}
	}
	return n, nil
}

// classEntry is one class of an Ultralytics export's "names" metadata,
// `{0: 'person', 1: 'bicycle', ...}`.
var classEntry = regexp.MustCompile(`(\d+): '([^']*)'`)

// cocoClasses checks, when the model names its classes (Ultralytics
// exports do, in the metadata "names"), that they are COCO's 80 in
// COCO's order, as Labels reads them: a model trained on other classes
// would be read under the wrong labels.
func (n *ortNet) cocoClasses() error {
	m, err := n.sess.GetModelMetadata()
	if err != nil {
		return err
	}
	defer m.Destroy()
	v, ok, err := m.LookupCustomMetadataMap("names")
	if err != nil || !ok {
		return err // no names: taken as COCO's
	}
	got := classEntry.FindAllStringSubmatch(v, -1)
	ok = len(got) == len(Labels)
	for i, e := range got {
		if !ok || e[1] != strconv.Itoa(i) || e[2] != Labels[i] {
			ok = false
			break
		}
	}
	if !ok {
		if len(v) > 200 {
			v = v[:200] + "..."
		}
		return fmt.Errorf("the model's classes are not COCO's 80 in COCO's order, which vigil reads its outputs as (names %s)", v)
	}
	return nil
}

// forward runs the network on an NCHW blob of its input's size.
func (n *ortNet) forward(blob []float32) ([]Tensor, error) {
	copy(n.in.GetData(), blob)
	return n.run()
}

// run runs the network on its input tensor, as filled by the caller. The
// outputs are ONNX Runtime's buffers, valid until the next run.
func (n *ortNet) run() ([]Tensor, error) {
	if err := n.sess.Run(); err != nil {
		return nil, err
	}
	res := make([]Tensor, len(n.outs))
	for i, t := range n.outs {
		s := t.GetShape()
		res[i] = Tensor{Shape: []int{int(s[0]), int(s[1]), int(s[2])}, Data: t.GetData()}
	}
	return res, nil
}

func (n *ortNet) close() {
	if n.sess != nil {
		n.sess.Destroy()
	}
	if n.in != nil {
		n.in.Destroy()
	}
	for _, t := range n.outs {
		t.Destroy()
	}
}

// ortDynamic is a model loaded into ONNX Runtime whose tensors are made
// per Run.
type ortDynamic struct {
	model   []byte
	threads int
	sess    map[string]*ort.DynamicAdvancedSession // by input and output names
}

// LoadORT reads an ONNX model from memory into ONNX Runtime, loaded from
// the shared library lib (the first path given in a process wins), with
// threads intra-op threads.
func LoadORT(model []byte, lib string, threads int) (Net, error) {
	if err := ortInit(lib); err != nil {
		return nil, err
	}
	return &ortDynamic{model: model, threads: max(threads, 1), sess: map[string]*ort.DynamicAdvancedSession{}}, nil
}

// Run implements Net.
func (n *ortDynamic) Run(inputs map[string]Tensor, outputs []string) ([]Tensor, error) {
	var names []string
	for name := range inputs {
		names = append(names, name)
	}
	slices.Sort(names)
	key := strings.Join(names, ",") + "->" + strings.Join(outputs, ",")
	sess, ok := n.sess[key]
	if !ok {
		opts, err := ort.NewSessionOptions()
		if err != nil {
			return nil, err
		}
		defer opts.Destroy()
		if err := opts.SetIntraOpNumThreads(n.threads); err != nil {
			return nil, err
		}
		sess, err = ort.NewDynamicAdvancedSessionWithONNXData(n.model, names, outputs, opts)
		if err != nil {
			return nil, fmt.Errorf("onnxruntime session: %w", err)
		}
		n.sess[key] = sess
	}
	ins := make([]ort.Value, len(names))
	defer func() {
		for _, v := range ins {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, name := range names {
		t := inputs[name]
		shape := make([]int64, len(t.Shape))
		for k, d := range t.Shape {
			shape[k] = int64(d)
		}
		v, err := ort.NewTensor(ort.NewShape(shape...), slices.Clone(t.Data))
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", name, err)
		}
		ins[i] = v
	}
	outs := make([]ort.Value, len(outputs))
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := sess.Run(ins, outs); err != nil {
		return nil, fmt.Errorf("onnxruntime: %w", err)
	}
	res := make([]Tensor, len(outs))
	for i, v := range outs {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("output %q is not a float tensor", outputs[i])
		}
		var shape []int
		for _, d := range t.GetShape() {
			shape = append(shape, int(d))
		}
		res[i] = Tensor{Shape: shape, Data: slices.Clone(t.GetData())}
	}
	return res, nil
}

// Close frees the sessions.
func (n *ortDynamic) Close() error {
	for _, s := range n.sess {
		s.Destroy()
	}
	n.sess = nil
	return nil
}
