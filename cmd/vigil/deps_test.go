package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLeavesOutSetupTools: the vigil binary links neither the model
// converter (command vigil-model) nor the runtimes only tests use.
func TestBinaryLeavesOutSetupTools(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, bad := range []string{"/internal/modeltool/", "/internal/cvdnn"} {
			if strings.Contains(p+"/", bad) {
				t.Errorf("vigil links %s", p)
			}
		}
	}
}
