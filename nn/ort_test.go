package nn_test

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/internal/cvdnn"
	"github.com/vigil-video/vigil/internal/cvthreads"
	"github.com/vigil-video/vigil/nn"
)

func ortPaths(t testing.TB) (model, lib string) {
	dir := os.Getenv("VIGIL_MODELS")
	if dir == "" {
		dir = filepath.Join("..", ".cache", "models")
	}
	model, lib = filepath.Join(dir, "nanodet.onnx"), filepath.Join(dir, nn.ORTLibrary)
	for _, p := range []string{model, lib} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("VIGIL_REQUIRE_MODELS") != "" {
				t.Fatalf("%v (make it with %s)", err, nn.SetupCommand)
			}
			t.Skipf("no %s: make it with %s", p, nn.SetupCommand)
		}
	}
	abs, err := filepath.Abs(lib)
	if err != nil {
		t.Fatal(err)
	}
	return model, abs
}

// vtestFrame is vtest.avi's 400th frame (768x576); the caller closes it.
func vtestFrame(t testing.TB) gocv.Mat {
	vc, err := gocv.VideoCaptureFile("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	for range 400 {
		vc.Read(&img)
	}
	return img
}

func vtestBlob(t testing.TB) gocv.Mat {
	img := vtestFrame(t)
	defer img.Close()
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(img, &small, image.Pt(nn.InputSize, nn.InputSize), 0, 0, gocv.InterpolationLinear)
	return blobFrom(small)
}

// TestORTAgreesWithOpenCV runs the converted model through two
// independent ONNX implementations on a real frame: their six heads agree.
func TestORTAgreesWithOpenCV(t *testing.T) {
	model, lib := ortPaths(t)
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	blob := vtestBlob(t)
	defer blob.Close()
	data, err := blob.DataPtrFloat32()
	if err != nil {
		t.Fatal(err)
	}
	on, err := nn.NewORTNet(b, lib, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer on.Close()
	a, err := on.Forward(data)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := cvdnn.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	cv.SetInput(blob)
	c, err := cv.Forward(nn.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		var worst float64
		for k := range a[i].Data {
			worst = max(worst, math.Abs(float64(a[i].Data[k]-c[i].Data[k])))
		}
		t.Logf("%s: largest difference %.2g", nn.Outputs[i], worst)
		if worst > 1e-3 {
			t.Errorf("%s: ONNX Runtime and OpenCV differ by %g", nn.Outputs[i], worst)
		}
	}
}

// BenchmarkInference is the network alone on a 416x416 vtest.avi frame,
// one thread, per runtime.
func BenchmarkInference(b *testing.B) {
	model, lib := ortPaths(b)
	m, err := os.ReadFile(model)
	if err != nil {
		b.Fatal(err)
	}
	blob := vtestBlob(b)
	defer blob.Close()
	data, err := blob.DataPtrFloat32()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("opencv", func(b *testing.B) {
		cvthreads.Set(1)
		cv, err := cvdnn.Load(m)
		if err != nil {
			b.Fatal(err)
		}
		defer cv.Close()
		timed(b, func() error {
			cv.SetInput(blob)
			_, err := cv.Forward(nn.Outputs)
			return err
		})
	})
	b.Run("onnxruntime", func(b *testing.B) {
		on, err := nn.NewORTNet(m, lib, 1)
		if err != nil {
			b.Fatal(err)
		}
		defer on.Close()
		timed(b, func() error {
			_, err := on.Forward(data)
			return err
		})
	})
}

// blobFrom is the network's input from a 416x416 BGR picture, as an
// OpenCV blob (for OpenCV's DNN module).
func blobFrom(img gocv.Mat) gocv.Mat {
	blob := gocv.NewMatWithSizes([]int{1, 3, nn.InputSize, nn.InputSize}, gocv.MatTypeCV32F)
	dst, err := blob.DataPtrFloat32()
	src, err2 := img.DataPtrUint8()
	if err != nil || err2 != nil || len(src) != 3*nn.InputSize*nn.InputSize {
		panic("blobFrom needs a continuous 416x416 BGR picture")
	}
	nn.Normalize(dst, src)
	return blob
}

// timed runs f b.N times and reports the median and the fastest run, and
// the process's CPU time per run: on this shared machine wall times follow
// the neighbours' load, CPU time much less.
func timed(b *testing.B, f func() error) {
	var d []time.Duration
	cpu0 := cpuTime()
	for b.Loop() {
		t0 := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t0))
	}
	cpu := cpuTime() - cpu0
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(d[0].Microseconds())/1000, "min-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(d)), "cpu-ms")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDetect is one Detect (resize, inference, decoding, NMS) of a
// 768x576 vtest.avi frame, ONNX Runtime on one thread: NanoDet, NanoDet
// in 8 bits, and YOLOv8n when scripts/models.sh --yolov8n fetched it.
func BenchmarkDetect(b *testing.B) {
	model, lib := ortPaths(b)
	img := vtestFrame(b)
	defer img.Close()
	for _, m := range []string{model, filepath.Join(filepath.Dir(model), "nanodet-int8.onnx"), filepath.Join(filepath.Dir(model), "yolov8n.onnx")} {
		b.Run(strings.TrimSuffix(filepath.Base(m), ".onnx"), func(b *testing.B) {
			if _, err := os.Stat(m); err != nil {
				b.Skip(err)
			}
			d, err := nn.Open(m, nn.Options{Library: lib})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			timed(b, func() error {
				_, err := d.Detect(img)
				return err
			})
		})
	}
}

// BenchmarkDetectTiled is the tiling `vigil bench persons --tiles 2`
// measures (BENCHMARKS.md): on a 480x270 picture (testdata/footage's
// size), one Detect of the whole picture ("whole"), and the whole picture
// plus a 270x270 square at either end ("tiles2", three inferences).
func BenchmarkDetectTiled(b *testing.B) {
	model, lib := ortPaths(b)
	d, err := nn.Open(model, nn.Options{Library: lib})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	vc, err := gocv.VideoCaptureFile("../testdata/footage/store-aisle.mkv")
	if err != nil {
		b.Fatal(err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	defer img.Close()
	if !vc.Read(&img) || img.Cols() != 480 || img.Rows() != 270 {
		b.Fatalf("store-aisle.mkv: want a 480x270 picture, got %dx%d", img.Cols(), img.Rows())
	}
	tiles := []image.Rectangle{image.Rect(0, 0, 270, 270), image.Rect(210, 0, 480, 270)}
	b.Run("whole", func(b *testing.B) {
		timed(b, func() error {
			_, err := d.Detect(img)
			return err
		})
	})
	b.Run("tiles2", func(b *testing.B) {
		timed(b, func() error {
			if _, err := d.Detect(img); err != nil {
				return err
			}
			for _, r := range tiles {
				roi := img.Region(r)
				_, err := d.Detect(roi)
				roi.Close()
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// batchMatchesOne fails b unless each of the n pictures in data gives, run
// alone on model m, the outputs the batched run gave it (out).
func batchMatchesOne(b *testing.B, m []byte, lib string, data []float32, n int, out []nn.Tensor) {
	b.Helper()
	net, err := nn.LoadORT(m, lib, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer net.Close()
	size := len(data) / n
	for i := range n {
		alone, err := net.Run(map[string]nn.Tensor{"input_1": {Shape: []int{1, 3, nn.InputSize, nn.InputSize}, Data: data[i*size : (i+1)*size]}}, nn.Outputs)
		if err != nil {
			b.Fatal(err)
		}
		for k, a := range alone {
			per := len(a.Data)
			if got := out[k].Data; len(got) != n*per {
				b.Fatalf("output %d: %d values for %d pictures, want %d each", k, len(got), n, per)
			}
			for j, v := range a.Data {
				if d := out[k].Data[i*per+j] - v; d > 1e-3 || d < -1e-3 {
					b.Fatalf("picture %d, output %d, value %d: %g in the batch, %g alone", i, k, j, out[k].Data[i*per+j], v)
				}
			}
		}
	}
}

// BenchmarkBatch is the network on 1 and on 4 pictures in one ONNX
// Runtime call (the same vtest.avi frame repeated), one thread: is
// batching the pictures of several cameras worth it? Compare cpu-ms per
// picture (per-picture-ms) of batch-1 and batch-4. The model
// scripts/models.sh makes takes one picture; batch-4 runs on
// VIGIL_BATCH_MODEL, made by `vigil-model convert --batch 4`.
func BenchmarkBatch(b *testing.B) {
	model, lib := ortPaths(b)
	m, err := os.ReadFile(model)
	if err != nil {
		b.Fatal(err)
	}
	blob := vtestBlob(b)
	defer blob.Close()
	one, err := blob.DataPtrFloat32()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("batch-%d", n), func(b *testing.B) {
			mm := m
			if p := os.Getenv("VIGIL_BATCH_MODEL"); p != "" && n > 1 {
				if mm, err = os.ReadFile(p); err != nil {
					b.Fatal(err)
				}
			}
			net, err := nn.LoadORT(mm, lib, 1)
			if err != nil {
				b.Fatal(err)
			}
			defer net.Close()
			// n different pictures: vtest's frame, darker each time.
			data := make([]float32, 0, n*len(one))
			for i := range n {
				for _, v := range one {
					data = append(data, v*(1-0.2*float32(i)))
				}
			}
			in := map[string]nn.Tensor{"input_1": {Shape: []int{n, 3, nn.InputSize, nn.InputSize}, Data: data}}
			out, err := net.Run(in, nn.Outputs)
			if err != nil && n > 1 {
				// scripts/models.sh converts NanoDet with its input fixed at
				// one picture: batching needs a model converted otherwise.
				b.Skipf("the model takes no batch of %d: %v", n, err)
			}
			if n > 1 {
				batchMatchesOne(b, m, lib, data, n, out)
			}
			cpu0 := cpuTime()
			timed(b, func() error {
				out, err := net.Run(in, nn.Outputs)
				if err == nil && out[0].Shape[0] != n {
					err = fmt.Errorf("output batch %d, want %d", out[0].Shape[0], n)
				}
				return err
			})
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N*n), "per-picture-ms")
		})
	}
}
