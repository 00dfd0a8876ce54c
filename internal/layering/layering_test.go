package layering

import (
	"os/exec"
	"strings"
	"testing"
)

// heavy are the packages a light package must not link: OpenCV, ONNX
// Runtime, the FFmpeg decoder, the detectors, the RTSP client and the
// broker clients, and the project's packages built on them (ingest,
// delivery with its outbox and sinks, evidence, the incident history).
var heavy = []string{
	"gocv.io/",
	"github.com/yalue/onnxruntime_go",
	"github.com/vigil-video/vigil/decode",
	"github.com/vigil-video/vigil/analyze",
	"github.com/vigil-video/vigil/nn",
	"github.com/bluenviron/gortsplib/",
	"github.com/eclipse/paho.mqtt.golang",
	"github.com/prometheus/exporter-toolkit",
	"github.com/nats-io/",
	"github.com/vigil-video/vigil/ingest",
	"github.com/vigil-video/vigil/delivery",
	"github.com/vigil-video/vigil/outbox",
	"github.com/vigil-video/vigil/sink",
	"github.com/vigil-video/vigil/evidence",
	"github.com/vigil-video/vigil/history",
}

// light lists the packages checked and, for each, the packages it may
// import although they are heavy or link something heavy: the walk does
// not go past them.
var light = map[string][]string{
	"github.com/vigil-video/vigil/gate":     nil,
	"github.com/vigil-video/vigil/config":   nil,
	"github.com/vigil-video/vigil/health":   nil,
	"github.com/vigil-video/vigil/incident": nil,
	"github.com/vigil-video/vigil/frigate":  nil,
	// cluster coordinates over NATS.
	"github.com/vigil-video/vigil/cluster": {"github.com/nats-io/"},
}

// TestLightPackages walks each light package's imports (go list -deps)
// and fails on a heavy package, naming the chain of imports that brings
// it in.
func TestLightPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for pkg, allowed := range light {
		t.Run(pkg[strings.LastIndex(pkg, "/")+1:], func(t *testing.T) {
			imports := goListImports(t, pkg)
			for _, chain := range heavyChains(pkg, imports, allowed) {
				t.Errorf("%s links a heavy package: %s", pkg, strings.Join(chain, " -> "))
			}
		})
	}
}

// TestHeavyChainsFindsIndirect: the walk reports a heavy package reached
// through light ones, and stops at an allowed one.
func TestHeavyChainsFindsIndirect(t *testing.T) {
	imports := map[string][]string{
		"a":                          {"b", "allowed"},
		"b":                          {"gocv.io/x/gocv"},
		"allowed":                    {"github.com/nats-io/nats.go"},
		"gocv.io/x/gocv":             nil,
		"github.com/nats-io/nats.go": nil,
	}
	got := heavyChains("a", imports, []string{"allowed"})
	if len(got) != 1 || strings.Join(got[0], " ") != "a b gocv.io/x/gocv" {
		t.Errorf("chains = %q, want [[a b gocv.io/x/gocv]]", got)
	}
	if got := heavyChains("a", imports, nil); len(got) != 2 {
		t.Errorf("without allowances: chains = %q, want 2", got)
	}
}

// goListImports returns the import graph of pkg and its dependencies.
func goListImports(t *testing.T, pkg string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	imports := make(map[string][]string)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			imports[f[0]] = f[1:]
		}
	}
	return imports
}

// heavyChains walks the imports from root, breadth first, not past an
// allowed package, and returns the shortest import chain to each heavy
// package found.
func heavyChains(root string, imports map[string][]string, allowed []string) [][]string {
	from := map[string]string{root: ""}
	queue := []string{root}
	var chains [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p != root && matches(p, allowed) {
			continue
		}
		if matches(p, heavy) {
			var chain []string
			for q := p; q != ""; q = from[q] {
				chain = append([]string{q}, chain...)
			}
			chains = append(chains, chain)
			continue
		}
		for _, q := range imports[p] {
			if _, seen := from[q]; !seen {
				from[q] = p
				queue = append(queue, q)
			}
		}
	}
	return chains
}

// matches reports whether pkg is one of prefixes or under one ending in /.
func matches(pkg string, prefixes []string) bool {
	for _, p := range prefixes {
		if pkg == p || strings.HasSuffix(p, "/") && strings.HasPrefix(pkg, p) || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}
