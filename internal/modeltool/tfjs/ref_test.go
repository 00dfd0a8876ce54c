package tfjs_test

import (
	"math"

	"github.com/vigil-video/vigil/nn"
)

// Plain-loop references of TF's NHWC ops, to compare converted graphs with.

func at4(t nn.Tensor, n, h, w, c int) float32 {
	return t.Data[((n*t.Shape[1]+h)*t.Shape[2]+w)*t.Shape[3]+c]
}

func zeros(shape ...int) nn.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return nn.Tensor{Shape: shape, Data: make([]float32, n)}
}

// samePads is TF's SAME padding of one dimension: before, after, output.
func samePads(in, k, s, d int) (int, int, int) {
	eff := d*(k-1) + 1
	out := (in + s - 1) / s
	total := max((out-1)*s+eff-in, 0)
	return total / 2, total - total/2, out
}

// refConv is Conv2D (NHWC, HWIO filter) with explicit pads top, bottom,
// left, right, plus bias (nil for none).
func refConv(x nn.Tensor, w nn.Tensor, bias []float32, sh, sw, dh, dw, pt, pb, pl, pr int) nn.Tensor {
	kh, kw, ci, co := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	h, wd := x.Shape[1], x.Shape[2]
	oh := (h+pt+pb-(dh*(kh-1)+1))/sh + 1
	ow := (wd+pl+pr-(dw*(kw-1)+1))/sw + 1
	out := zeros(1, oh, ow, co)
	for y := range oh {
		for xx := range ow {
			for o := range co {
				var s float32
				if bias != nil {
					s = bias[o]
				}
				for ky := range kh {
					for kx := range kw {
						iy, ix := y*sh+ky*dh-pt, xx*sw+kx*dw-pl
						if iy < 0 || iy >= h || ix < 0 || ix >= wd {
							continue
						}
						for i := range ci {
							s += at4(x, 0, iy, ix, i) * w.Data[((ky*kw+kx)*ci+i)*co+o]
						}
					}
				}
				out.Data[(y*ow+xx)*co+o] = s
			}
		}
	}
	return out
}

// refMaxPool is MaxPool (NHWC) with -inf padding.
func refMaxPool(x nn.Tensor, kh, kw, sh, sw, pt, pb, pl, pr int) nn.Tensor {
	h, wd, c := x.Shape[1], x.Shape[2], x.Shape[3]
	oh := (h+pt+pb-kh)/sh + 1
	ow := (wd+pl+pr-kw)/sw + 1
	out := zeros(1, oh, ow, c)
	for y := range oh {
		for xx := range ow {
			for ch := range c {
				m := float32(math.Inf(-1))
				for ky := range kh {
					for kx := range kw {
						iy, ix := y*sh+ky-pt, xx*sw+kx-pl
						if iy >= 0 && iy < h && ix >= 0 && ix < wd {
							m = max(m, at4(x, 0, iy, ix, ch))
						}
					}
				}
				out.Data[(y*ow+xx)*c+ch] = m
			}
		}
	}
	return out
}

// refResize is TF's ResizeBilinear (NHWC) with its three coordinate modes.
func refResize(x nn.Tensor, oh, ow int, alignCorners, halfPixel bool) nn.Tensor {
	h, w, c := x.Shape[1], x.Shape[2], x.Shape[3]
	src := func(i, in, out int) (int, int, float32) {
		var f float32
		switch {
		case alignCorners && out > 1:
			f = float32(i) * float32(in-1) / float32(out-1)
		case halfPixel:
			f = (float32(i)+0.5)*float32(in)/float32(out) - 0.5
		default:
			f = float32(i) * float32(in) / float32(out)
		}
		fl := float32(math.Floor(float64(f)))
		lo := max(int(fl), 0)
		hi := min(int(math.Ceil(float64(f))), in-1)
		return lo, hi, f - fl
	}
	out := zeros(1, oh, ow, c)
	for y := range oh {
		y0, y1, fy := src(y, h, oh)
		for xx := range ow {
			x0, x1, fx := src(xx, w, ow)
			for ch := range c {
				top := at4(x, 0, y0, x0, ch) + (at4(x, 0, y0, x1, ch)-at4(x, 0, y0, x0, ch))*fx
				bot := at4(x, 0, y1, x0, ch) + (at4(x, 0, y1, x1, ch)-at4(x, 0, y1, x0, ch))*fx
				out.Data[(y*ow+xx)*c+ch] = top + (bot-top)*fy
			}
		}
	}
	return out
}

// refTranspose permutes a tensor's axes.
func refTranspose(x nn.Tensor, perm ...int) nn.Tensor {
	r := len(perm)
	shape := make([]int, r)
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	out := zeros(shape...)
	strides := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		strides[i] = s
		s *= x.Shape[i]
	}
	idx := make([]int, r)
	for k := range out.Data {
		rem := k
		for i := r - 1; i >= 0; i-- {
			idx[i] = rem % shape[i]
			rem /= shape[i]
		}
		off := 0
		for i, p := range perm {
			off += idx[i] * strides[p]
		}
		out.Data[k] = x.Data[off]
	}
	return out
}
