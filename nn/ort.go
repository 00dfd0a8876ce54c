package nn

import (
	"fmt"
	"slices"
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

// ortNet runs NanoDet with ONNX Runtime on fixed input and output
// tensors.
type ortNet struct {
	sess *ort.AdvancedSession
	in   *ort.Tensor[float32]
	outs []*ort.Tensor[float32]
}

func newORTNet(model []byte, lib string, threads int) (*ortNet, error) {
	if err := ortInit(lib); err != nil {
		return nil, err
	}
	n := &ortNet{}
	var err error
	if n.in, err = ort.NewEmptyTensor[float32](ort.NewShape(1, 3, InputSize, InputSize)); err != nil {
		return nil, err
	}
	var outs []ort.Value
	for _, width := range []int64{int64(len(Labels)), 4 * bins} {
		for _, stride := range []int64{8, 16, 32} {
			g := InputSize / stride
			t, err := ort.NewEmptyTensor[float32](ort.NewShape(1, g*g, width))
			if err != nil {
				n.close()
				return nil, err
			}
			n.outs = append(n.outs, t)
			outs = append(outs, t)
		}
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
	n.sess, err = ort.NewAdvancedSessionWithONNXData(model, []string{"input_1"}, outputs, []ort.Value{n.in}, outs, opts)
	if err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// forward runs the network on an NCHW blob of 1x3x416x416.
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
