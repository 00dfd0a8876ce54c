package nn_test

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/internal/modeltool/onnx"
	"github.com/vigil-video/vigil/nn"
)

// yoloShaped writes an ONNX model in the Ultralytics YOLO form to dir:
// input "images" 1x3x64xwidth, output "output0" 1x(4+classes)xN (one
// column per 8x8 cell: N = width), its classes named names in the metadata as an
// Ultralytics export names them ("" for none). Every column's box is centred at (32, 32), 16 pixels
// square (in input pixels); its "person" score is the mean of the cell's
// first input plane, which is red when the model is fed RGB.
func yoloShaped(t *testing.T, dir string, classes int, names string, width int64) string {
	t.Helper()
	rows, n := int64(4+classes), width
	w := make([]float32, rows*3*8*8)
	for k := range 64 { // row 4 ("person") reads plane 0 of its cell
		w[4*3*64+k] = 1.0 / 64
	}
	b := make([]float32, rows)
	b[0], b[1], b[2], b[3] = 32, 32, 16, 16
	m := onnx.Model{IRVersion: 7, Opset: 11, Producer: "vigil test", Graph: onnx.Graph{
		Name: "yolo-shaped",
		Nodes: []onnx.Node{
			{Name: "conv", Op: "Conv", Inputs: []string{"images", "w", "b"}, Outputs: []string{"grid"},
				Attrs: []onnx.Attr{onnx.AttrInts("kernel_shape", 8, 8), onnx.AttrInts("strides", 8, 8)}},
			{Name: "flat", Op: "Reshape", Inputs: []string{"grid", "shape"}, Outputs: []string{"output0"}},
		},
		Initializers: []onnx.Tensor{
			{Name: "w", Dims: []int64{rows, 3, 8, 8}, Floats: w, Type: onnx.Float},
			{Name: "b", Dims: []int64{rows}, Floats: b, Type: onnx.Float},
			{Name: "shape", Dims: []int64{3}, Ints: []int64{1, rows, n}, Type: onnx.Int64},
		},
		Inputs:  []onnx.ValueInfo{{Name: "images", Dims: []int64{1, 3, 64, width}}},
		Outputs: []onnx.ValueInfo{{Name: "output0", Dims: []int64{1, rows, n}}},
	}}
	if names != "" {
		m.Metadata = [][2]string{{"names", names}}
	}
	p := filepath.Join(dir, "yolo.onnx")
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestYOLOShapedModel: a model of the YOLO form is told apart from
// NanoDet by its input and output, read at its own input size, fed RGB
// and letterboxed, and its boxes scaled back to the picture.
func TestYOLOShapedModel(t *testing.T) {
	_, lib := ortPaths(t)
	d, err := nn.Open(yoloShaped(t, t.TempDir(), len(nn.Labels), cocoNames(nn.Labels[:]), 64), nn.Options{Library: lib, MinScore: 0.46})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Family(); !strings.Contains(got, "YOLO") || !strings.Contains(got, "64x64") {
		t.Errorf("family %q, want YOLO 64x64", got)
	}
	// A 256x128 picture letterboxed into 64x64: scale 1/4, the bottom
	// half of the input padded. A red square on cell (1, 1) of the
	// input's 8x8 cells: pixels 32-63 of the picture.
	pic := gocv.NewMatWithSize(128, 256, gocv.MatTypeCV8UC3)
	defer pic.Close()
	red := pic.Region(image.Rect(32, 32, 64, 64))
	red.SetTo(gocv.NewScalar(0, 0, 255, 0)) // BGR
	red.Close()
	objs, err := d.Detect(pic)
	if err != nil {
		t.Fatal(err)
	}
	// The box (24, 24)-(40, 40) of the input is (96, 96)-(160, 160) of
	// the picture, clamped to its 128 rows.
	want := nn.Object{Label: "person", Class: 0, Score: 1, Box: image.Rect(96, 96, 160, 128)}
	if len(objs) != 1 || objs[0].Label != want.Label || objs[0].Box != want.Box || objs[0].Score < 0.99 {
		t.Fatalf("detected %+v, want [%+v]", objs, want)
	}
	// Blue is not red: the planes are RGB. And the letterbox pads with
	// Ultralytics' grey (114: 0.447 in the red plane), not NanoDet's mean
	// (123.7 in red: 0.485, over the threshold of 0.46).
	pic.SetTo(gocv.NewScalar(0, 0, 0, 0))
	blue := pic.Region(image.Rect(32, 32, 64, 64))
	blue.SetTo(gocv.NewScalar(255, 0, 0, 0))
	blue.Close()
	if objs, err = d.Detect(pic); err != nil || len(objs) != 0 {
		t.Fatalf("blue square: detected %+v (%v), want nothing", objs, err)
	}
	// An input wider than high, 128x64: the same 256x128 picture fills
	// it at scale 1/2, no padding; the box (24, 24)-(40, 40) is (48,
	// 48)-(80, 80) of the picture.
	wide, err := nn.Open(yoloShaped(t, t.TempDir(), len(nn.Labels), "", 128), nn.Options{Library: lib, MinScore: 0.46})
	if err != nil {
		t.Fatal(err)
	}
	defer wide.Close()
	if got := wide.Family(); !strings.Contains(got, "128x64") {
		t.Errorf("family %q, want 128x64", got)
	}
	pic.SetTo(gocv.NewScalar(0, 0, 0, 0))
	red = pic.Region(image.Rect(32, 32, 64, 64))
	red.SetTo(gocv.NewScalar(0, 0, 255, 0))
	red.Close()
	objs, err = wide.Detect(pic)
	if err != nil || len(objs) != 1 || objs[0].Box != image.Rect(48, 48, 80, 80) || objs[0].Score < 0.99 {
		t.Fatalf("128x64 input: detected %+v (%v), want one person at (48,48)-(80,80)", objs, err)
	}
}

// cocoNames writes labels as an Ultralytics export's "names" metadata.
func cocoNames(labels []string) string {
	var b strings.Builder
	b.WriteString("{")
	for i, l := range labels {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d: '%s'", i, l)
	}
	b.WriteString("}")
	return b.String()
}

// TestOpenRefusesModels: a model vigil cannot read right is refused at
// Open with an error that names it and what is wrong, before any picture
// (nothing loads that would crash, allocate without bound, fail every
// inference or mislabel its objects).
func TestOpenRefusesModels(t *testing.T) {
	_, lib := ortPaths(t)
	dir := t.TempDir()
	other := slices.Clone(nn.Labels[:])
	other[2], other[7] = "truck", "car" // COCO's classes, not in COCO's order
	for _, tc := range []struct {
		name  string
		model func() string
		want  []string
	}{
		{"14 rows", func() string { return yoloShaped(t, t.TempDir(), 10, "", 64) }, []string{"output0 [1 14 64]", "not a model vigil reads"}},
		{"other classes", func() string { return yoloShaped(t, t.TempDir(), len(nn.Labels), cocoNames(other), 64) }, []string{"not COCO's 80", "2: 'truck'"}},
		{"half precision", func() string {
			return writeModel(t, dir, "half.onnx", onnx.Graph{
				Name:    "half",
				Nodes:   []onnx.Node{{Name: "id", Op: "Identity", Inputs: []string{"images"}, Outputs: []string{"output0"}}},
				Inputs:  []onnx.ValueInfo{{Name: "images", Dims: []int64{1, 3, 64, 64}, Type: onnx.Float16}},
				Outputs: []onnx.ValueInfo{{Name: "output0", Dims: []int64{1, 3, 64, 64}, Type: onnx.Float16}},
			})
		}, []string{"images", "32-bit floats"}},
		{"a huge output", func() string {
			// 84 x 2^30 floats: 352 GB, were it allocated.
			return writeModel(t, dir, "huge.onnx", onnx.Graph{
				Name: "huge",
				Nodes: []onnx.Node{
					{Name: "mean", Op: "ReduceMean", Inputs: []string{"images"}, Outputs: []string{"m"}, Attrs: []onnx.Attr{onnx.AttrInts("axes", 1, 2, 3)}},
					{Name: "flat", Op: "Reshape", Inputs: []string{"m", "one"}, Outputs: []string{"m3"}},
					{Name: "grow", Op: "Expand", Inputs: []string{"m3", "shape"}, Outputs: []string{"output0"}},
				},
				Initializers: []onnx.Tensor{
					{Name: "one", Dims: []int64{3}, Ints: []int64{1, 1, 1}, Type: onnx.Int64},
					{Name: "shape", Dims: []int64{3}, Ints: []int64{1, 84, 1 << 30}, Type: onnx.Int64},
				},
				Inputs:  []onnx.ValueInfo{{Name: "images", Dims: []int64{1, 3, 64, 64}}},
				Outputs: []onnx.ValueInfo{{Name: "output0", Dims: []int64{1, 84, 1 << 30}}},
			})
		}, []string{"output0 [1 84 1073741824]", "not a model vigil reads"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.model()
			d, err := nn.Open(p, nn.Options{Library: lib})
			if err == nil {
				d.Close()
				t.Fatal("the model opened")
			}
			for _, want := range append([]string{p}, tc.want...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// TestOpenRefusesAHugeFile: a model file over MaxModelBytes is refused
// before it is read (a sparse file: no disk is used).
func TestOpenRefusesAHugeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.onnx")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(nn.MaxModelBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = nn.Open(p, nn.Options{})
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "over the 1024 MiB") {
		t.Fatalf("error %v, want one naming %s and the limit", err, p)
	}
}

// writeModel writes graph g as dir/name (opset 11) and returns its path.
func writeModel(t *testing.T, dir, name string, g onnx.Graph) string {
	t.Helper()
	m := onnx.Model{IRVersion: 7, Opset: 11, Producer: "vigil test", Graph: g}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
