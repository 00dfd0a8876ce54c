package nn

import (
	"errors"
	"fmt"

	"gocv.io/x/gocv"
)

// Tensor is a dense float32 tensor in row-major order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Net is an ONNX model loaded into a runtime. Not safe for concurrent use.
type Net interface {
	// Run sets the named inputs, runs the network and returns the named
	// outputs, copied out of the runtime.
	Run(inputs map[string]Tensor, outputs []string) ([]Tensor, error)
	Close() error
}

// cvNet is an ONNX model loaded into OpenCV's DNN module (CPU, OpenCV's
// own backend).
type cvNet struct {
	net gocv.Net
}

// LoadOpenCV reads an ONNX model from memory into OpenCV's DNN module.
// OpenCV's thread count is process-wide and left as it is.
func LoadOpenCV(model []byte) (Net, error) {
	return loadOpenCV(model)
}

func loadOpenCV(model []byte) (*cvNet, error) {
	if len(model) == 0 {
		return nil, errors.New("load ONNX model: empty")
	}
	net, err := gocv.ReadNetFromONNXBytes(model)
	if err != nil {
		return nil, fmt.Errorf("load ONNX model: %w", err)
	}
	if net.Empty() {
		net.Close()
		return nil, errors.New("load ONNX model: OpenCV read no layers")
	}
	if err := net.SetPreferableBackend(gocv.NetBackendOpenCV); err != nil {
		net.Close()
		return nil, fmt.Errorf("load ONNX model: backend: %w", err)
	}
	if err := net.SetPreferableTarget(gocv.NetTargetCPU); err != nil {
		net.Close()
		return nil, fmt.Errorf("load ONNX model: target: %w", err)
	}
	return &cvNet{net: net}, nil
}

// Run implements Net.
func (n *cvNet) Run(inputs map[string]Tensor, outputs []string) ([]Tensor, error) {
	var mats []gocv.Mat
	defer func() {
		for _, m := range mats {
			m.Close()
		}
	}()
	for name, t := range inputs {
		m, err := tensorMat(t)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", name, err)
		}
		mats = append(mats, m)
		n.net.SetInput(m, name)
	}
	return n.forward(outputs)
}

// forward runs the network on the inputs already set.
func (n *cvNet) forward(outputs []string) ([]Tensor, error) {
	outs := n.net.ForwardLayers(outputs)
	defer func() {
		for _, m := range outs {
			m.Close()
		}
	}()
	if len(outs) != len(outputs) {
		return nil, fmt.Errorf("forward: %d outputs, want %d", len(outs), len(outputs))
	}
	res := make([]Tensor, len(outs))
	for i, m := range outs {
		data, err := m.DataPtrFloat32()
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", outputs[i], err)
		}
		res[i] = Tensor{Shape: m.Size(), Data: append([]float32(nil), data...)}
	}
	return res, nil
}

// Close frees the network.
func (n *cvNet) Close() error {
	return n.net.Close()
}

func tensorMat(t Tensor) (gocv.Mat, error) {
	total := 1
	for _, d := range t.Shape {
		total *= d
	}
	if total != len(t.Data) {
		return gocv.Mat{}, fmt.Errorf("shape %v holds %d values, data has %d", t.Shape, total, len(t.Data))
	}
	shape := t.Shape
	if len(shape) == 1 { // OpenCV has no 1-D Mat
		shape = []int{1, shape[0]}
	}
	m := gocv.NewMatWithSizes(shape, gocv.MatTypeCV32F)
	dst, err := m.DataPtrFloat32()
	if err != nil {
		m.Close()
		return gocv.Mat{}, err
	}
	copy(dst, t.Data)
	return m, nil
}
