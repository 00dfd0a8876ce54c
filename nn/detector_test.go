package nn_test

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/internal/modeltool/tfjs"
	"github.com/vigil-video/vigil/nn"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// modelPath is the converted model made by scripts/models.sh: in
// $VIGIL_MODELS, else in the repository's .cache/models. The test skips
// when it is absent, unless VIGIL_REQUIRE_MODELS is set (scripts/test.sh
// sets it), then it fails.
func modelPath(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VIGIL_MODELS")
	if dir == "" {
		dir = filepath.Join("..", ".cache", "models")
	}
	p := filepath.Join(dir, "nanodet.onnx")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("VIGIL_REQUIRE_MODELS") != "" {
			t.Fatalf("model: %v (VIGIL_REQUIRE_MODELS is set; make it with %s)", err, nn.SetupCommand)
		}
		t.Skipf("no model at %s: make it with %s (VIGIL_REQUIRE_MODELS=1 turns this skip into a failure)", p, nn.SetupCommand)
	}
	return p
}

// vtestPeople are the people of vtest.avi's frames 100, 400 and 700, boxes
// drawn by looking at the frames (people mostly visible).
var vtestPeople = map[int][]image.Rectangle{
	100: {
		image.Rect(345, 197, 384, 275), // woman in black, walking left
		image.Rect(376, 178, 411, 256), // man facing the camera
		image.Rect(493, 150, 519, 219), // couple, left
		image.Rect(512, 151, 542, 219), // couple, right
		image.Rect(588, 157, 619, 235), // man on the road
		image.Rect(222, 62, 238, 95),   // far, on the path at the top left (33 px)
	},
	400: {
		image.Rect(271, 198, 302, 286), // man on the path
		image.Rect(588, 141, 618, 203), // man on the road, far
		image.Rect(687, 300, 745, 410), // man with papers, near
	},
	700: {
		image.Rect(102, 286, 145, 396), // woman on the grass
		image.Rect(185, 167, 211, 239),
		image.Rect(277, 211, 312, 295), // blue jacket
		image.Rect(364, 175, 398, 255),
		image.Rect(474, 137, 498, 200), // red jacket
		image.Rect(518, 165, 547, 233),
		image.Rect(681, 217, 738, 307),
	},
}

func open(t testing.TB) *nn.Detector {
	t.Helper()
	d, err := nn.Open(modelPath(t), nn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// frames reads the given 0-based frame numbers (ascending) of vtest.avi.
func frames(t testing.TB, want ...int) []gocv.Mat {
	t.Helper()
	if _, err := os.Stat(vtest); err != nil {
		t.Fatalf("real footage: %v (scripts/setup.sh installs opencv-doc)", err)
	}
	vc, err := gocv.VideoCaptureFile(vtest)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	var out []gocv.Mat
	img := gocv.NewMat()
	defer img.Close()
	for i := 0; len(out) < len(want); i++ {
		if !vc.Read(&img) || img.Empty() {
			t.Fatalf("vtest.avi ended at frame %d, before frame %d", i, want[len(out)])
		}
		if i == want[len(out)] {
			out = append(out, img.Clone())
		}
	}
	t.Cleanup(func() {
		for _, m := range out {
			m.Close()
		}
	})
	return out
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	return i / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i)
}

func describe(objs []nn.Object) string {
	var s []string
	for _, o := range objs {
		s = append(s, fmt.Sprintf("%s %.2f %v", o.Label, o.Score, o.Box))
	}
	return strings.Join(s, "; ")
}

// TestPeopleInVtest runs the converted model on real footage: every person
// in these frames (boxes drawn by looking at the frames: people mostly
// visible) is found with an overlap of at least 0.5,
// every person scored 0.5 or more is one of them, and the white van parked
// at the top right is a vehicle.
func TestPeopleInVtest(t *testing.T) {
	d := open(t)
	truth := vtestPeople
	nums := []int{100, 400, 700}
	van := image.Rect(652, 44, 725, 99)
	// The whole 4:3 frame, and a 16:9 band of it (as a substream would
	// frame it) holding every labelled person.
	views := []image.Rectangle{image.Rect(0, 0, 768, 576), image.Rect(0, 40, 768, 472)}
	for i, img := range frames(t, nums...) {
		for _, view := range views {
			t.Run(fmt.Sprintf("frame %d view %v", nums[i], view), func(t *testing.T) {
				region := img.Region(view)
				defer region.Close()
				objs, err := d.Detect(region)
				if err != nil {
					t.Fatal(err)
				}
				t.Log(describe(objs))
				var gt []image.Rectangle
				for _, r := range truth[nums[i]] {
					gt = append(gt, r.Sub(view.Min))
				}
				checkPeople(t, objs, gt, nil, van.Sub(view.Min))
			})
		}
	}
}

// checkPeople: every labelled person is found with an overlap of at least
// 0.5, every person scored 0.5 or more is one of them or of also (people
// that need not be found), the van is a vehicle, and labels agree with
// classes.
func checkPeople(t *testing.T, objs []nn.Object, gt, also []image.Rectangle, van image.Rectangle) {
	t.Helper()
	for _, want := range gt {
		found := slices.ContainsFunc(objs, func(o nn.Object) bool { return o.Label == "person" && iou(o.Box, want) >= 0.5 })
		if !found {
			t.Errorf("no person at %v", want)
		}
	}
	for _, o := range objs {
		if o.Label != "person" || o.Score < 0.5 {
			continue
		}
		if !slices.ContainsFunc(append(slices.Clone(gt), also...), func(want image.Rectangle) bool { return iou(o.Box, want) >= 0.5 }) {
			t.Errorf("person %.2f at %v is no one", o.Score, o.Box)
		}
	}
	vehicle := slices.ContainsFunc(objs, func(o nn.Object) bool {
		return (o.Label == "car" || o.Label == "truck" || o.Label == "bus") && iou(o.Box, van) >= 0.5
	})
	if !vehicle {
		t.Errorf("the parked van at %v is not found", van)
	}
	for _, o := range objs {
		if o.Class < 0 || o.Class >= len(nn.Labels) || nn.Labels[o.Class] != o.Label || o.Score > 1 || o.Score < 0.35 {
			t.Errorf("object %+v: label and class disagree or score out of range", o)
		}
	}
}

// TestNoPersonInEmptyScenes: the still background of vtest.avi (the
// median of frames spread over the clip, so the walkers vanish), a grey
// picture with a person-sized dark rectangle drawn on it, and a black
// picture hold no person: none at least 48 px tall (the person)
// and none scored 0.5 or more. (An orange traffic cone 21 px tall in
// vtest.avi scores 0.3-0.46 as a person, frame to frame: small boxes near
// the default MinScore are not to be trusted.)
func TestNoPersonInEmptyScenes(t *testing.T) {
	d := open(t)
	nums := []int{0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660, 720, 780, 790}
	if testing.Short() {
		nums = []int{0, 200, 400, 600, 790}
	}
	bg := median(t, frames(t, nums...))
	defer bg.Close()
	rect := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), 576, 768, gocv.MatTypeCV8UC3)
	defer rect.Close()
	gocv.Rectangle(&rect, image.Rect(360, 200, 400, 320), color.RGBA{30, 30, 30, 0}, -1)
	black := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
	defer black.Close()
	for name, img := range map[string]gocv.Mat{"vtest background": bg, "drawn rectangle": rect, "black": black} {
		objs, err := d.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", name, describe(objs))
		for _, o := range objs {
			if o.Label == "person" && (o.Box.Dy() >= 48 || o.Score >= 0.5) {
				t.Errorf("%s: person %.2f at %v", name, o.Score, o.Box)
			}
		}
	}
}

// median is the per-pixel median of pictures of one size.
func median(t *testing.T, imgs []gocv.Mat) gocv.Mat {
	t.Helper()
	var planes [][]byte
	for _, m := range imgs {
		planes = append(planes, m.ToBytes())
	}
	out := make([]byte, len(planes[0]))
	v := make([]byte, len(planes))
	for i := range out {
		for k, p := range planes {
			v[k] = p[i]
		}
		slices.Sort(v)
		out[i] = v[len(v)/2]
	}
	m, err := gocv.NewMatFromBytes(imgs[0].Rows(), imgs[0].Cols(), gocv.MatTypeCV8UC3, out)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOpenMissingModel: without the model, or without ONNX Runtime's
// library, Open's error wraps fs.ErrNotExist and names the missing file
// and the setup command.
func TestOpenMissingModel(t *testing.T) {
	check := func(t *testing.T, model, lib, want string) {
		_, err := nn.Open(model, nn.Options{Library: lib})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("error %v does not wrap fs.ErrNotExist", err)
		}
		for _, want := range []string{want, "scripts/models.sh"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
	}
	t.Run("model", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nanodet.onnx")
		check(t, missing, "", missing)
	})
	t.Run("library", func(t *testing.T) {
		lib := filepath.Join(t.TempDir(), nn.ORTLibrary)
		check(t, modelPath(t), lib, lib)
	})
}

// TestOpenCorruptModel: a model file that is not ONNX is an error naming
// it, not a crash.
func TestOpenCorruptModel(t *testing.T) {
	lib, err := filepath.Abs(filepath.Join(filepath.Dir(modelPath(t)), nn.ORTLibrary))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "nanodet.onnx")
	if err := os.WriteFile(p, []byte("<html>not found</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = nn.Open(p, nn.Options{Library: lib})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v, want one naming %s", err, p)
	}
}

func TestDetectRejectsBadPictures(t *testing.T) {
	d := open(t)
	empty := gocv.NewMat()
	defer empty.Close()
	gray := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8UC1)
	defer gray.Close()
	for name, m := range map[string]gocv.Mat{"empty": empty, "one channel": gray} {
		if _, err := d.Detect(m); err == nil {
			t.Errorf("%s picture: no error", name)
		}
	}
}

// TestPeopleInVtestAt640: NanoDet converted for a 640x640 picture
// (vigil-model convert --input 640: a larger input for people far away)
// finds the same people in vtest.avi as at 416 (TestPeopleInVtest's
// frames and boxes, whole frame), so its heads are decoded on their
// larger grids; it also finds one the list leaves out, a man half behind
// the lamp post in frame 700 (0.64; under 0.35 at 416).
func TestPeopleInVtestAt640(t *testing.T) {
	dir := filepath.Dir(modelPath(t))
	m, err := tfjs.ConvertWith(filepath.Join(dir, "nanodet.json"), tfjs.Options{Input: 640})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "nanodet-640.onnx")
	if err := tfjs.WriteFile(m, p); err != nil {
		t.Fatal(err)
	}
	d, err := nn.Open(p, nn.Options{Library: filepath.Join(dir, nn.ORTLibrary)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if w, h := d.InputSize(); w != 640 || h != 640 || d.Family() != "NanoDet 640x640" {
		t.Fatalf("input %dx%d (%s), want 640x640", w, h, d.Family())
	}
	van := image.Rect(652, 44, 725, 99)
	for i, img := range frames(t, 100, 400, 700) {
		objs, err := d.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(describe(objs))
		var also []image.Rectangle
		if i == 2 {
			also = []image.Rectangle{image.Rect(403, 150, 424, 207)} // behind the lamp post
		}
		checkPeople(t, objs, vtestPeople[[]int{100, 400, 700}[i]], also, van)
	}
}
