package nn

import (
	"image"
	"testing"
)

// heads are zero outputs of the six heads, shaped as the model's.
func heads() []Tensor {
	var out []Tensor
	for _, width := range []int{len(Labels), 4 * bins} {
		for _, stride := range []int{8, 16, 32} {
			n := (InputSize / stride) * (InputSize / stride)
			out = append(out, Tensor{Shape: []int{1, n, width}, Data: make([]float32, n*width)})
		}
	}
	return out
}

// TestDecode places one car on the stride-16 grid and works its box out
// by hand.
func TestDecode(t *testing.T) {
	outs := heads()
	const grid = InputSize / 16
	p := 10*grid + 5 // column 5, row 10: centre (5.5*16, 10.5*16) = (88, 168)
	outs[1].Data[p*len(Labels)+2] = 0.9
	outs[1].Data[p*len(Labels)+7] = 0.2 // truck, below the threshold
	reg := outs[4].Data[p*4*bins:]
	for side, bin := range []int{2, 3, 1, 0} { // left, top, right, bottom
		reg[side*bins+bin] = 40 // softmax ~1 on that bin: distance bin*16
	}
	got := decode(nil, outs, 0.35, 2, 1, 1000, 1000)
	// box in the 416 input: (88-32, 168-48)-(88+16, 168+0); x scaled by 2
	want := Object{Label: "car", Class: 2, Score: 0.9, Box: image.Rect(112, 120, 208, 168)}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("decoded %+v, want [%+v]", got, want)
	}
	// clamped to the picture
	got = decode(nil, outs, 0.35, 2, 1, 150, 150)
	if want := image.Rect(112, 120, 150, 150); len(got) != 1 || got[0].Box != want {
		t.Fatalf("decoded %+v, want box %v", got, want)
	}
}

func TestNMS(t *testing.T) {
	a := Object{Label: "person", Class: 0, Score: 0.8, Box: image.Rect(0, 0, 100, 100)}
	b := Object{Label: "person", Class: 0, Score: 0.9, Box: image.Rect(10, 0, 110, 100)} // IoU 0.82 with a
	c := Object{Label: "dog", Class: 16, Score: 0.5, Box: image.Rect(10, 0, 110, 100)}   // another class
	d := Object{Label: "person", Class: 0, Score: 0.7, Box: image.Rect(50, 0, 150, 100)} // IoU 0.43 with b
	got := nms([]Object{a, b, c, d}, 0.6)
	want := []Object{b, d, c}
	if len(got) != len(want) {
		t.Fatalf("kept %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("kept %+v, want %+v", got, want)
		}
	}
}

// TestDecodeYOLO places one car in column 7 of a YOLO output and works its
// box out by hand.
func TestDecodeYOLO(t *testing.T) {
	const n = 10
	rows := 4 + len(Labels)
	out := Tensor{Shape: []int{1, rows, n}, Data: make([]float32, rows*n)}
	set := func(row, col int, v float32) { out.Data[row*n+col] = v }
	set(0, 7, 100) // centre (100, 60), 40x20
	set(1, 7, 60)
	set(2, 7, 40)
	set(3, 7, 20)
	set(4+2, 7, 0.8)  // car
	set(4+7, 7, 0.2)  // truck, below the threshold
	set(4+0, 3, 0.34) // a person in column 3, below the threshold
	got := decodeYOLO(nil, out, 0.35, 2, 1, 1000, 1000)
	want := Object{Label: "car", Class: 2, Score: 0.8, Box: image.Rect(160, 50, 240, 70)}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("decoded %+v, want [%+v]", got, want)
	}
	if got := decodeYOLO(nil, Tensor{Shape: []int{1, 14, n}, Data: make([]float32, 14*n)}, 0.35, 1, 1, 10, 10); len(got) != 0 {
		t.Fatalf("an output of 14 rows decoded as %+v", got)
	}
}
