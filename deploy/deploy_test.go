// Package deploy holds vigil's operations kit (the container build file, the
// systemd unit, Prometheus alert rules and a Grafana dashboard) and the
// tests that check each one against the real thing: BuildKit's Dockerfile
// linter and the libraries a built binary links, systemd-analyze verify,
// promtool, and the /metrics of a running engine.
package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// vigilBin is the engine built once for the package's tests.
var vigilBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vigilBin = filepath.Join(dir, "vigil")
	build := exec.Command("go", "build", "-o", vigilBin, "./cmd/vigil")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build vigil:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tool returns the path of an external program, or skips the test with
// how to install it; with VIGIL_REQUIRE_TOOLS set (CI), a missing program
// fails the test instead.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is not installed (apt-get install %s) and VIGIL_REQUIRE_TOOLS is set", name, pkg)
		}
		t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	}
	return p
}
