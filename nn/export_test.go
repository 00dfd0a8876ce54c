package nn

// ORTNet gives the external tests the engine's ONNX Runtime path: fixed
// input and output tensors, as a Detector runs them.
type ORTNet struct{ n *ortNet }

func NewORTNet(model []byte, lib string, threads int) (*ORTNet, error) {
	n, err := newORTNet(model, lib, threads)
	if err != nil {
		return nil, err
	}
	return &ORTNet{n}, nil
}

func (o *ORTNet) Forward(blob []float32) ([]Tensor, error) { return o.n.forward(blob) }

func (o *ORTNet) Close() { o.n.close() }

// Outputs are the model's heads, in the order the engine reads them.
var Outputs = outputs

// Normalize is the network's input from BGR pixels.
var Normalize = normalize

// Cut is the share of a histogram side's extreme that keeps a share of
// its values (Ranges' percentile).
func Cut(bins []int64, keep float64) float32 {
	var b [histBins]int64
	copy(b[:], bins)
	return cut(&b, keep)
}

const HistBins = histBins
