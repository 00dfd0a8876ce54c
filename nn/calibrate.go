package nn

import (
	"fmt"
	"image"
	"math"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
)

// Ranges runs a NanoDet-family model (as scripts/models.sh converts it,
// with more outputs: the values to measure) on BGR pictures, each made the
// network's input as Detect makes it, and returns for each named output the
// range its values took over them: the ranges an 8-bit model's activations
// are scaled by (vigil-model convert --int8). With keep 1 the range is the
// least and greatest value; with keep below 1 (0.99999, say) each end is
// cut to where a share (1 - keep) of the values on that side of zero lies
// beyond it, read from a histogram on a second pass: a few extreme values
// then no longer coarsen the steps of all the others.
func Ranges(model []byte, lib string, names []string, pictures []gocv.Mat, keep float64) (map[string][2]float32, error) {
	if len(pictures) == 0 {
		return nil, fmt.Errorf("calibration: no pictures")
	}
	if !(keep > 0 && keep <= 1) {
		return nil, fmt.Errorf("calibration: keep %g is not in (0, 1]", keep)
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
	if w != h || w%32 != 0 {
		return nil, fmt.Errorf("calibration: input %q is %v, want NanoDet's 1x3xSxS, S a multiple of 32 (%d as the graph has it)", input, ins[0].Dimensions, InputSize)
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
	// each runs the network on every picture and hands visit its outputs.
	each := func(visit func(name string, v []float32)) error {
		for i, p := range pictures {
			if p.Empty() || p.Type() != gocv.MatTypeCV8UC3 {
				return fmt.Errorf("calibration picture %d: want a non-empty 8-bit BGR picture", i)
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
				return err
			}
			normalize(blob, px)
			outs, err := net.Run(map[string]Tensor{input: {Shape: []int{1, 3, h, w}, Data: blob}}, names)
			if err != nil {
				return fmt.Errorf("calibration picture %d: %w", i, err)
			}
			for k, o := range outs {
				visit(names[k], o.Data)
			}
		}
		return nil
	}
	ranges := map[string][2]float32{}
	if err := each(func(name string, v []float32) {
		r, seen := ranges[name]
		for j, x := range v {
			if !seen && j == 0 {
				r = [2]float32{x, x}
			}
			r[0], r[1] = min(r[0], x), max(r[1], x)
		}
		ranges[name] = r
	}); err != nil || keep == 1 {
		return ranges, err
	}
	for name, r := range ranges {
		if math.IsInf(float64(r[0]), 0) || math.IsInf(float64(r[1]), 0) || math.IsNaN(float64(r[0])) || math.IsNaN(float64(r[1])) {
			return nil, fmt.Errorf("calibration: %q took the values [%g, %g], not finite", name, r[0], r[1])
		}
	}
	// Second pass: each side of zero in histBins bins up to its extreme.
	type hist struct{ neg, pos [histBins]int64 }
	hs := map[string]*hist{}
	for _, name := range names {
		hs[name] = &hist{}
	}
	if err := each(func(name string, v []float32) {
		r, hg := ranges[name], hs[name]
		for _, x := range v {
			switch {
			case x > 0 && r[1] > 0:
				hg.pos[min(int(x/r[1]*histBins), histBins-1)]++
			case x < 0 && r[0] < 0:
				hg.neg[min(int(x/r[0]*histBins), histBins-1)]++
			}
		}
	}); err != nil {
		return nil, err
	}
	for name, hg := range hs {
		r := ranges[name]
		r[0] *= cut(&hg.neg, keep)
		r[1] *= cut(&hg.pos, keep)
		ranges[name] = r
	}
	return ranges, nil
}

// histBins is the bins of each side of zero in Ranges' histograms.
const histBins = 4096

// cut returns the fraction of a side's extreme (the top of its last bin)
// at or below which a share keep of the side's values lies, at a bin's
// top; 1 for a side with no values.
func cut(bins *[histBins]int64, keep float64) float32 {
	var n int64
	for _, c := range bins {
		n += c
	}
	if n == 0 {
		return 1
	}
	limit := int64(math.Ceil(keep * float64(n)))
	var sum int64
	for i, c := range bins {
		sum += c
		if sum >= limit {
			return float32(i+1) / histBins
		}
	}
	return 1
}
