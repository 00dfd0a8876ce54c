package nn

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
