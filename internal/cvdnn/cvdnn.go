// Package cvdnn runs ONNX models with OpenCV's DNN module (CPU, OpenCV's
// own backend): the second, independent runtime the tests check the
// converted model and ONNX Runtime with. Only tests import it: needing 2
// to 3 times ONNX Runtime's CPU per inference here (BENCHMARKS.md), it is
// not what the engine runs (package nn).
package cvdnn

import (
	"errors"
	"fmt"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/nn"
)

// Net is an ONNX model loaded into OpenCV's DNN module. Not safe for
// concurrent use.
type Net struct {
	net gocv.Net
}

var _ nn.Net = (*Net)(nil)

// Load reads an ONNX model from memory into OpenCV's DNN module. OpenCV's
// thread count is process-wide and left as it is.
func Load(model []byte) (*Net, error) {
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
	return &Net{net: net}, nil
}

// Run implements nn.Net.
func (n *Net) Run(inputs map[string]nn.Tensor, outputs []string) ([]nn.Tensor, error) {
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
	return n.Forward(outputs)
}

// SetInput sets the network's first input to blob, for Forward; blob
// stays the caller's.
func (n *Net) SetInput(blob gocv.Mat) {
	n.net.SetInput(blob, "")
}

// Forward runs the network on the inputs already set (Run's or
// SetInput's) and returns the named outputs, copied out of OpenCV.
func (n *Net) Forward(outputs []string) ([]nn.Tensor, error) {
	outs := n.net.ForwardLayers(outputs)
	defer func() {
		for _, m := range outs {
			m.Close()
		}
	}()
	if len(outs) != len(outputs) {
		return nil, fmt.Errorf("forward: %d outputs, want %d", len(outs), len(outputs))
	}
	res := make([]nn.Tensor, len(outs))
	for i, m := range outs {
		data, err := m.DataPtrFloat32()
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", outputs[i], err)
		}
		res[i] = nn.Tensor{Shape: m.Size(), Data: append([]float32(nil), data...)}
	}
	return res, nil
}

// Close frees the network.
func (n *Net) Close() error {
	return n.net.Close()
}

func tensorMat(t nn.Tensor) (gocv.Mat, error) {
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
