package nn_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/nn"
)

// The model is made at setup (scripts/models.sh); without it, fall back
// to a detector that needs no setup.
func ExampleOpen() {
	d, err := nn.Open(config.DefaultModelPath, nn.Options{Threads: 1, MinScore: 0.35})
	if errors.Is(err, fs.ErrNotExist) {
		log.Printf("no object model, people by HOG only: %v", err)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	img := gocv.IMRead("frame.png", gocv.IMReadColor)
	defer img.Close()
	objs, err := d.Detect(img)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range objs {
		fmt.Println(o.Label, o.Score, o.Box)
	}
}
