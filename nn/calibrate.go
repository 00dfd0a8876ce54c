package nn

import (
	"fmt"
	"image"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
)

// Ranges runs a NanoDet-family model (as scripts/models.sh converts it,
// with more outputs: the values to measure) on BGR pictures, each made the
// network's input as Detect makes it, and returns the least and greatest
// value each named output took over them: the ranges an 8-bit model's
// activations are scaled by (vigil-model convert --int8).
func Ranges(model []byte, lib string, names []string, pictures []gocv.Mat) (map[string][2]float32, error) {
	if len(pictures) == 0 {
		return nil, fmt.Errorf("calibration: no pictures")
	}
	if err := ortInit(lib); err != nil {
		return nil, err
	}
	ins, _, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, err
	}
	if len(ins) != 1 || len(ins[0].Dimensions) != 4 || ins[0].Dimensions[1] != 3 {
		return nil, fmt.Errorf("calibration: want one input 1x3xHxW, the model has %v", ins)
	}
	input, h, w := ins[0].Name, int(ins[0].Dimensions[2]), int(ins[0].Dimensions[3])
	if w != InputSize || h != InputSize {
		return nil, fmt.Errorf("calibration: input %q is %v, want NanoDet's 1x3x%dx%d", input, ins[0].Dimensions, InputSize, InputSize)
	}
	net, err := LoadORT(model, lib, 1)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	canvas := gocv.NewMatWithSizeFromScalar(meanBGR, h, w, gocv.MatTypeCV8UC3)
	defer canvas.Close()
	resized := gocv.NewMat()
	defer resized.Close()
	blob := make([]float32, 3*w*h)
	ranges := map[string][2]float32{}
	for i, p := range pictures {
		if p.Empty() || p.Type() != gocv.MatTypeCV8UC3 {
			return nil, fmt.Errorf("calibration picture %d: want a non-empty 8-bit BGR picture", i)
		}
		scale := min(float32(w)/float32(p.Cols()), float32(h)/float32(p.Rows()))
		pw := min(max(int(float32(p.Cols())*scale+0.5), 1), w)
		ph := min(max(int(float32(p.Rows())*scale+0.5), 1), h)
		gocv.Resize(p, &resized, image.Pt(pw, ph), 0, 0, gocv.InterpolationLinear)
		canvas.SetTo(meanBGR)
		roi := canvas.Region(image.Rect(0, 0, pw, ph))
		resized.CopyTo(&roi)
		roi.Close()
		px, err := canvas.DataPtrUint8()
		if err != nil {
			return nil, err
		}
		normalize(blob, px)
		outs, err := net.Run(map[string]Tensor{input: {Shape: []int{1, 3, h, w}, Data: blob}}, names)
		if err != nil {
			return nil, fmt.Errorf("calibration picture %d: %w", i, err)
		}
		for k, o := range outs {
			r, seen := ranges[names[k]]
			for j, v := range o.Data {
				if !seen && j == 0 {
					r = [2]float32{v, v}
				}
				r[0], r[1] = min(r[0], v), max(r[1], v)
			}
			ranges[names[k]] = r
		}
	}
	return ranges, nil
}
