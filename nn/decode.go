package nn

import (
	"cmp"
	"image"
	"math"
	"slices"
)

// normalize writes the network's input, NCHW, from a 416x416 BGR
// picture (packed bytes) with NanoDet's training normalization: BGR
// planes, mean (103.53, 116.28, 123.675), std (57.375, 57.12, 58.395). On
// vtest.avi it scores people higher than the RGB/255 input
// @vladmandic/human feeds the same model.
func normalize(dst []float32, bgr []byte) {
	plane := len(dst) / 3
	for i := range plane {
		dst[i] = (float32(bgr[3*i]) - 103.53) * (1 / 57.375)
		dst[plane+i] = (float32(bgr[3*i+1]) - 116.28) * (1 / 57.12)
		dst[2*plane+i] = (float32(bgr[3*i+2]) - 123.675) * (1 / 58.395)
	}
}

// normalizeRGB writes a YOLO network's input, NCHW, from a BGR picture
// (packed bytes, as many pixels as dst's planes): RGB planes, 0..1.
func normalizeRGB(dst []float32, bgr []byte) {
	plane := len(dst) / 3
	for i := range plane {
		dst[i] = float32(bgr[3*i+2]) * (1 / 255.0)
		dst[plane+i] = float32(bgr[3*i+1]) * (1 / 255.0)
		dst[2*plane+i] = float32(bgr[3*i]) * (1 / 255.0)
	}
}

// decodeYOLO appends the candidates of a YOLO output, 1x(4+80)xN: each
// column's box centre and size in input pixels, then the classes' scores;
// each class scoring at least minScore is a candidate, its box scaled by
// sx, sy to the picture.
func decodeYOLO(cand []Object, out Tensor, minScore, sx, sy float32, w, h int) []Object {
	if len(out.Shape) != 3 || out.Shape[1] != 4+len(Labels) {
		return cand
	}
	n := out.Shape[2]
	d := out.Data
	for p := range n {
		var best float32
		for c := range len(Labels) {
			best = max(best, d[(4+c)*n+p])
		}
		if best < minScore {
			continue
		}
		cx, cy, bw, bh := d[p], d[n+p], d[2*n+p], d[3*n+p]
		box := image.Rect(
			clamp(int((cx-bw/2)*sx+0.5), 0, w), clamp(int((cy-bh/2)*sy+0.5), 0, h),
			clamp(int((cx+bw/2)*sx+0.5), 0, w), clamp(int((cy+bh/2)*sy+0.5), 0, h))
		for c := range len(Labels) {
			if s := d[(4+c)*n+p]; s >= minScore {
				cand = append(cand, Object{Label: Labels[c], Class: c, Score: s, Box: box})
			}
		}
	}
	return cand
}

// bins is the number of distance bins per box side (GFL's reg_max + 1).
const bins = 11

// decode appends the candidates of every head: each class scoring at
// least minScore at a grid point, with its box from the expected distance
// of each side (a softmax over bins), scaled by sx, sy to the picture.
func decode(cand []Object, outs []Tensor, minScore, sx, sy float32, w, h int) []Object {
	strides := [3]int{8, 16, 32}
	var prob [bins]float32
	for level, stride := range strides {
		cls, reg := outs[level], outs[level+3]
		grid := int(math.Round(math.Sqrt(float64(len(cls.Data) / len(Labels))))) // the input's side / stride
		for p := range grid * grid {
			scores := cls.Data[p*len(Labels) : (p+1)*len(Labels)]
			best := slices.Max(scores)
			if best < minScore {
				continue
			}
			cx := (float32(p%grid) + 0.5) * float32(stride)
			cy := (float32(p/grid) + 0.5) * float32(stride)
			var dist [4]float32
			for side := range 4 {
				logits := reg.Data[p*4*bins+side*bins : p*4*bins+(side+1)*bins]
				m := slices.Max(logits)
				var sum, e float32
				for i, l := range logits {
					prob[i] = float32(math.Exp(float64(l - m)))
					sum += prob[i]
				}
				for i := range bins {
					e += float32(i) * prob[i]
				}
				dist[side] = e / sum * float32(stride)
			}
			box := image.Rect(
				clamp(int((cx-dist[0])*sx+0.5), 0, w), clamp(int((cy-dist[1])*sy+0.5), 0, h),
				clamp(int((cx+dist[2])*sx+0.5), 0, w), clamp(int((cy+dist[3])*sy+0.5), 0, h))
			for c, s := range scores {
				if s >= minScore {
					cand = append(cand, Object{Label: Labels[c], Class: c, Score: s, Box: box})
				}
			}
		}
	}
	return cand
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

// maxCandidates bounds the boxes non-maximum suppression compares (its
// cost is quadratic): the best ones are kept.
const maxCandidates = 1000

// nms keeps, per class, the best box among those overlapping more than
// iou, best first.
func nms(cand []Object, iou float32) []Object {
	slices.SortStableFunc(cand, func(a, b Object) int { return cmp.Compare(b.Score, a.Score) }) // best first
	if len(cand) > maxCandidates {
		cand = cand[:maxCandidates]
	}
	var kept []Object
	for _, c := range cand {
		ok := true
		for _, k := range kept {
			if k.Class == c.Class && overlap(k.Box, c.Box) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, c)
		}
	}
	return kept
}

// overlap is the intersection over union of two boxes.
func overlap(a, b image.Rectangle) float32 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float32(in.Dx() * in.Dy())
	u := float32(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i
	return i / u
}
