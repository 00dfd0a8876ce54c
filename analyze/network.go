package analyze

import (
	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/nn"
)

// Network is the object network (package nn: NanoDet or a YOLO model on
// ONNX Runtime) as an ObjectDetector. It is not safe for concurrent use.
// Close frees it.
type Network struct {
	d *nn.Detector
}

// OpenNetwork loads the converted model at path, run on threads threads,
// keeping detections scoring at least minScore. An absent model's error
// wraps fs.ErrNotExist and names the setup command.
func OpenNetwork(path string, threads int, minScore float64) (*Network, error) {
	d, err := nn.Open(path, nn.Options{Threads: threads, MinScore: float32(minScore)})
	if err != nil {
		return nil, err
	}
	return &Network{d: d}, nil
}

// Detect runs the network on bgr and returns its detections under their
// COCO labels.
func (n *Network) Detect(bgr gocv.Mat) ([]Detection, error) {
	objs, err := n.d.Detect(bgr)
	if err != nil {
		return nil, err
	}
	out := make([]Detection, len(objs))
	for i, o := range objs {
		out[i] = Detection{Label: o.Label, Score: float64(o.Score), Box: o.Box}
	}
	return out, nil
}

// Family names the kind of model and its input size ("NanoDet 416x416",
// "YOLO (Ultralytics-style export) 640x640").
func (n *Network) Family() string { return n.d.Family() }

// InputSide is the long side of the picture the network reads (NanoDet
// 416 as setup makes it, 640 for vigil-model convert --input 640).
func (n *Network) InputSide() int {
	w, h := n.d.InputSize()
	return max(w, h)
}

// Close frees the network.
func (n *Network) Close() error { return n.d.Close() }
